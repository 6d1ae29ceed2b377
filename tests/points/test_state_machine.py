"""The ledger services against a small reference model, driven by Hypothesis.

Random operations (purchases, fresh, replayed and conflicting; grants; negative adjustments;
captures for new tickets and capture replays; raising and lowering holds; settling, releasing,
refunding) and random clock moves (small steps, big jumps, straight to a lot's expiry instant or
a microsecond either side of it, across 29 February 2028) are applied both to the real ledger
and to the model below, which implements the rules of SPEC §4 on its own. After every step the
available balance, the captured total, the next expiry, every lot and every hold must agree.

A failure prints the seed; replay it with
    .venv/bin/pytest tests/points/test_state_machine.py --hypothesis-seed=N
(or the printed `@reproduce_failure(...)` blob, which needs the same Hypothesis version).
Shrinking is off to keep a failing run short (each step hits the database); set
LEDGER_SHRINK=1 to have Hypothesis reduce the failing example to its shortest form.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    precondition,
    rule,
)

from points.audit import ledger_violations
from points.models import HoldAllocation, HoldStatus, Lot, LotKind
from points.selectors import points_available, points_summary
from points.services import (
    HoldConflict,
    InsufficientPoints,
    InvalidAmount,
    PaymentReferenceConflict,
    hold_capture,
    hold_change,
    hold_refund,
    hold_release,
    hold_settle,
    points_adjust,
    points_grant,
    points_purchase,
)
from tests.factories import AccountFactory, IssueCategoryFactory, TicketFactory
from tests.points.support import expire_at

ZONE_NAME = "Europe/Berlin"
ZONE = ZoneInfo(ZONE_NAME)
GRACE = timedelta(days=30)
START = datetime(2027, 12, 30, 21, 0, tzinfo=UTC)
LEAP_DAY = datetime(2028, 2, 29, tzinfo=ZONE)
MICROSECOND = timedelta(microseconds=1)

STEPS = [
    MICROSECOND,
    timedelta(seconds=1),
    timedelta(hours=1),
    timedelta(hours=20),
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=29),
    timedelta(days=31),
    timedelta(days=200),
    timedelta(days=366),
]
GRANT_VALIDITY = [
    None,  # like a purchase
    MICROSECOND,
    timedelta(seconds=1),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=10),
    timedelta(days=30),
    timedelta(days=90),
]
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
if os.environ.get("LEDGER_SHRINK") == "1":
    PHASES.append(Phase.shrink)

# Which hold an operation picks: any, an active one, or an active one holding expired points.
PREFER = st.sampled_from(["any", "active", "expired"])

# What the examples went through, to make sure the interesting cases are reached.
SEEN: Counter = Counter()


def expected_purchase_expiry(at: datetime) -> datetime:
    """Local midnight, two years after the local purchase day; 29 February → 28 February."""
    day = at.astimezone(ZONE).date()
    year = day.year + 2
    if (day.month, day.day) == (2, 29):
        SEEN["purchase on 29 February"] += 1
        return datetime(year, 2, 28, tzinfo=ZONE)
    return datetime.combine(date(year, day.month, day.day), datetime.min.time(), tzinfo=ZONE)


@dataclass
class ModelLot:
    id: int
    kind: str
    points: int
    remaining: int
    acquired: datetime
    expires: datetime
    source: int | None = None
    recorded: bool = False  # the expiry job marked it expired

    def sort_key(self):
        return (self.expires, self.acquired, self.id)


@dataclass
class ModelHold:
    status: str = HoldStatus.OPEN
    amount: int = 0
    allocations: dict[int, int] = field(default_factory=dict)


class LedgerModel:
    """The rules of the ledger, for one account, independently of the services."""

    def __init__(self):
        self.lots: dict[int, ModelLot] = {}
        self.holds: dict[int, ModelHold] = {}
        self.pending_returns: list[tuple[int, int, datetime, datetime]] = []

    def available(self, at) -> int:
        return sum(lot.remaining for lot in self.spendable(at))

    def spendable(self, at) -> list[ModelLot]:
        lots = [lot for lot in self.lots.values() if lot.remaining > 0 and lot.expires > at]
        return sorted(lots, key=ModelLot.sort_key)

    def take(self, points: int, at) -> list[tuple[int, int]]:
        """Soonest-expiring first; raise InsufficientPoints (with what is missing) otherwise."""
        available = self.available(at)
        if points > available:
            SEEN["not enough points"] += 1
            raise InsufficientPoints(required=points, available=available)
        taken = []
        for lot in self.spendable(at):
            if not points:
                break
            part = min(points, lot.remaining)
            lot.remaining -= part
            points -= part
            taken.append((lot.id, part))
        return taken

    def draw(self, hold: ModelHold, points: int, at) -> None:
        for lot_id, part in self.take(points, at):
            hold.allocations[lot_id] = hold.allocations.get(lot_id, 0) + part

    def give_back(self, hold: ModelHold, points: int, at) -> None:
        """Latest-expiring allocations first; points of expired lots come back as return lots."""
        held = [self.lots[lot_id] for lot_id, amount in hold.allocations.items() if amount]
        for lot in sorted(held, key=ModelLot.sort_key, reverse=True):
            if not points:
                break
            part = min(points, hold.allocations[lot.id])
            hold.allocations[lot.id] -= part
            points -= part
            if lot.expires > at:
                lot.remaining += part
            else:
                self.pending_returns.append((lot.id, part, at, at + GRACE))
                SEEN["points returned after their lot expired"] += 1
        assert points == 0

    def next_expiry(self, at) -> tuple[int, datetime | None]:
        lots = self.spendable(at)
        if not lots:
            return 0, None
        first = lots[0].expires
        return sum(lot.remaining for lot in lots if lot.expires == first), first


class LedgerMachine(RuleBasedStateMachine):
    category = None  # set by the test

    def __init__(self):
        super().__init__()
        self.account = AccountFactory()
        self.other = AccountFactory()
        self.now = START
        self.model = LedgerModel()
        self.tickets = {}
        self.references: dict[str, int] = {}
        self.other_reference = f"OTHER-{self.other.id}"
        points_purchase(
            account=self.other, points=50, payment_reference=self.other_reference, at=self.now
        )

    # --- helpers ---------------------------------------------------------------------------------

    def add_lot(self, lot: Lot) -> ModelLot:
        stored = Lot.objects.get(pk=lot.pk)
        model_lot = ModelLot(
            id=stored.id,
            kind=stored.kind,
            points=stored.points,
            remaining=stored.points,
            acquired=self.now,
            expires=stored.expires_at,
            source=stored.source_lot_id,
        )
        self.model.lots[stored.id] = model_lot
        return model_lot

    def adopt_return_lots(self) -> None:
        """Match the return lots the services created with those the model expects."""
        created = list(
            Lot.objects.filter(account=self.account)
            .exclude(id__in=list(self.model.lots))
            .order_by("id")
            .values_list("id", "kind", "source_lot_id", "points", "acquired_at", "expires_at")
        )
        expected = [
            (LotKind.RETURN, source, points, acquired, expires)
            for source, points, acquired, expires in self.model.pending_returns
        ]
        assert [row[1:] for row in created] == expected
        for (lot_id, *_), (source, points, acquired, expires) in zip(
            created, self.model.pending_returns, strict=True
        ):
            self.model.lots[lot_id] = ModelLot(
                lot_id, LotKind.RETURN, points, points, acquired, expires, source
            )
        self.model.pending_returns.clear()

    def ticket_with_hold(self, index: int, prefer: str, status: str = HoldStatus.OPEN):
        """A ticket with a hold; preferably one in `status` ("active"), or in `status` and
        holding points of an expired lot ("expired"), when there is one."""

        def wanted(hold):
            if prefer == "any":
                return True
            if hold.status != status:
                return False
            return prefer == "active" or any(
                amount and self.model.lots[lot].expires <= self.now
                for lot, amount in hold.allocations.items()
            )

        ticket_ids = sorted(
            ticket for ticket, hold in self.model.holds.items() if wanted(hold)
        ) or sorted(self.model.holds)
        return self.tickets[ticket_ids[index % len(ticket_ids)]]

    def hold_of(self, ticket) -> ModelHold:
        return self.model.holds[ticket.pk]

    @initialize(
        points=st.integers(min_value=1, max_value=300),
        validity=st.sampled_from(GRANT_VALIDITY[1:]),
        held=st.integers(min_value=0, max_value=120),
    )
    def start_with_short_lived_points_held_for_a_ticket(self, points, validity, held):
        self.grant(points, validity)
        self.capture(held)

    # --- the clock -------------------------------------------------------------------------------

    @rule(step=st.sampled_from(STEPS))
    def advance_clock(self, step):
        self.now += step

    @precondition(lambda self: any(lot.expires > self.now for lot in self.model.lots.values()))
    @rule(
        index=st.integers(min_value=0),
        nudge=st.sampled_from([-MICROSECOND, timedelta(0)]),
        run_job=st.booleans(),
    )
    def jump_to_an_expiry(self, index, nudge, run_job):
        """To a lot's expiry instant (due from then on) or the last microsecond before it."""
        expiries = sorted(
            {lot.expires for lot in self.model.lots.values() if lot.expires > self.now}
        )
        target = expiries[index % len(expiries)]
        self.now = max(self.now, target + nudge)
        if run_job:
            self.expiry_job()

    def held_lot_expiries(self) -> list[datetime]:
        held = {
            lot_id
            for hold in self.model.holds.values()
            if hold.status in (HoldStatus.OPEN, HoldStatus.SETTLED)
            for lot_id, amount in hold.allocations.items()
            if amount
        }
        return sorted(
            {
                self.model.lots[lot].expires
                for lot in held
                if self.model.lots[lot].expires > self.now
            }
        )

    @precondition(lambda self: self.held_lot_expiries())
    @rule(
        index=st.integers(min_value=0),
        nudge=st.sampled_from([timedelta(0), MICROSECOND]),
        run_job=st.booleans(),
    )
    def let_a_held_lot_expire(self, index, nudge, run_job):
        expiries = self.held_lot_expiries()
        self.now = expiries[index % len(expiries)] + nudge
        if run_job:
            self.expiry_job()

    @precondition(lambda self: self.now < LEAP_DAY + timedelta(days=1))
    @rule(
        minutes=st.integers(min_value=0, max_value=24 * 60 - 1),
        points=st.integers(min_value=1, max_value=500),
    )
    def buy_on_29_february_2028(self, minutes, points):
        """Local time: early on 29 February in Berlin is still 28 February in UTC."""
        self.now = max(self.now, LEAP_DAY + timedelta(minutes=minutes))
        self.purchase(points)

    # --- credits ---------------------------------------------------------------------------------

    @rule(points=st.integers(min_value=1, max_value=500))
    def buy(self, points):
        self.purchase(points)

    def purchase(self, points):
        reference = f"PAY-{self.account.id}-{len(self.references)}"
        lot = points_purchase(
            account=self.account, points=points, payment_reference=reference, at=self.now
        )
        assert Lot.objects.get(pk=lot.pk).expires_at == expected_purchase_expiry(self.now)
        self.add_lot(lot)
        self.references[reference] = lot.pk

    @precondition(lambda self: self.references)
    @rule(index=st.integers(min_value=0))
    def replay_a_purchase(self, index):
        reference = sorted(self.references)[index % len(self.references)]
        lot_id = self.references[reference]
        points = self.model.lots[lot_id].points
        lot = points_purchase(
            account=self.account, points=points, payment_reference=reference, at=self.now
        )
        assert lot.pk == lot_id

    @precondition(lambda self: self.references)
    @rule(index=st.integers(min_value=0), more=st.integers(min_value=1, max_value=10))
    def conflicting_purchase(self, index, more):
        reference = sorted(self.references)[index % len(self.references)]
        points = self.model.lots[self.references[reference]].points + more
        with pytest.raises(PaymentReferenceConflict):
            points_purchase(
                account=self.account, points=points, payment_reference=reference, at=self.now
            )
        with pytest.raises(PaymentReferenceConflict):
            points_purchase(
                account=self.account,
                points=50,
                payment_reference=self.other_reference,
                at=self.now,
            )

    @rule(points=st.integers(min_value=1, max_value=300), validity=st.sampled_from(GRANT_VALIDITY))
    def grant(self, points, validity):
        expires_at = None if validity is None else self.now + validity
        lot = points_grant(
            account=self.account,
            points=points,
            reason="state machine",
            actor=None,
            expires_at=expires_at,
            at=self.now,
        )
        model_lot = self.add_lot(lot)
        assert model_lot.expires == (expires_at or expected_purchase_expiry(self.now))

    @rule(points=st.integers(min_value=1, max_value=400))
    def adjust_down(self, points):
        try:
            self.model.take(points, self.now)
        except InsufficientPoints as expected:
            with pytest.raises(InsufficientPoints) as refused:
                points_adjust(
                    account=self.account, points=-points, reason="fix", actor=None, at=self.now
                )
            assert refused.value.missing == expected.missing
        else:
            points_adjust(
                account=self.account, points=-points, reason="fix", actor=None, at=self.now
            )

    # --- holds -----------------------------------------------------------------------------------

    @rule(points=st.integers(min_value=0, max_value=120))
    def capture(self, points):
        ticket = TicketFactory(account=self.account, category=self.category)
        self.tickets[ticket.pk] = ticket
        hold = ModelHold(amount=points)
        try:
            self.model.draw(hold, points, self.now)
        except InsufficientPoints as expected:
            with pytest.raises(InsufficientPoints) as refused:
                hold_capture(ticket=ticket, points=points, at=self.now)
            assert (refused.value.missing, refused.value.available) == (
                expected.missing,
                expected.available,
            )
            assert f"{expected.missing} more points" in str(refused.value)
        else:
            hold_capture(ticket=ticket, points=points, at=self.now)
            self.model.holds[ticket.pk] = hold

    @precondition(lambda self: self.model.holds)
    @rule(index=st.integers(min_value=0), same=st.booleans())
    def capture_again(self, index, same):
        ticket = self.ticket_with_hold(index, "any")
        hold = self.hold_of(ticket)
        points = hold.amount if same else hold.amount + 1
        if same and hold.status == HoldStatus.OPEN:
            assert hold_capture(ticket=ticket, points=points, at=self.now).ticket_id == ticket.pk
        else:
            with pytest.raises(HoldConflict):
                hold_capture(ticket=ticket, points=points, at=self.now)

    @precondition(lambda self: self.model.holds)
    @rule(index=st.integers(min_value=0), points=st.integers(0, 200), prefer=PREFER)
    def change(self, index, points, prefer):
        self.change_hold(self.ticket_with_hold(index, prefer), points)

    @precondition(lambda self: self.model.holds)
    @rule(index=st.integers(min_value=0), prefer=PREFER)
    def settle(self, index, prefer):
        self.settle_hold(self.ticket_with_hold(index, prefer))

    @precondition(lambda self: self.model.holds)
    @rule(index=st.integers(min_value=0), prefer=PREFER)
    def release(self, index, prefer):
        self.release_hold(self.ticket_with_hold(index, prefer))

    @precondition(lambda self: self.model.holds)
    @rule(
        index=st.integers(min_value=0),
        points=st.none() | st.integers(min_value=1, max_value=150),
        prefer=PREFER,
    )
    def refund(self, index, points, prefer):
        self.refund_hold(self.ticket_with_hold(index, prefer, HoldStatus.SETTLED), points)

    def expired_points_held(self) -> list[int]:
        """Tickets whose open or settled hold still holds points of an expired lot."""
        return sorted(
            ticket
            for ticket, hold in self.model.holds.items()
            if hold.status in (HoldStatus.OPEN, HoldStatus.SETTLED)
            and any(
                amount and self.model.lots[lot].expires <= self.now
                for lot, amount in hold.allocations.items()
            )
        )

    @precondition(expired_points_held)
    @rule(index=st.integers(min_value=0), part=st.sampled_from([None, 2, 3]))
    def give_back_points_of_an_expired_lot(self, index, part):
        """Release or lower an open hold, or refund a settled one, that holds expired points."""
        tickets = self.expired_points_held()
        ticket = self.tickets[tickets[index % len(tickets)]]
        hold = self.hold_of(ticket)
        if hold.status == HoldStatus.SETTLED:
            self.refund_hold(ticket, None if part is None else max(1, hold.amount // part))
        elif part is None:
            self.release_hold(ticket)
        else:
            self.change_hold(ticket, hold.amount // part)

    def change_hold(self, ticket, points):
        hold = self.hold_of(ticket)

        def call():
            return hold_change(
                ticket=ticket, points=points, reason="revised", actor=None, at=self.now
            )

        if hold.status != HoldStatus.OPEN:
            with pytest.raises(HoldConflict):
                call()
            return
        difference = points - hold.amount
        if difference > 0:
            try:
                self.model.draw(hold, difference, self.now)
            except InsufficientPoints as expected:
                with pytest.raises(InsufficientPoints) as refused:
                    call()
                assert refused.value.missing == expected.missing
                return
        elif difference < 0:
            self.model.give_back(hold, -difference, self.now)
        hold.amount = points
        call()

    def settle_hold(self, ticket):
        hold = self.hold_of(ticket)
        if hold.status == HoldStatus.RELEASED:
            with pytest.raises(HoldConflict):
                hold_settle(ticket=ticket, at=self.now)
            return
        if hold.status == HoldStatus.OPEN:
            hold.status = HoldStatus.SETTLED
        hold_settle(ticket=ticket, at=self.now)

    def release_hold(self, ticket):
        hold = self.hold_of(ticket)
        if hold.status in (HoldStatus.SETTLED, HoldStatus.REFUNDED):
            with pytest.raises(HoldConflict):
                hold_release(ticket=ticket, reason="cancelled", at=self.now)
            return
        if hold.status == HoldStatus.OPEN:
            self.model.give_back(hold, hold.amount, self.now)
            hold.status, hold.amount = HoldStatus.RELEASED, 0
        hold_release(ticket=ticket, reason="cancelled", at=self.now)

    def refund_hold(self, ticket, points):
        hold = self.hold_of(ticket)

        def call():
            return hold_refund(
                ticket=ticket, points=points, reason="software bug", actor=None, at=self.now
            )

        if hold.status in (HoldStatus.OPEN, HoldStatus.RELEASED):
            with pytest.raises(HoldConflict):
                call()
            return
        if hold.status == HoldStatus.REFUNDED:
            call()
            return
        if points is not None and points > hold.amount:
            with pytest.raises(InvalidAmount):
                call()
            return
        returned = hold.amount if points is None else points
        self.model.give_back(hold, returned, self.now)
        hold.amount -= returned
        if hold.amount == 0:
            hold.status = HoldStatus.REFUNDED
        call()

    # --- the expiry job --------------------------------------------------------------------------

    @rule()
    def expiry_job(self):
        expire_at(self.now)
        for lot in self.model.lots.values():
            if lot.expires <= self.now and not lot.recorded:
                SEEN["expiry recorded"] += 1
                lot.recorded, lot.remaining = True, 0

    # --- checks ----------------------------------------------------------------------------------

    @invariant()
    def ledger_matches_the_model(self):
        self.adopt_return_lots()
        model = self.model
        assert points_available(account=self.account, at=self.now) == model.available(self.now)
        summary = points_summary(account=self.account, at=self.now)
        open_holds = [h for h in model.holds.values() if h.status == HoldStatus.OPEN]
        assert (summary.available, summary.captured) == (
            model.available(self.now),
            sum(hold.amount for hold in open_holds),
        )
        assert (summary.next_expiry_points, summary.next_expiry_at) == model.next_expiry(self.now)

        lots = {
            lot_id: (kind, points, remaining, expires_at, source, expired_at is not None)
            for lot_id, kind, points, remaining, expires_at, source, expired_at in (
                Lot.objects.filter(account=self.account).values_list(
                    "id", "kind", "points", "remaining", "expires_at", "source_lot", "expired_at"
                )
            )
        }
        assert lots == {
            lot.id: (lot.kind, lot.points, lot.remaining, lot.expires, lot.source, lot.recorded)
            for lot in model.lots.values()
        }

        holds = {
            hold.ticket_id: (hold.status, hold.amount)
            for hold in self.account.holds.all().only("ticket_id", "status", "amount")
        }
        assert holds == {ticket: (h.status, h.amount) for ticket, h in model.holds.items()}
        allocated = {
            (ticket, lot): amount
            for ticket, lot, amount in HoldAllocation.objects.filter(
                hold__account=self.account, amount__gt=0
            ).values_list("hold__ticket_id", "lot_id", "amount")
        }
        assert allocated == {
            (ticket, lot): amount
            for ticket, hold in model.holds.items()
            for lot, amount in hold.allocations.items()
            if amount
        }

    def teardown(self):
        assert list(ledger_violations()) == []


@pytest.mark.django_db
def test_the_ledger_behaves_like_its_reference_model(request):
    LedgerMachine.category = IssueCategoryFactory()
    SEEN.clear()
    chosen_seed = request.config.getoption("hypothesis_seed", None) or random.getrandbits(32)
    print(f"state machine seed: {chosen_seed} (replay with --hypothesis-seed={chosen_seed})")
    machine_test = get_state_machine_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            derandomize=False,
            database=None,
            print_blob=True,
            phases=PHASES,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    with override_settings(TIME_ZONE=ZONE_NAME):
        try:
            seed(int(chosen_seed))(machine_test)()
        except BaseException as error:
            error.add_note(f"Replay with: pytest {__file__} --hypothesis-seed={chosen_seed}")
            raise
    print(f"state machine went through: {dict(SEEN)}")
    assert set(SEEN) == {
        "points returned after their lot expired",
        "purchase on 29 February",
        "not enough points",
        "expiry recorded",
    }
