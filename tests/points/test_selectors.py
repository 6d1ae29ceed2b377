"""What the points pages read (`points.selectors`): right answers, a fixed number of queries."""

from dataclasses import astuple
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Min, Sum

from points.models import EntryKind, Hold, HoldStatus, Lot
from points.selectors import (
    ExpiryForecast,
    PointsSummary,
    balance_modifications,
    expiry_forecast,
    holds_deducted,
    holds_in_progress,
    points_available,
    points_summary,
)
from points.services import (
    hold_capture,
    hold_change,
    hold_refund,
    hold_release,
    hold_settle,
    lots_expire_due,
    points_adjust,
    points_purchase,
)
from tests.factories import AccountFactory, TicketFactory, account_owner
from tests.points.support import MICROSECOND, T0, capture, days, grant, new_ticket, shared_category
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def test_points_summary_of_an_empty_account(account):
    assert points_summary(account=account, at=T0) == PointsSummary(0, 0, 0, None)


def test_points_summary_counts_unexpired_available_points_and_open_holds(account):
    soon = T0 + days(20)
    grant(account, 10, expires_at=soon)
    grant(account, 5, expires_at=soon)
    grant(account, 20, expires_at=T0 + days(90))
    grant(account, 100, expires_at=T0 + days(1))  # expired at the time of reading
    capture(account, 8, at=T0 + days(2))  # from the first lot
    settled = capture(account, 1, at=T0 + days(2))
    hold_settle(ticket=settled.ticket, at=T0 + days(2))
    capture(account, 0, at=T0 + days(2))
    AccountFactory()  # another account's points are not counted
    at = T0 + days(3)

    summary = points_summary(account=account, at=at)

    assert summary == PointsSummary(
        available=1 + 5 + 20, captured=8, next_expiry_points=6, next_expiry_at=soon
    )
    assert points_available(account=account, at=at) == 26
    assert points_summary(account=account, at=soon - MICROSECOND).next_expiry_points == 6
    assert points_summary(account=account, at=soon) == PointsSummary(20, 8, 20, T0 + days(90))


def orm_summary(account, at) -> PointsSummary:
    """The summary as the ORM's querysets define it (points_summary reads it in one statement)."""
    spendable = Lot.objects.filter(account=account).spendable(at)
    next_at = spendable.aggregate(at=Min("expires_at"))["at"]
    return PointsSummary(
        available=spendable.aggregate(points=Sum("remaining"))["points"] or 0,
        captured=Hold.objects.filter(account=account, status=HoldStatus.OPEN).aggregate(
            points=Sum("amount")
        )["points"]
        or 0,
        next_expiry_points=spendable.filter(expires_at=next_at).aggregate(points=Sum("remaining"))[
            "points"
        ]
        or 0,
        next_expiry_at=next_at,
    )


def test_points_summary_is_the_orms_at_every_instant(account):
    grant(account, 10, expires_at=T0 + days(20))
    grant(account, 5, expires_at=T0 + days(20))
    grant(account, 20, expires_at=T0 + days(90), at=T0 + days(1))
    captured = capture(account, 8, at=T0 + days(2))
    capture(account, 3, at=T0 + days(2))
    hold_settle(ticket=captured.ticket, at=T0 + days(3))
    other = AccountFactory()
    grant(other, 7, expires_at=T0 + days(10))
    capture(other, 2, at=T0 + days(2))

    instants = [T0, T0 + days(2), T0 + days(20) - MICROSECOND, T0 + days(20), T0 + days(90)]
    for at in instants:
        for customer in (account, other):
            summary = points_summary(account=customer, at=at)
            assert summary == orm_summary(customer, at)
            assert all(type(figure) is int for figure in astuple(summary)[:3])
    assert points_summary(account=account, at=T0 + days(4)) == PointsSummary(
        available=4 + 20, captured=3, next_expiry_points=4, next_expiry_at=T0 + days(20)
    )


def test_balance_modifications_list_points_in_and_out_outside_ticket_work(account, staff):
    grant(AccountFactory(), 5, at=T0)  # another account's
    points_purchase(account=account, points=100, payment_reference="PAY-1", at=T0)
    short = grant(account, 30, at=T0 + days(1), expires_at=T0 + days(10))
    points_adjust(account=account, points=7, reason="phone order", actor=staff, at=T0 + days(2))
    points_adjust(account=account, points=-2, reason="typo", actor=staff, at=T0 + days(3))
    lowered = capture(account, 40, at=T0 + days(4))  # 28 of `short`, 12 purchased
    hold_change(ticket=lowered.ticket, points=35, reason="less", actor=staff, at=T0 + days(5))
    settled = capture(account, 10, at=T0 + days(5))
    hold_settle(ticket=settled.ticket, at=T0 + days(6))
    hold_refund(ticket=settled.ticket, points=4, reason="bug", actor=staff, at=T0 + days(7))
    grant(account, 2, at=T0 + days(8), expires_at=T0 + days(10))
    with time_machine.travel(T0 + days(11), tick=False):
        lots_expire_due()
    hold_release(ticket=lowered.ticket, reason="cancelled", at=T0 + days(12))

    rows = [
        (entry.kind, entry.amount, entry.created_at)
        for entry in balance_modifications(account=account)
    ]

    times = [when for _kind, _amount, when in rows]
    assert times == sorted(times, reverse=True)
    # The release after `short` expired: its part comes back as a new lot, the rest as a release.
    assert sorted((kind, amount) for kind, amount, when in rows if when == T0 + days(12)) == [
        (EntryKind.RELEASE, 7),
        (EntryKind.RETURN_LOT, 28),
    ]
    assert [(kind, amount) for kind, amount, when in rows if when < T0 + days(12)] == [
        (EntryKind.EXPIRE, 2),
        (EntryKind.GRANT, 2),
        (EntryKind.REFUND, 4),
        (EntryKind.RELEASE, 5),
        (EntryKind.ADJUSTMENT_DEBIT, 2),
        (EntryKind.ADJUSTMENT_CREDIT, 7),
        (EntryKind.GRANT, 30),
        (EntryKind.PURCHASE, 100),
    ]
    assert short.id in {entry.lot.source_lot_id for entry in balance_modifications(account=account)}


def test_balance_modifications_at_the_same_instant_are_newest_id_first(account):
    first = grant(account, 1, at=T0)
    second = grant(account, 2, at=T0)

    assert [entry.lot_id for entry in balance_modifications(account=account)] == [
        second.id,
        first.id,
    ]


def test_holds_in_progress_and_deducted(account):
    grant(account, 500, expires_at=T0 + days(300))
    open_old = capture(account, 10, at=T0)
    open_new = capture(account, 20, at=T0 + days(1))
    settled_first = capture(account, 30, at=T0)
    settled_last = capture(account, 40, at=T0)
    refunded = capture(account, 50, at=T0)
    released = capture(account, 60, at=T0)
    hold_settle(ticket=settled_last.ticket, at=T0 + days(5))
    hold_settle(ticket=settled_first.ticket, at=T0 + days(2))
    hold_settle(ticket=refunded.ticket, at=T0 + days(3))
    hold_refund(ticket=refunded.ticket, reason="bug", actor=None, at=T0 + days(4))
    hold_release(ticket=released.ticket, reason="cancelled", at=T0 + days(1))
    other = AccountFactory()
    grant(other, 10)
    capture(other, 10)

    in_progress = list(holds_in_progress(account=account))
    deducted = list(holds_deducted(account=account))

    assert [hold.pk for hold in in_progress] == [open_new.pk, open_old.pk]
    assert [(hold.pk, hold.status, hold.amount) for hold in deducted] == [
        (settled_last.pk, HoldStatus.SETTLED, 40),
        (refunded.pk, HoldStatus.REFUNDED, 0),
        (settled_first.pk, HoldStatus.SETTLED, 30),
    ]


def test_expiry_forecast_groups_by_month_in_the_helpdesk_time_zone(account, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    at = datetime(2029, 1, 15, tzinfo=UTC)
    grant(account, 32, at=T0, expires_at=at)  # expired when the forecast is read
    grant(account, 1, at=T0, expires_at=datetime(2029, 5, 31, 23, 0, tzinfo=BERLIN))
    # Midnight at the start of June in Berlin is still 31 May in UTC.
    grant(account, 2, at=T0, expires_at=datetime(2029, 6, 1, tzinfo=BERLIN))
    grant(account, 4, at=T0, expires_at=datetime(2029, 6, 30, 23, 59, tzinfo=BERLIN))
    grant(account, 8, at=T0, expires_at=datetime(2029, 8, 10, tzinfo=BERLIN))
    hold = hold_capture(ticket=new_ticket(account), points=33, at=T0)  # 32 + the May point

    assert expiry_forecast(account=account, at=at) == ExpiryForecast(
        first_month=date(2029, 1, 1),
        months=25,
        by_month={date(2029, 6, 1): 2 + 4, date(2029, 8, 1): 8},
        later=0,
    )

    # The expired lot's 32 points come back as a lot expiring 30 days later, in February.
    hold_release(ticket=hold.ticket, reason="cancelled", at=at)
    assert expiry_forecast(account=account, at=at).by_month == {
        date(2029, 2, 1): 32,
        date(2029, 5, 1): 1,
        date(2029, 6, 1): 2 + 4,
        date(2029, 8, 1): 8,
    }


# --- A bounded number of queries, whatever the history ------------------------------------------


def build_history(size: int):
    """An account with `size` lots, `size` holds (some settled, some refunded) and their entries."""
    account = AccountFactory()
    owner = account_owner(account)
    category = shared_category()
    tickets = Ticket.objects.bulk_create(
        TicketFactory.build(account=account, category=category, filed_by=owner) for _ in range(size)
    )
    for number, ticket in enumerate(tickets):
        at = T0 + days(number % 7)
        points_purchase(
            account=account,
            points=50,
            payment_reference=f"PAY-{account.id}-{number}",
            actor=owner,
            at=at,
        )
        hold_capture(ticket=ticket, points=number % 30, actor=owner, at=at)
        if number % 3:
            hold_settle(ticket=ticket, at=at)
        if number % 3 == 2:
            hold_refund(ticket=ticket, points=None, reason="bug", actor=None, at=at)
    return account


AT = T0 + days(30)

READS = {
    "points_summary": (1, lambda account: points_summary(account=account, at=AT)),
    "points_available": (1, lambda account: points_available(account=account, at=AT)),
    "balance_modifications": (
        1,
        lambda account: [
            (
                e.kind,
                e.lot.kind,
                e.order,
                e.hold and e.hold.ticket.subject,
                e.actor and e.actor.email,
            )
            for e in balance_modifications(account=account)[:20]
        ],
    ),
    "holds_in_progress": (
        1,
        lambda account: [
            (h.amount, h.ticket.subject, h.ticket.category.name)
            for h in holds_in_progress(account=account)[:20]
        ],
    ),
    "holds_deducted": (
        1,
        lambda account: [
            (h.amount, h.ticket.subject, h.ticket.category.name)
            for h in holds_deducted(account=account)[:20]
        ],
    ),
    "expiry_forecast": (1, lambda account: expiry_forecast(account=account, at=AT)),
}


def test_each_read_takes_the_same_few_queries_for_a_short_and_a_long_history(
    django_assert_num_queries,
):
    short, long = build_history(5), build_history(200)

    for name, (queries, read) in READS.items():
        results = []
        for account in (short, long):
            with django_assert_num_queries(queries):
                results.append(read(account))
        assert results[0] != results[1], name
