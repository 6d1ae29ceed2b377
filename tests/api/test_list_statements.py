"""The lists' hand-written statements (no filters) give the rows the ORM queries they stand for
give, in both directions, after any cursor position, for any window; only unfiltered lists use
them; and the API's pages walked forward and back are the whole list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.list_statements import AccountRows, AccountStatementRows, AccountTicketRows
from api.selectors import (
    statement_for_account,
    statement_rows_queryset,
    ticket_rows_for_account,
    ticket_rows_queryset,
)
from points.models import Lot
from points.services import lots_expire_due, order_checkout, points_grant
from tests.factories import (
    AccountFactory,
    IssueCategoryFactory,
    PointPackageFactory,
    StaffUserFactory,
    TicketFactory,
)
from tickets.models import TicketOutcome, TicketStatus
from tickets.services import ticket_file, ticket_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(account, owner):
    """Tickets with and without points and messages, some at the very same instant; journal
    lines of many kinds, an expiry dated before it was recorded, lines at the same instant."""
    now = timezone.now()
    old = points_grant(
        account=account, points=30, reason="old", actor=None, at=now - timedelta(days=20)
    )
    Lot.objects.filter(pk=old.pk).update(expires_at=now - timedelta(days=1))
    lots_expire_due(as_of=now)
    points_grant(account=account, points=500, reason="goodwill", actor=None)
    order_checkout(account=account, package=PointPackageFactory(points=250), actor=owner)
    staff = StaffUserFactory()
    for n in range(3):
        ticket = ticket_file(
            account=account,
            filed_by=owner,
            category=IssueCategoryFactory(points=10 + n),
            subject=f"Filed {n}",
            description="It is broken.",
        )
        ticket_reply(ticket=ticket, author=staff, body="Note", internal=True)
        for _ in range(n):
            ticket_reply(ticket=ticket, author=staff, body="Public")
    same_instant = now - timedelta(hours=1)
    for n in range(3):
        TicketFactory(account=account, last_activity_at=same_instant, is_urgent=n == 1)
        points_grant(account=account, points=n + 1, reason="same", actor=None, at=same_instant)
    TicketFactory(
        account=account,
        status=TicketStatus.CLOSED,
        outcome=TicketOutcome.SOLVED,
        last_activity_at=same_instant - timedelta(microseconds=1),
    )
    other = AccountFactory()
    TicketFactory(account=other, last_activity_at=same_instant)
    points_grant(account=other, points=9, reason="other", actor=None, at=same_instant)
    return account


def assert_same_rows(rows: AccountRows, orm_rows):
    """`rows` and the ORM's agree whatever CursorPagination asks of them."""
    field = rows.ordering[0].removeprefix("-")
    reverse = tuple(name.removeprefix("-") for name in rows.ordering)
    positions = [None, *(str(row[field]) for row in orm_rows.order_by(*rows.ordering))]
    for ordering, after in ((rows.ordering, f"{field}__lt"), (reverse, f"{field}__gt")):
        for position in positions:
            orm, mine = orm_rows.order_by(*ordering), rows.order_by(*ordering)
            if position is not None:
                orm, mine = orm.filter(**{after: position}), mine.filter(**{after: position})
            for start, stop in ((0, 3), (1, 2), (2, 9), (0, 100)):
                assert mine[start:stop] == list(orm[start:stop]), (ordering, position, start)


def test_the_ticket_list_statement_gives_what_the_orm_gives(history):
    orm_rows = ticket_rows_queryset(account=history)
    assert orm_rows.count() == 7
    assert {row["message_count"] for row in orm_rows} == {0, 1, 2, 3}
    assert {row["points"] for row in orm_rows} == {None, 10, 11, 12}
    assert_same_rows(AccountTicketRows(history.pk), orm_rows)


def test_the_statement_statement_gives_what_the_orm_gives(history):
    orm_rows = statement_rows_queryset(account=history)
    kinds = {row["kind"] for row in orm_rows}
    assert kinds >= {"grant", "expire", "purchase", "capture"}
    assert any(row["dated_at"] != row["created_at"] for row in orm_rows)
    assert any(row["ticket_id"] for row in orm_rows) and any(row["order_id"] for row in orm_rows)
    assert_same_rows(AccountStatementRows(history.pk), orm_rows)


def test_only_unfiltered_lists_use_them(account):
    assert isinstance(ticket_rows_for_account(account=account), AccountTicketRows)
    assert isinstance(ticket_rows_for_account(account=account, query="  "), AccountTicketRows)
    for filters in ({"status": "open"}, {"query": "x"}, {"hide_closed": True}):
        rows = ticket_rows_for_account(account=account, **filters)
        assert not isinstance(rows, AccountTicketRows)
    assert isinstance(statement_for_account(account=account), AccountStatementRows)
    now = timezone.now()
    for filters in ({"since": now}, {"until": now}, {"kind": "grant"}):
        rows = statement_for_account(account=account, **filters)
        assert not isinstance(rows, AccountStatementRows)


def test_they_refuse_what_cursor_pagination_never_asks(account):
    rows = AccountTicketRows(account.pk)
    with pytest.raises(ValueError):
        rows.order_by("subject")
    with pytest.raises(ValueError):
        rows.filter(last_activity_at__gt="2026-01-01T00:00:00+00:00")
    for position in ("2026-01-01T00:00:00", "not a date"):
        with pytest.raises(ValueError):
            rows.filter(last_activity_at__lt=position)


@pytest.mark.parametrize("url", ["/api/v1/tickets", "/api/v1/statement"])
def test_pages_walked_forward_and_back_are_the_whole_list(api, history, url):
    whole = api.get(url).json()["results"]
    assert len(whole) >= 7
    forward, pages, next_url = [], [], f"{url}?page_size=2"
    while next_url:
        body = api.get(next_url).json()
        pages.append(body)
        forward += body["results"]
        next_url = body["next"]
    assert forward == whole
    backward, previous_url = [], pages[-1]["previous"]
    while previous_url:
        body = api.get(previous_url).json()
        backward = body["results"] + backward
        previous_url = body["previous"]
    assert backward + pages[-1]["results"] == whole
