"""Real concurrent transactions on PostgreSQL: threads with their own connections.

Each thread opens its connection before a barrier, so the operations start together, and closes
it when done. Nothing may come out of the services but a `LedgerError` (no deadlock, no
serialization failure, no integrity error), and the ledger must be consistent afterwards.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

import points.services
from points.models import Entry, EntryKind, Hold, HoldStatus, Lot, LotKind
from points.payments import PaymentBackend
from points.selectors import points_available
from points.services import (
    HoldConflict,
    InsufficientPoints,
    LedgerError,
    PaymentReferenceConflict,
    hold_capture,
    hold_change,
    hold_refund,
    hold_release,
    hold_settle,
    lots_expire_due,
    order_create,
    order_mark_paid,
    points_adjust,
    points_grant,
    points_purchase,
)
from tests.factories import (
    AccountFactory,
    IssueCategoryFactory,
    PointPackageFactory,
    TicketFactory,
    account_owner,
)
from tests.points.support import allocations, assert_ledger_consistent
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 15


class Outcome:
    def __init__(self, value=None, refused: LedgerError | None = None, error: str | None = None):
        self.value, self.refused, self.error = value, refused, error

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error is None

    def __repr__(self):
        return f"Outcome(value={self.value!r}, refused={self.refused!r}, error={self.error})"


def run_together(*operations, timeout: float = 30) -> list[Outcome]:
    """Run each operation in its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(operations))
    outcomes: list[Outcome | None] = [None] * len(operations)

    def run(index, operation):
        try:
            connection.ensure_connection()
            barrier.wait(timeout)
            outcomes[index] = Outcome(value=operation())
        except LedgerError as refused:
            outcomes[index] = Outcome(refused=refused)
        except BaseException:
            outcomes[index] = Outcome(error=traceback.format_exc())
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, operation), daemon=True)
        for index, operation in enumerate(operations)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    errors = [outcome.error for outcome in outcomes if outcome.error]
    assert not errors, "\n".join(errors)
    return outcomes


def sleep_until(moment) -> None:
    time.sleep(max(0.0, (moment - timezone.now()).total_seconds()))


@pytest.fixture
def category(transactional_db):
    return IssueCategoryFactory()


def funded_account(points: int = 100):
    account = AccountFactory()
    points_grant(account=account, points=points, reason="test", actor=None)
    return account


# --- (a) No overspending --------------------------------------------------------------------------


def test_concurrent_captures_never_overspend(category):
    account = AccountFactory()
    for amount in (100, 100, 80):  # 7 × 40 in three lots
        points_grant(account=account, points=amount, reason="test", actor=None)
    tickets = [TicketFactory(account=account, category=category) for _ in range(20)]

    outcomes = run_together(
        *[lambda ticket=ticket: hold_capture(ticket=ticket, points=40) for ticket in tickets]
    )

    captured = [outcome.value for outcome in outcomes if outcome.ok]
    refused = [outcome.refused for outcome in outcomes if not outcome.ok]
    assert len(captured) == 7
    assert len(refused) == 13
    assert all(isinstance(error, InsufficientPoints) for error in refused)
    assert all(sum(allocations(hold).values()) == 40 for hold in captured)
    assert points_available(account=account) == 0
    assert Hold.objects.count() == 7
    assert_ledger_consistent()


# --- (b) A mixed soak -----------------------------------------------------------------------------

SOAK_SECONDS = 4
SOAK_THREADS = 6


def test_mixed_soak_of_every_operation_on_shared_accounts(category):
    seed = random.randrange(2**32)
    print(f"soak seed: {seed}")
    accounts = [AccountFactory() for _ in range(3)]
    tickets = {}
    for account in accounts:
        owner = account_owner(account)
        points_purchase(account=account, points=300, payment_reference=f"INIT-{account.id}")
        tickets[account.id] = Ticket.objects.bulk_create(
            TicketFactory.build(account=account, category=category, filed_by=owner)
            for _ in range(150)
        )
    package = PointPackageFactory(points=120)
    references: list[tuple[object, str, int]] = []
    # Tickets by stage, shared by the threads so that they race on the same holds.
    fresh = {account.id: list(tickets[account.id]) for account in accounts}
    captured = {account.id: [] for account in accounts}
    settled = {account.id: [] for account in accounts}
    deadline = time.monotonic() + SOAK_SECONDS

    def worker(number: int) -> Counter:
        rng = random.Random(seed + number)
        done: Counter = Counter()

        def pick(stage, account):
            return rng.choice(stage[account.id] or tickets[account.id])

        def capture(account):
            ticket = fresh[account.id].pop() if fresh[account.id] else pick(captured, account)
            hold_capture(ticket=ticket, points=rng.choice([0, 5, 10, 40, 120, 400]))
            captured[account.id].append(ticket)

        def change(account):
            hold_change(
                ticket=pick(captured, account),
                points=rng.randint(0, 500),
                reason="soak",
                actor=None,
            )

        def settle(account):
            ticket = pick(captured, account)
            hold_settle(ticket=ticket)
            settled[account.id].append(ticket)

        def release(account):
            hold_release(ticket=pick(captured, account), reason="soak")

        def refund(account):
            points = rng.choice([None, rng.randint(1, 30)])
            hold_refund(ticket=pick(settled, account), points=points, reason="soak", actor=None)

        def purchase(account):
            if references and rng.random() < 0.5:
                # A replay, or the same reference with other details (a conflict).
                owner, reference, points = rng.choice(references)
                if rng.random() < 0.5:
                    owner, points = account, points + 1
                points_purchase(account=owner, points=points, payment_reference=reference)
            else:
                reference = f"PAY-{number}-{rng.getrandbits(64)}"
                points = rng.randint(1, 200)
                references.append((account, reference, points))
                points_purchase(account=account, points=points, payment_reference=reference)

        def grant_short_lived(account):
            points_grant(
                account=account,
                points=rng.randint(1, 60),
                reason="expires during the soak",
                actor=None,
                expires_at=timezone.now() + timedelta(seconds=rng.uniform(0.2, 2.0)),
            )

        def adjust(account):
            points_adjust(account=account, points=-rng.randint(1, 200), reason="soak", actor=None)

        def expire(account):
            lots_expire_due(batch_size=rng.randint(1, 4))

        def order(account):
            made = order_create(
                account=account,
                package=package,
                backend=PaymentBackend.DEMO,
                actor=account_owner(account),
            )
            reference = f"ORDER-{made.id}"
            order_mark_paid(order=made, payment_reference=reference)
            order_mark_paid(order=made, payment_reference=reference)

        operations = [capture, capture, capture, change, change, settle, settle, release, refund]
        operations += [purchase, grant_short_lived, grant_short_lived, adjust, expire, order]
        while time.monotonic() < deadline:
            operation = rng.choice(operations)
            try:
                operation(rng.choice(accounts))
                done[operation.__name__] += 1
            except LedgerError as refused:
                done[type(refused).__name__] += 1
        return done

    outcomes = run_together(*[lambda n=n: worker(n) for n in range(SOAK_THREADS)])

    done = sum((outcome.value for outcome in outcomes), Counter())
    returned = Lot.objects.filter(kind=LotKind.RETURN).count()
    print(f"soak: {dict(done)}, {returned} return lots")
    assert done["capture"] and done["settle"] and done["release"] and done["expire"]
    assert done["refund"] and done["change"] and done["InsufficientPoints"]
    lots_expire_due()
    assert_ledger_consistent()


# --- (c) Targeted races ---------------------------------------------------------------------------


def test_settle_races_release_and_exactly_one_wins(category):
    for _ in range(ROUNDS):
        account = funded_account(100)
        ticket = TicketFactory(account=account, category=category)
        hold_capture(ticket=ticket, points=40)

        settle, release = run_together(
            lambda ticket=ticket: hold_settle(ticket=ticket),
            lambda ticket=ticket: hold_release(ticket=ticket, reason="cancelled"),
        )

        hold = Hold.objects.get(ticket=ticket)
        kinds = Counter(Entry.objects.filter(hold=hold).values_list("kind", flat=True))
        if hold.status == HoldStatus.SETTLED:
            assert settle.ok and isinstance(release.refused, HoldConflict)
            assert (hold.amount, points_available(account=account)) == (40, 60)
            assert EntryKind.RELEASE not in kinds
        else:
            assert hold.status == HoldStatus.RELEASED
            assert release.ok and isinstance(settle.refused, HoldConflict)
            assert (hold.amount, points_available(account=account)) == (0, 100)
            assert EntryKind.SETTLE not in kinds
    assert_ledger_consistent()


def test_the_expiry_job_races_a_capture_on_a_lot_expiring_right_then(category):
    outcomes = Counter()
    for _ in range(ROUNDS):
        account = AccountFactory()
        expiry = timezone.now() + timedelta(milliseconds=120)
        lot = points_grant(account=account, points=10, reason="test", actor=None, expires_at=expiry)
        ticket = TicketFactory(account=account, category=category)
        offset = timedelta(milliseconds=random.uniform(-2, 2))

        def job(expiry=expiry):
            sleep_until(expiry)
            return lots_expire_due()

        def capture(ticket=ticket, expiry=expiry, offset=offset):
            sleep_until(expiry + offset)
            return hold_capture(ticket=ticket, points=10)

        _job, captured = run_together(job, capture)
        lots_expire_due()  # in case the job ran a hair before the expiry

        expired = sum(
            Entry.objects.filter(lot=lot, kind=EntryKind.EXPIRE).values_list("amount", flat=True)
        )
        held = sum(
            Entry.objects.filter(lot=lot, kind=EntryKind.CAPTURE).values_list("amount", flat=True)
        )
        assert held + expired == 10, (held, expired)
        assert Lot.objects.get(pk=lot.pk).remaining == 0
        if captured.ok:
            assert (held, expired) == (10, 0)
            assert allocations(captured.value) == {lot.id: 10}
        else:
            assert isinstance(captured.refused, InsufficientPoints)
            assert (held, expired) == (0, 10)
            assert not Hold.objects.filter(ticket=ticket).exists()
        outcomes["captured" if captured.ok else "expired"] += 1
    print(f"capture vs expiry: {dict(outcomes)}")
    assert_ledger_consistent()


def test_a_cost_change_races_the_settlement(category):
    for _ in range(ROUNDS):
        account = funded_account(100)
        ticket = TicketFactory(account=account, category=category)
        hold_capture(ticket=ticket, points=40)
        new_points = random.choice([10, 60])

        change, settle = run_together(
            lambda ticket=ticket, points=new_points: hold_change(
                ticket=ticket, points=points, reason="revised", actor=None
            ),
            lambda ticket=ticket: hold_settle(ticket=ticket),
        )

        hold = Hold.objects.get(ticket=ticket)
        assert settle.ok and hold.status == HoldStatus.SETTLED
        if change.ok:
            assert hold.amount == new_points
        else:
            assert isinstance(change.refused, HoldConflict)
            assert hold.amount == 40
        settled = Entry.objects.filter(hold=hold, kind=EntryKind.SETTLE)
        assert sum(settled.values_list("amount", flat=True)) == hold.amount
        assert sum(allocations(hold).values()) == hold.amount
        assert points_available(account=account) == 100 - hold.amount
    assert_ledger_consistent()


def test_the_same_ticket_captured_twice_at_once_has_one_hold(category):
    """A double submit: the second capture is a replay (same points) or a conflict (others)."""
    for round_ in range(ROUNDS):
        account = funded_account(100)
        ticket = TicketFactory(account=account, category=category)
        same = round_ % 2 == 0

        first, second = run_together(
            lambda ticket=ticket: hold_capture(ticket=ticket, points=40),
            lambda ticket=ticket, points=40 if same else 30: hold_capture(
                ticket=ticket, points=points
            ),
        )

        hold = Hold.objects.get(ticket=ticket)
        if same:
            assert first.ok and second.ok
            assert first.value.pk == second.value.pk == hold.pk
        else:
            assert sorted([first.ok, second.ok]) == [False, True]
            loser = first if not first.ok else second
            assert isinstance(loser.refused, HoldConflict)
        assert sum(allocations(hold).values()) == hold.amount
        assert points_available(account=account) == 100 - hold.amount
    assert_ledger_consistent()


def test_the_same_purchase_confirmed_twice_at_once_makes_one_lot(transactional_db):
    for round_ in range(ROUNDS):
        account = AccountFactory()
        reference = f"PAY-{round_}"

        first, second = run_together(
            *[
                lambda account=account, reference=reference: points_purchase(
                    account=account, points=250, payment_reference=reference
                )
                for _ in range(2)
            ]
        )

        assert first.ok and second.ok
        assert first.value.pk == second.value.pk
        assert Lot.objects.filter(payment_reference=reference).count() == 1
        assert Entry.objects.filter(lot=first.value).count() == 1
        assert points_available(account=account) == 250
    assert_ledger_consistent()


def test_one_payment_reference_for_two_accounts_at_once_makes_one_lot(transactional_db):
    for round_ in range(ROUNDS):
        accounts = [AccountFactory(), AccountFactory()]
        reference = f"PAY-{round_}"

        outcomes = run_together(
            *[
                lambda account=account, reference=reference: points_purchase(
                    account=account, points=250, payment_reference=reference
                )
                for account in accounts
            ]
        )

        assert sorted(outcome.ok for outcome in outcomes) == [False, True]
        loser = next(outcome for outcome in outcomes if not outcome.ok)
        assert isinstance(loser.refused, PaymentReferenceConflict)
        assert Lot.objects.filter(payment_reference=reference).count() == 1
        assert sum(points_available(account=account) for account in accounts) == 250
    assert_ledger_consistent()


def test_an_order_marked_paid_twice_at_once_makes_one_lot(transactional_db):
    package = PointPackageFactory(points=300)
    for round_ in range(ROUNDS):
        account = AccountFactory()
        order = order_create(
            account=account,
            package=package,
            backend=PaymentBackend.MANUAL,
            actor=account_owner(account),
        )
        reference = f"BANK-{round_}"

        first, second = run_together(
            *[
                lambda order=order, reference=reference: order_mark_paid(
                    order=order, payment_reference=reference
                )
                for _ in range(2)
            ]
        )

        assert first.ok and second.ok
        assert first.value.pk == second.value.pk
        assert Lot.objects.filter(order=order).count() == 1
        assert Entry.objects.filter(order=order).count() == 1
        assert points_available(account=account) == 300
    assert_ledger_consistent()


def test_two_expiry_jobs_at_once_expire_each_lot_once(transactional_db):
    past = timezone.now() - timedelta(days=1)
    for account in [AccountFactory() for _ in range(5)]:
        for amount in range(1, 9):
            points_grant(
                account=account,
                points=amount,
                reason="test",
                actor=None,
                at=past - timedelta(days=1),
                expires_at=past + timedelta(microseconds=amount),
            )

    outcomes = run_together(*[lambda: lots_expire_due(batch_size=3) for _ in range(3)])

    assert sum(outcome.value.lots for outcome in outcomes) == 40
    assert sum(outcome.value.points for outcome in outcomes) == 5 * 36
    assert Entry.objects.filter(kind=EntryKind.EXPIRE).count() == 40
    assert not Lot.objects.filter(expired_at__isnull=True).exists()
    assert_ledger_consistent()


def test_a_return_delayed_past_its_lots_expiry_while_the_job_records_it(category, monkeypatch):
    """A release takes its time (`at`) before it locks the account. If the lot expires and the
    expiry job records it in between, the release must still return the held points.

    Here the release is delayed between reading the clock and locking the account (a busy
    server, a pause of the interpreter), while the job records the expiry of the lot.
    """
    account = AccountFactory()
    expiry = timezone.now() + timedelta(milliseconds=300)
    lot = points_grant(account=account, points=10, reason="test", actor=None, expires_at=expiry)
    ticket = TicketFactory(account=account, category=category)
    hold_capture(ticket=ticket, points=4)
    lock_hold = points.services.holds._lock_hold
    job_done = threading.Event()

    def delayed_lock_hold(ticket_id):
        job_done.wait(5)
        return lock_hold(ticket_id)

    monkeypatch.setattr(points.services.holds, "_lock_hold", delayed_lock_hold)

    def job():
        sleep_until(expiry + timedelta(milliseconds=10))
        try:
            return lots_expire_due()
        finally:
            job_done.set()

    def release():
        return hold_release(ticket=ticket, reason="cancelled")

    expired, released = run_together(job, release)

    assert expired.value.lots == 1
    assert Lot.objects.get(pk=lot.pk).expired_at is not None
    assert released.ok, released
    assert Hold.objects.get(ticket=ticket).status == HoldStatus.RELEASED
    assert points_available(account=account) == 4
    assert_ledger_consistent()
