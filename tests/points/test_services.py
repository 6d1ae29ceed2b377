"""The rules of the points ledger (SPEC §4), through `points.services`, on PostgreSQL."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from points.models import (
    Entry,
    EntryKind,
    Hold,
    HoldAllocation,
    HoldStatus,
    Lot,
    LotKind,
    Order,
    OrderStatus,
)
from points.payments import PaymentBackend
from points.selectors import points_available, points_summary
from points.services import (
    HoldConflict,
    InsufficientPoints,
    InvalidAmount,
    LedgerError,
    OrderNotPayable,
    PaymentReferenceConflict,
    ReasonRequired,
    hold_capture,
    hold_change,
    hold_refund,
    hold_release,
    hold_settle,
    order_cancel,
    order_create,
    order_mark_paid,
    points_adjust,
    points_grant,
    points_purchase,
    purchase_lot_expiry,
)
from tests.factories import AccountFactory, PointPackageFactory, account_owner
from tests.points.support import (
    MICROSECOND,
    T0,
    allocations,
    assert_ledger_consistent,
    capture,
    days,
    entries,
    expire_at,
    grant,
    ledger_state,
    new_ticket,
    remaining,
)

pytestmark = pytest.mark.django_db


def change(ticket, points, *, at, reason="cost revised"):
    return hold_change(ticket=ticket, points=points, reason=reason, actor=None, at=at)


def release(ticket, *, at, reason="cancelled"):
    return hold_release(ticket=ticket, reason=reason, at=at)


def refund(ticket, points=None, *, at, reason="software bug"):
    return hold_refund(ticket=ticket, points=points, reason=reason, actor=None, at=at)


# --- Which lots a capture takes -----------------------------------------------------------------


def test_capture_takes_the_soonest_expiring_lots_first(account):
    late = grant(account, 10, expires_at=T0 + days(300))
    soon = grant(account, 10, expires_at=T0 + days(100))
    middle = grant(account, 10, expires_at=T0 + days(200))

    hold = capture(account, 15, at=T0 + days(1))

    assert allocations(hold) == {soon.id: 10, middle.id: 5}
    assert remaining(soon, middle, late) == [0, 5, 10]
    assert hold.amount == 15
    assert entries(hold=hold) == [
        (EntryKind.CAPTURE, 10, soon.id),
        (EntryKind.CAPTURE, 5, middle.id),
    ]


def four_lots_with_ties(account):
    """Three lots expiring together (two acquired at once) and one expiring a day before them.

    Consumption order: `soonest`, then `earliest` (earlier acquisition beats a lower id), then
    `first` and `second` (same acquisition: lower id first).
    """
    expiry = T0 + days(100)
    first = grant(account, 10, at=T0 + days(1), expires_at=expiry)
    earliest = grant(account, 10, at=T0, expires_at=expiry)
    second = grant(account, 10, at=T0 + days(1), expires_at=expiry)
    soonest = grant(account, 10, at=T0 + days(2), expires_at=expiry - days(1))
    assert first.id < earliest.id < second.id < soonest.id
    return soonest, earliest, first, second


def test_capture_ties_on_expiry_go_to_earlier_acquisition_then_lower_id(account):
    soonest, earliest, first, second = four_lots_with_ties(account)

    holds = [capture(account, 10, at=T0 + days(3)) for _ in range(4)]

    assert [allocations(hold) for hold in holds] == [
        {soonest.id: 10},
        {earliest.id: 10},
        {first.id: 10},
        {second.id: 10},
    ]


def test_decreases_and_releases_give_back_the_latest_expiring_allocations_first(account):
    soonest, earliest, first, second = four_lots_with_ties(account)
    at = T0 + days(3)
    hold = capture(account, 35, at=at)
    ticket = hold.ticket
    assert allocations(hold) == {soonest.id: 10, earliest.id: 10, first.id: 10, second.id: 5}

    change(ticket, 30, at=at)
    assert allocations(hold) == {soonest.id: 10, earliest.id: 10, first.id: 10}
    assert remaining(soonest, earliest, first, second) == [0, 0, 0, 10]

    change(ticket, 12, at=at)
    assert allocations(hold) == {soonest.id: 10, earliest.id: 2}
    assert remaining(soonest, earliest, first, second) == [0, 8, 10, 10]

    change(ticket, 15, at=at)
    assert allocations(hold) == {soonest.id: 10, earliest.id: 5}

    release(ticket, at=at)
    assert allocations(hold) == {}
    assert remaining(soonest, earliest, first, second) == [10, 10, 10, 10]
    assert [kind for kind, *_ in entries(hold=hold)].count(EntryKind.RELEASE) == 5
    assert_ledger_consistent()


def test_raising_a_hold_draws_the_soonest_expiring_available_points(account):
    soon = grant(account, 10, expires_at=T0 + days(10))
    late = grant(account, 10, expires_at=T0 + days(20))
    hold = capture(account, 4)

    change(hold.ticket, 16, at=T0)

    assert allocations(hold) == {soon.id: 10, late.id: 6}
    assert HoldAllocation.objects.filter(hold=hold).count() == 2
    assert Hold.objects.get(pk=hold.pk).amount == 16


# --- Expiry is a fact of time -------------------------------------------------------------------


def test_a_lot_is_spendable_until_the_last_microsecond_before_it_expires(account):
    expiry = T0 + days(30)
    lot = grant(account, 10, expires_at=expiry)

    assert points_available(account=account, at=expiry - MICROSECOND) == 10
    hold = capture(account, 4, at=expiry - MICROSECOND)

    assert allocations(hold) == {lot.id: 4}
    assert points_available(account=account, at=expiry - MICROSECOND) == 6


def test_a_lot_is_unavailable_from_the_instant_it_expires_without_the_expiry_job(account):
    expiry = T0 + days(30)
    lot = grant(account, 10, expires_at=expiry)
    capture(account, 4, at=expiry - MICROSECOND)

    assert points_available(account=account, at=expiry) == 0
    summary = points_summary(account=account, at=expiry)
    assert (summary.available, summary.next_expiry_points, summary.next_expiry_at) == (0, 0, None)
    with pytest.raises(InsufficientPoints) as refused:
        capture(account, 1, at=expiry)
    assert refused.value.missing == 1
    hold = Hold.objects.get()
    with pytest.raises(InsufficientPoints):
        change(hold.ticket, 5, at=expiry)
    with pytest.raises(InsufficientPoints):
        points_adjust(account=account, points=-1, reason="typo", actor=None, at=expiry)
    # The job has not run: the remainder is still on the lot, yet unavailable.
    assert remaining(lot) == [6]
    assert Lot.objects.get(pk=lot.pk).expired_at is None


def test_expiry_job_only_records_what_time_already_did(account):
    expiry = T0 + days(30)
    lot = grant(account, 10, expires_at=expiry)
    newer = grant(account, 5, expires_at=expiry + days(1))

    expire_at(expiry)

    assert points_available(account=account, at=expiry) == 5
    assert remaining(lot, newer) == [0, 5]
    hold = capture(account, 5, at=expiry)
    assert allocations(hold) == {newer.id: 5}
    assert_ledger_consistent()


# --- Purchase lot expiry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "paid_at", "expected_local_day"),
    [
        ("UTC", datetime(2027, 3, 10, 12, 0, tzinfo=UTC), (2029, 3, 10)),
        ("Europe/Berlin", datetime(2027, 6, 15, 10, 0, tzinfo=UTC), (2029, 6, 15)),
        # 00:30 on 16 June in Berlin is still 15 June in UTC.
        ("Europe/Berlin", datetime(2027, 6, 15, 22, 30, tzinfo=UTC), (2029, 6, 16)),
        # 23:30 on 15 June in New York is already 16 June in UTC.
        ("America/New_York", datetime(2027, 6, 16, 3, 30, tzinfo=UTC), (2029, 6, 15)),
        # Late on New Year's Eve in New York: the local year is still 2027.
        ("America/New_York", datetime(2028, 1, 1, 4, 59, tzinfo=UTC), (2029, 12, 31)),
        # The first minutes of the year in Berlin, still the old year in UTC.
        ("Europe/Berlin", datetime(2027, 12, 31, 23, 30, tzinfo=UTC), (2030, 1, 1)),
        ("Europe/Berlin", datetime(2028, 2, 29, 12, 0, tzinfo=UTC), (2030, 2, 28)),
        # 29 February in Berlin, 28 February in UTC.
        ("Europe/Berlin", datetime(2028, 2, 28, 23, 30, tzinfo=UTC), (2030, 2, 28)),
        # 29 February in New York, 1 March in UTC.
        ("America/New_York", datetime(2028, 3, 1, 3, 0, tzinfo=UTC), (2030, 2, 28)),
        # 1 March in Berlin, still 29 February in UTC.
        ("Europe/Berlin", datetime(2028, 2, 29, 23, 30, tzinfo=UTC), (2030, 3, 1)),
        # Bought on the day summer time starts; expires on a day without a change.
        ("Europe/Berlin", datetime(2027, 3, 28, 9, 0, tzinfo=UTC), (2029, 3, 28)),
        ("Pacific/Auckland", datetime(2027, 6, 15, 13, 0, tzinfo=UTC), (2029, 6, 16)),
    ],
)
def test_purchase_lot_expires_at_the_start_of_the_local_day_two_years_later(
    account, zone, paid_at, expected_local_day
):
    expected = datetime(*expected_local_day, tzinfo=ZoneInfo(zone))
    with override_settings(TIME_ZONE=zone):
        assert purchase_lot_expiry(paid_at) == expected
        lot = points_purchase(account=account, points=100, payment_reference="PAY-1", at=paid_at)

    stored = Lot.objects.get(pk=lot.pk)
    assert stored.expires_at == expected
    assert stored.acquired_at == paid_at
    local = stored.expires_at.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def test_purchased_points_are_spendable_until_the_local_midnight_two_years_later(account):
    with override_settings(TIME_ZONE="Europe/Berlin"):
        points_purchase(
            account=account,
            points=100,
            payment_reference="PAY-1",
            at=datetime(2028, 2, 29, 15, 0, tzinfo=UTC),
        )
    midnight = datetime(2030, 2, 28, tzinfo=ZoneInfo("Europe/Berlin"))
    assert points_available(account=account, at=midnight - MICROSECOND) == 100
    assert points_available(account=account, at=midnight) == 0


def test_grants_and_positive_adjustments_expire_like_purchases_by_default(account):
    bought_at = datetime(2028, 2, 28, 23, 30, tzinfo=UTC)
    with override_settings(TIME_ZONE="Europe/Berlin"):
        granted = points_grant(
            account=account, points=5, reason="welcome", actor=None, at=bought_at
        )
        points_adjust(account=account, points=7, reason="phone order", actor=None, at=bought_at)
    adjusted = Lot.objects.get(kind=LotKind.ADJUSTMENT)
    expected = datetime(2030, 2, 28, tzinfo=ZoneInfo("Europe/Berlin"))
    assert Lot.objects.get(pk=granted.pk).expires_at == expected
    assert adjusted.expires_at == expected
    assert (adjusted.points, adjusted.remaining) == (7, 7)


# --- Held points and expiry ---------------------------------------------------------------------


def test_held_points_do_not_expire_and_are_deducted_after_their_lot_expired(account):
    expiry = T0 + days(30)
    lot = grant(account, 10, expires_at=expiry)
    hold = capture(account, 6, at=expiry - days(1))

    assert points_summary(account=account, at=expiry + days(1)).captured == 6
    expire_at(expiry + days(1))
    assert entries(kind=EntryKind.EXPIRE) == [(EntryKind.EXPIRE, 4, lot.id)]
    assert Hold.objects.get(pk=hold.pk).amount == 6
    assert allocations(hold) == {lot.id: 6}

    settled = hold_settle(ticket=hold.ticket, at=expiry + days(2))

    assert (settled.status, settled.amount) == (HoldStatus.SETTLED, 6)
    assert entries(kind=EntryKind.SETTLE) == [(EntryKind.SETTLE, 6, lot.id)]
    assert points_available(account=account, at=expiry + days(2)) == 0
    assert Lot.objects.filter(kind=LotKind.RETURN).count() == 0
    assert_ledger_consistent()


@pytest.mark.parametrize("job_ran", [False, True])
def test_release_after_the_lot_expired_creates_a_return_lot_with_grace(account, job_ran):
    expiry = T0 + days(30)
    lot = grant(account, 10, expires_at=expiry)
    hold = capture(account, 6, at=expiry - days(1))
    if job_ran:
        expire_at(expiry)
    returned_at = expiry + days(5)

    release(hold.ticket, at=returned_at)

    back = Lot.objects.get(kind=LotKind.RETURN)
    assert (back.points, back.remaining, back.source_lot_id) == (6, 6, lot.id)
    assert back.acquired_at == returned_at
    assert back.expires_at == returned_at + days(30)
    assert remaining(lot) == [0 if job_ran else 4]
    assert points_available(account=account, at=returned_at) == 6
    assert points_available(account=account, at=returned_at + days(30) - MICROSECOND) == 6
    assert points_available(account=account, at=returned_at + days(30)) == 0
    assert entries(hold=hold) == [
        (EntryKind.CAPTURE, 6, lot.id),
        (EntryKind.RELEASE_REISSUED, 6, lot.id),
        (EntryKind.RETURN_LOT, 6, back.id),
    ]
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.RELEASED
    assert_ledger_consistent()


def test_return_grace_period_is_a_setting(account, settings):
    settings.HELPDESK_RETURN_GRACE_DAYS = 7
    expiry = T0 + days(30)
    grant(account, 10, expires_at=expiry)
    hold = capture(account, 10, at=expiry - days(1))

    release(hold.ticket, at=expiry)

    assert Lot.objects.get(kind=LotKind.RETURN).expires_at == expiry + days(7)


def test_release_returns_unexpired_points_to_their_lot_and_expired_ones_as_a_return_lot(account):
    soon = grant(account, 10, expires_at=T0 + days(30))
    late = grant(account, 10, expires_at=T0 + days(60))
    hold = capture(account, 15, at=T0)
    at = T0 + days(40)

    release(hold.ticket, at=at)

    back = Lot.objects.get(kind=LotKind.RETURN)
    assert (back.points, back.source_lot_id) == (10, soon.id)
    assert remaining(soon, late) == [0, 10]
    assert points_available(account=account, at=at) == 20
    assert sorted(entries(hold=hold)[2:]) == sorted(
        [
            (EntryKind.RELEASE, 5, late.id),
            (EntryKind.RELEASE_REISSUED, 10, soon.id),
            (EntryKind.RETURN_LOT, 10, back.id),
        ]
    )
    assert_ledger_consistent()


def test_lowering_a_hold_after_a_lot_expired_returns_unexpired_points_first(account):
    soon = grant(account, 10, expires_at=T0 + days(30))
    late = grant(account, 10, expires_at=T0 + days(60))
    hold = capture(account, 15, at=T0)
    at = T0 + days(40)

    change(hold.ticket, 12, at=at)
    assert allocations(hold) == {soon.id: 10, late.id: 2}
    assert Lot.objects.filter(kind=LotKind.RETURN).count() == 0

    change(hold.ticket, 4, at=at)
    back = Lot.objects.get(kind=LotKind.RETURN)
    assert (back.points, back.source_lot_id, back.expires_at) == (6, soon.id, at + days(30))
    assert allocations(hold) == {soon.id: 4}
    assert remaining(soon, late) == [0, 10]
    assert points_available(account=account, at=at) == 16
    assert_ledger_consistent()


# --- Refunds --------------------------------------------------------------------------------------


def test_full_refund_returns_to_unexpired_lots_and_a_return_lot_for_expired_ones(account):
    soon = grant(account, 10, expires_at=T0 + days(30))
    late = grant(account, 20, expires_at=T0 + days(60))
    hold = capture(account, 25, at=T0)
    hold_settle(ticket=hold.ticket, at=T0 + days(1))
    at = T0 + days(45)

    refunded = refund(hold.ticket, at=at)

    assert (refunded.status, refunded.amount, refunded.refunded_at) == (HoldStatus.REFUNDED, 0, at)
    back = Lot.objects.get(kind=LotKind.RETURN)
    assert (back.points, back.source_lot_id, back.expires_at) == (10, soon.id, at + days(30))
    assert remaining(late) == [20]
    assert points_available(account=account, at=at) == 30
    kinds = sorted((kind, amount) for kind, amount, _lot in entries(hold=hold))
    assert kinds == sorted(
        [
            (EntryKind.CAPTURE, 10),
            (EntryKind.CAPTURE, 15),
            (EntryKind.SETTLE, 10),
            (EntryKind.SETTLE, 15),
            (EntryKind.REFUND, 15),
            (EntryKind.REFUND_REISSUED, 10),
            (EntryKind.RETURN_LOT, 10),
        ]
    )
    assert_ledger_consistent()


def test_partial_refunds_return_latest_expiring_points_first(account):
    soon = grant(account, 10, expires_at=T0 + days(30))
    late = grant(account, 20, expires_at=T0 + days(60))
    hold = capture(account, 30, at=T0)
    ticket = hold.ticket
    hold_settle(ticket=ticket, at=T0)

    after_first = refund(ticket, 5, at=T0 + days(1))
    assert (after_first.status, after_first.amount, after_first.refunded_at) == (
        HoldStatus.SETTLED,
        25,
        None,
    )
    assert remaining(soon, late) == [0, 5]
    assert allocations(hold) == {soon.id: 10, late.id: 15}

    refund(ticket, 22, at=T0 + days(2))
    assert Hold.objects.get(pk=hold.pk).amount == 3
    assert remaining(soon, late) == [7, 20]
    assert allocations(hold) == {soon.id: 3}

    with pytest.raises(InvalidAmount, match="Only 3 points were deducted"):
        refund(ticket, 4, at=T0 + days(2))

    final = refund(ticket, at=T0 + days(3))
    assert (final.status, final.amount) == (HoldStatus.REFUNDED, 0)
    assert remaining(soon, late) == [10, 20]
    assert [amount for kind, amount, _lot in entries(hold=hold, kind=EntryKind.REFUND)] == [
        5,
        15,
        7,
        3,
    ]
    assert_ledger_consistent()


def test_partial_refund_of_everything_deducted_closes_the_hold(account):
    grant(account, 10, expires_at=T0 + days(30))
    hold = capture(account, 8, at=T0)
    hold_settle(ticket=hold.ticket, at=T0)

    refunded = refund(hold.ticket, 8, at=T0)

    assert (refunded.status, refunded.amount) == (HoldStatus.REFUNDED, 0)
    assert refund(hold.ticket, at=T0 + days(1)).refunded_at == T0
    assert points_available(account=account, at=T0) == 10


# --- Purchases and orders -----------------------------------------------------------------------


def test_a_purchase_is_recorded_once_per_payment_reference(account):
    owner = account_owner(account)
    lot = points_purchase(
        account=account, points=100, payment_reference="PAY-1", actor=owner, at=T0
    )

    replay = points_purchase(
        account=account, points=100, payment_reference=" PAY-1 ", actor=owner, at=T0 + days(1)
    )

    assert replay.pk == lot.pk
    assert Lot.objects.count() == 1
    assert entries() == [(EntryKind.PURCHASE, 100, lot.id)]
    entry = Entry.objects.get()
    assert (entry.actor, entry.created_at) == (owner, T0)
    assert points_available(account=account, at=T0) == 100


def test_same_payment_reference_with_other_points_is_a_conflict(account):
    points_purchase(account=account, points=100, payment_reference="PAY-1", at=T0)
    before = ledger_state()

    with pytest.raises(PaymentReferenceConflict, match="PAY-1"):
        points_purchase(account=account, points=200, payment_reference="PAY-1", at=T0)

    assert ledger_state() == before


def test_same_payment_reference_for_another_account_is_a_conflict(account, other_account):
    points_purchase(account=account, points=100, payment_reference="PAY-1", at=T0)
    before = ledger_state()

    with pytest.raises(PaymentReferenceConflict):
        points_purchase(account=other_account, points=100, payment_reference="PAY-1", at=T0)

    assert ledger_state() == before
    assert points_available(account=other_account, at=T0) == 0


def make_order(account, points=300):
    package = PointPackageFactory(points=points)
    return order_create(
        account=account,
        package=package,
        backend=PaymentBackend.MANUAL,
        actor=account_owner(account),
    )


def test_points_of_an_unpaid_order_are_not_spendable(account):
    order = make_order(account)

    assert order.status == OrderStatus.PENDING
    assert points_available(account=account, at=T0) == 0
    assert points_summary(account=account, at=T0).available == 0
    with pytest.raises(InsufficientPoints) as refused:
        capture(account, 40, at=T0)
    assert refused.value.missing == 40
    assert Lot.objects.count() == 0


def test_marking_an_order_paid_twice_creates_exactly_one_lot(account, staff):
    order = make_order(account, 300)

    lot = order_mark_paid(order=order, payment_reference="BANK-7", actor=staff, at=T0)
    again = order_mark_paid(order=order, payment_reference="BANK-7", actor=staff, at=T0 + days(1))

    assert again.pk == lot.pk
    assert Lot.objects.count() == 1
    stored = Lot.objects.get()
    assert (stored.kind, stored.points, stored.order_id, stored.payment_reference) == (
        LotKind.PURCHASE,
        300,
        order.pk,
        "BANK-7",
    )
    order.refresh_from_db()
    assert (order.status, order.paid_at, order.payment_reference) == (
        OrderStatus.PAID,
        T0,
        "BANK-7",
    )
    assert entries() == [(EntryKind.PURCHASE, 300, lot.id)]
    assert Entry.objects.get().order_id == order.pk
    assert points_available(account=account, at=T0) == 300


def test_a_paid_order_refuses_another_reference_and_cancellation(account):
    order = make_order(account)
    order_mark_paid(order=order, payment_reference="BANK-7", at=T0)
    before = ledger_state()

    with pytest.raises(PaymentReferenceConflict, match="BANK-7"):
        order_mark_paid(order=order, payment_reference="BANK-8", at=T0)
    with pytest.raises(OrderNotPayable):
        order_cancel(order=order)

    assert ledger_state() == before


def test_a_cancelled_order_cannot_be_paid(account):
    order = make_order(account)
    assert order_cancel(order=order).status == OrderStatus.CANCELLED
    assert order_cancel(order=order).status == OrderStatus.CANCELLED
    before = ledger_state()

    with pytest.raises(OrderNotPayable):
        order_mark_paid(order=order, payment_reference="BANK-7", at=T0)

    assert ledger_state() == before


def test_an_order_cannot_be_paid_with_the_reference_of_another_order(account):
    first = make_order(account)
    second = make_order(account)
    order_mark_paid(order=first, payment_reference="BANK-7", at=T0)
    before = ledger_state()

    with pytest.raises(PaymentReferenceConflict):
        order_mark_paid(order=second, payment_reference="BANK-7", at=T0)

    assert ledger_state() == before
    assert Order.objects.get(pk=second.pk).status == OrderStatus.PENDING


def test_an_order_cannot_be_paid_with_the_reference_of_a_recorded_purchase(account):
    """A paid order creates exactly one purchase lot of its own (SPEC §4, buying points).

    A payment reference already recorded by `points_purchase` without an order must not mark
    another order paid: the order would be paid with no lot of its own, and confirming it again
    would crash on `order.lot`.
    """
    order = make_order(account, 300)
    points_purchase(account=account, points=300, payment_reference="BANK-7", at=T0)
    before = ledger_state()

    with pytest.raises(PaymentReferenceConflict):
        order_mark_paid(order=order, payment_reference="BANK-7", at=T0)

    assert ledger_state() == before


# --- Settling, releasing, replays -----------------------------------------------------------------


@pytest.fixture
def open_hold(account):
    grant(account, 100, expires_at=T0 + days(365))
    return capture(account, 40, at=T0)


def test_settling_twice_does_nothing_the_second_time(open_hold):
    ticket = open_hold.ticket
    hold_settle(ticket=ticket, at=T0 + days(1))
    before = ledger_state()

    again = hold_settle(ticket=ticket, at=T0 + days(2))

    assert (again.status, again.settled_at, again.amount) == (
        HoldStatus.SETTLED,
        T0 + days(1),
        40,
    )
    assert ledger_state() == before


def test_releasing_twice_does_nothing_the_second_time(account, open_hold):
    ticket = open_hold.ticket
    release(ticket, at=T0 + days(1))
    before = ledger_state()

    again = release(ticket, at=T0 + days(2))

    assert (again.status, again.released_at, again.amount) == (
        HoldStatus.RELEASED,
        T0 + days(1),
        0,
    )
    assert ledger_state() == before
    assert points_available(account=account, at=T0 + days(2)) == 100


def test_settle_after_release_is_refused(open_hold):
    release(open_hold.ticket, at=T0)
    before = ledger_state()

    with pytest.raises(HoldConflict, match="already returned"):
        hold_settle(ticket=open_hold.ticket, at=T0)

    assert ledger_state() == before


def test_release_after_settle_is_refused(open_hold):
    hold_settle(ticket=open_hold.ticket, at=T0)
    before = ledger_state()

    with pytest.raises(HoldConflict, match="already deducted"):
        release(open_hold.ticket, at=T0)

    assert ledger_state() == before


def test_a_refunded_hold_cannot_be_released_and_settling_it_does_nothing(open_hold):
    ticket = open_hold.ticket
    hold_settle(ticket=ticket, at=T0)
    refund(ticket, at=T0)
    before = ledger_state()

    with pytest.raises(HoldConflict):
        release(ticket, at=T0)
    assert hold_settle(ticket=ticket, at=T0).status == HoldStatus.REFUNDED
    assert refund(ticket, 5, at=T0).status == HoldStatus.REFUNDED

    assert ledger_state() == before


def test_capture_replay_with_the_same_points_returns_the_hold(open_hold):
    before = ledger_state()

    replay = hold_capture(ticket=open_hold.ticket, points=40, at=T0 + days(1))

    assert replay.pk == open_hold.pk
    assert ledger_state() == before


def test_capture_replay_with_other_points_is_refused(open_hold):
    before = ledger_state()

    with pytest.raises(HoldConflict):
        hold_capture(ticket=open_hold.ticket, points=41, at=T0)

    assert ledger_state() == before


def test_capture_replay_after_a_change_matches_the_new_amount_only(open_hold):
    ticket = open_hold.ticket
    change(ticket, 50, at=T0)

    with pytest.raises(HoldConflict):
        hold_capture(ticket=ticket, points=40, at=T0)
    assert hold_capture(ticket=ticket, points=50, at=T0).pk == open_hold.pk
    hold_settle(ticket=ticket, at=T0)
    with pytest.raises(HoldConflict):
        hold_capture(ticket=ticket, points=50, at=T0)


def test_a_changed_cost_is_what_gets_deducted(account, open_hold):
    change(open_hold.ticket, 70, at=T0)
    settled = hold_settle(ticket=open_hold.ticket, at=T0)

    assert settled.amount == 70
    assert sum(a for _k, a, _l in entries(kind=EntryKind.SETTLE)) == 70
    assert points_summary(account=account, at=T0).available == 30


def test_settle_and_release_need_a_hold():
    ticket = new_ticket(AccountFactory())
    with pytest.raises(HoldConflict, match="No points are captured"):
        hold_settle(ticket=ticket, at=T0)
    with pytest.raises(HoldConflict):
        release(ticket, at=T0)


# --- Refusals -----------------------------------------------------------------------------------


def test_insufficient_points_says_how_many_are_missing(account):
    grant(account, 30, expires_at=T0 + days(100))
    grant(account, 100, expires_at=T0 + days(1))  # expired at the capture
    grant(account, 17, expires_at=T0 + days(200))
    capture(account, 10, at=T0 + days(2))
    before = ledger_state()

    with pytest.raises(InsufficientPoints) as refused:
        capture(account, 40, at=T0 + days(2))

    error = refused.value
    assert (error.required, error.available, error.missing) == (40, 37, 3)
    assert "3 more points are needed" in str(error)
    assert "40 needed, 37 available" in str(error)
    assert ledger_state() == before


def test_a_cost_increase_beyond_the_balance_is_refused_with_the_missing_points(account):
    grant(account, 30, expires_at=T0 + days(100))
    hold = capture(account, 10)
    before = ledger_state()

    with pytest.raises(InsufficientPoints) as refused:
        change(hold.ticket, 55, at=T0)

    assert refused.value.missing == 25
    assert "25 more points are needed" in str(refused.value)
    assert ledger_state() == before


@dataclass
class World:
    """An account with a bit of everything, for checking that refusals change nothing."""

    account: object
    other: object
    fresh_ticket: object
    open_ticket: object
    settled_ticket: object
    released_ticket: object
    pending_order: object
    paid_order: object
    cancelled_order: object
    inactive_package: object


@pytest.fixture
def world(account, other_account):
    grant(account, 50, expires_at=T0 + days(400))
    grant(account, 30, expires_at=T0 + days(10))
    grant(account, 25, expires_at=T0 + days(1))
    points_purchase(account=account, points=100, payment_reference="PAY-1", at=T0)
    open_ticket = capture(account, 20).ticket
    settled_ticket = capture(account, 30).ticket
    hold_settle(ticket=settled_ticket, at=T0)
    released_ticket = capture(account, 5).ticket
    release(released_ticket, at=T0)
    paid_order = make_order(account, 200)
    order_mark_paid(order=paid_order, payment_reference="BANK-1", at=T0)
    cancelled_order = make_order(account)
    order_cancel(order=cancelled_order)
    inactive = PointPackageFactory(is_active=False)
    return World(
        account=account,
        other=other_account,
        fresh_ticket=new_ticket(account),
        open_ticket=open_ticket,
        settled_ticket=settled_ticket,
        released_ticket=released_ticket,
        pending_order=make_order(account),
        paid_order=paid_order,
        cancelled_order=cancelled_order,
        inactive_package=inactive,
    )


# By then the 25-point lot has expired (the open hold still holds 20 of its points, and the
# settled one 5); the settled hold took the other 25 of its 30 points from the 30-point lot.
AT = T0 + days(2)
AVAILABLE_AT = 50 + 5 + 100 + 200

REFUSALS = {
    "capture beyond the balance": (
        InsufficientPoints,
        lambda w: hold_capture(ticket=w.fresh_ticket, points=AVAILABLE_AT + 1, at=AT),
    ),
    "capture negative points": (
        InvalidAmount,
        lambda w: hold_capture(ticket=w.fresh_ticket, points=-1, at=AT),
    ),
    "capture fractional points": (
        InvalidAmount,
        lambda w: hold_capture(ticket=w.fresh_ticket, points=1.5, at=AT),
    ),
    "capture True points": (
        InvalidAmount,
        lambda w: hold_capture(ticket=w.fresh_ticket, points=True, at=AT),
    ),
    "capture replay with other points": (
        HoldConflict,
        lambda w: hold_capture(ticket=w.open_ticket, points=21, at=AT),
    ),
    "capture on a settled ticket": (
        HoldConflict,
        lambda w: hold_capture(ticket=w.settled_ticket, points=30, at=AT),
    ),
    "capture on a released ticket": (
        HoldConflict,
        lambda w: hold_capture(ticket=w.released_ticket, points=0, at=AT),
    ),
    "raise beyond the balance": (
        InsufficientPoints,
        lambda w: change(w.open_ticket, 20 + AVAILABLE_AT + 1, at=AT),
    ),
    "change without reason": (
        ReasonRequired,
        lambda w: change(w.open_ticket, 10, at=AT, reason="   "),
    ),
    "change negative": (InvalidAmount, lambda w: change(w.open_ticket, -5, at=AT)),
    "change a string": (InvalidAmount, lambda w: change(w.open_ticket, "10", at=AT)),
    "change a settled hold": (HoldConflict, lambda w: change(w.settled_ticket, 10, at=AT)),
    "change a released hold": (HoldConflict, lambda w: change(w.released_ticket, 10, at=AT)),
    "change without a hold": (HoldConflict, lambda w: change(w.fresh_ticket, 10, at=AT)),
    "settle a released hold": (HoldConflict, lambda w: hold_settle(ticket=w.released_ticket)),
    "release a settled hold": (HoldConflict, lambda w: release(w.settled_ticket, at=AT)),
    "release without reason": (
        ReasonRequired,
        lambda w: release(w.open_ticket, at=AT, reason=""),
    ),
    "refund an open hold": (HoldConflict, lambda w: refund(w.open_ticket, at=AT)),
    "refund a released hold": (HoldConflict, lambda w: refund(w.released_ticket, at=AT)),
    "refund more than deducted": (InvalidAmount, lambda w: refund(w.settled_ticket, 31, at=AT)),
    "refund zero": (InvalidAmount, lambda w: refund(w.settled_ticket, 0, at=AT)),
    "refund negative": (InvalidAmount, lambda w: refund(w.settled_ticket, -3, at=AT)),
    "refund without reason": (
        ReasonRequired,
        lambda w: refund(w.settled_ticket, 5, at=AT, reason=None),
    ),
    "grant without reason": (
        ReasonRequired,
        lambda w: points_grant(account=w.account, points=5, reason=" ", actor=None, at=AT),
    ),
    "grant zero": (InvalidAmount, lambda w: grant(w.account, 0, at=AT)),
    "grant negative": (InvalidAmount, lambda w: grant(w.account, -5, at=AT)),
    "grant a float": (InvalidAmount, lambda w: grant(w.account, 5.0, at=AT)),
    "grant a decimal": (InvalidAmount, lambda w: grant(w.account, Decimal(5), at=AT)),
    "grant a string": (InvalidAmount, lambda w: grant(w.account, "5", at=AT)),
    "grant already expired": (
        LedgerError,
        lambda w: grant(w.account, 5, at=AT, expires_at=AT),
    ),
    "adjust without reason": (
        ReasonRequired,
        lambda w: points_adjust(account=w.account, points=5, reason="", actor=None, at=AT),
    ),
    "adjust zero": (
        InvalidAmount,
        lambda w: points_adjust(account=w.account, points=0, reason="x", actor=None, at=AT),
    ),
    "adjust a float": (
        InvalidAmount,
        lambda w: points_adjust(account=w.account, points=-1.0, reason="x", actor=None, at=AT),
    ),
    "adjust beyond the balance": (
        InsufficientPoints,
        lambda w: points_adjust(
            account=w.account, points=-(AVAILABLE_AT + 1), reason="x", actor=None, at=AT
        ),
    ),
    "purchase replay with other points": (
        PaymentReferenceConflict,
        lambda w: points_purchase(account=w.account, points=101, payment_reference="PAY-1", at=AT),
    ),
    "purchase replay for another account": (
        PaymentReferenceConflict,
        lambda w: points_purchase(account=w.other, points=100, payment_reference="PAY-1", at=AT),
    ),
    "purchase with the reference of an order": (
        PaymentReferenceConflict,
        lambda w: points_purchase(account=w.other, points=200, payment_reference="BANK-1", at=AT),
    ),
    "purchase without reference": (
        LedgerError,
        lambda w: points_purchase(account=w.account, points=100, payment_reference=" ", at=AT),
    ),
    "purchase negative": (
        InvalidAmount,
        lambda w: points_purchase(account=w.account, points=-100, payment_reference="P", at=AT),
    ),
    "pay a cancelled order": (
        OrderNotPayable,
        lambda w: order_mark_paid(order=w.cancelled_order, payment_reference="BANK-2", at=AT),
    ),
    "pay a paid order with another reference": (
        PaymentReferenceConflict,
        lambda w: order_mark_paid(order=w.paid_order, payment_reference="BANK-2", at=AT),
    ),
    "pay an order with the reference of another order": (
        PaymentReferenceConflict,
        lambda w: order_mark_paid(order=w.pending_order, payment_reference="BANK-1", at=AT),
    ),
    "pay an order without reference": (
        LedgerError,
        lambda w: order_mark_paid(order=w.pending_order, payment_reference="", at=AT),
    ),
    "cancel a paid order": (OrderNotPayable, lambda w: order_cancel(order=w.paid_order)),
    "order a package no longer on sale": (
        OrderNotPayable,
        lambda w: order_create(
            account=w.account,
            package=w.inactive_package,
            backend=PaymentBackend.DEMO,
            actor=account_owner(w.account),
        ),
    ),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_refused_operation_leaves_no_trace(world, refusal):
    error, operation = REFUSALS[refusal]
    assert points_available(account=world.account, at=AT) == AVAILABLE_AT
    before = ledger_state()

    with pytest.raises(error) as refused:
        operation(world)

    assert str(refused.value)
    assert ledger_state() == before
    assert points_available(account=world.account, at=AT) == AVAILABLE_AT


def test_reason_required_says_so(open_hold):
    with pytest.raises(ReasonRequired, match="A reason is required"):
        release(open_hold.ticket, at=T0, reason="\n\t ")


def test_entries_record_who_why_and_when(account, staff):
    lot = points_grant(
        account=account, points=50, reason="  launch offer ", actor=staff, at=T0 - days(1)
    )
    hold = hold_capture(ticket=new_ticket(account), points=20, actor=account_owner(account), at=T0)
    hold_change(ticket=hold.ticket, points=15, reason="smaller job", actor=staff, at=T0 + days(1))

    rows = list(
        Entry.objects.order_by("id").values_list(
            "kind", "amount", "lot", "hold", "actor", "reason", "created_at"
        )
    )
    assert rows == [
        (EntryKind.GRANT, 50, lot.id, None, staff.id, "launch offer", T0 - days(1)),
        (EntryKind.CAPTURE, 20, lot.id, hold.id, account_owner(account).id, "", T0),
        (EntryKind.RELEASE, 5, lot.id, hold.id, staff.id, "smaller job", T0 + days(1)),
    ]


# --- Amounts --------------------------------------------------------------------------------------


def test_big_point_amounts_work(account, settings):
    """With the business's limit lifted, the columns and sums hold amounts near 2⁶³."""
    settings.HELPDESK_MAX_POINTS_PER_OPERATION = 2**63 - 1
    big = 10**15
    grant(account, big, expires_at=T0 + days(10))
    grant(account, 4 * 10**18, expires_at=T0 + days(20))
    grant(account, 4 * 10**18, expires_at=T0 + days(30))

    hold = capture(account, big - 1, at=T0)
    hold_settle(ticket=hold.ticket, at=T0)
    summary = points_summary(account=account, at=T0)
    assert summary.available == 8 * 10**18 + 1
    assert (summary.next_expiry_points, summary.next_expiry_at) == (1, T0 + days(10))
    assert Hold.objects.get(pk=hold.pk).amount == big - 1

    huge = capture(account, 6 * 10**18, at=T0)

    summary = points_summary(account=account, at=T0)
    assert summary.available == 2 * 10**18 + 1
    assert summary.captured == 6 * 10**18
    assert (summary.next_expiry_points, summary.next_expiry_at) == (2 * 10**18 + 1, T0 + days(30))
    assert sum(allocations(huge).values()) == 6 * 10**18
    assert_ledger_consistent()


def test_zero_point_capture_creates_a_hold_without_allocations(account):
    hold = capture(account, 0, at=T0)

    assert (hold.status, hold.amount) == (HoldStatus.OPEN, 0)
    assert HoldAllocation.objects.filter(hold=hold).count() == 0
    assert Entry.objects.count() == 0
    assert hold_capture(ticket=hold.ticket, points=0, at=T0).pk == hold.pk
    settled = hold_settle(ticket=hold.ticket, at=T0)
    assert (settled.status, settled.amount) == (HoldStatus.SETTLED, 0)
    assert Entry.objects.count() == 0
    assert refund(hold.ticket, at=T0).status == HoldStatus.REFUNDED
    assert_ledger_consistent()


def test_a_zero_point_hold_can_be_raised_later(account):
    lot = grant(account, 40, expires_at=T0 + days(10))
    hold = capture(account, 0, at=T0)

    change(hold.ticket, 25, at=T0)

    assert allocations(hold) == {lot.id: 25}
    assert points_available(account=account, at=T0) == 15


def test_negative_adjustment_takes_the_soonest_expiring_points(account, staff):
    late = grant(account, 10, expires_at=T0 + days(60))
    soon = grant(account, 10, expires_at=T0 + days(30))
    expired = grant(account, 10, expires_at=T0 + days(1))
    capture(account, 3, at=T0)  # from `expired`, before it expired
    at = T0 + days(2)

    made = points_adjust(account=account, points=-15, reason="double grant", actor=staff, at=at)

    assert [(e.kind, e.amount, e.lot_id) for e in made] == [
        (EntryKind.ADJUSTMENT_DEBIT, 10, soon.id),
        (EntryKind.ADJUSTMENT_DEBIT, 5, late.id),
    ]
    assert remaining(late, soon, expired) == [5, 0, 7]
    assert points_available(account=account, at=at) == 5
    before = ledger_state()

    with pytest.raises(InsufficientPoints) as refused:
        points_adjust(account=account, points=-6, reason="again", actor=staff, at=at)

    assert refused.value.missing == 1
    assert ledger_state() == before
    assert_ledger_consistent()


def test_positive_adjustment_adds_a_lot(account, staff):
    made = points_adjust(account=account, points=12, reason="phone order", actor=staff, at=T0)

    lot = Lot.objects.get()
    assert (lot.kind, lot.points, lot.remaining) == (LotKind.ADJUSTMENT, 12, 12)
    assert [(e.kind, e.amount, e.lot_id, e.actor_id) for e in made] == [
        (EntryKind.ADJUSTMENT_CREDIT, 12, lot.id, staff.id)
    ]
