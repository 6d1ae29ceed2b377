"""The ticket list's hand-written statement (no filters) gives the rows the ORM query it stands
for gives, in both directions, after any cursor position, for any window; and the API's pages
walked forward and back are the whole list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.selectors import ticket_rows_for_account, ticket_rows_queryset
from api.ticket_rows import (
    AFTER_GOING_DOWN,
    AFTER_GOING_UP,
    ORDERING,
    REVERSED,
    AccountTicketRows,
)
from points.services import points_grant
from tests.factories import AccountFactory, IssueCategoryFactory, StaffUserFactory, TicketFactory
from tickets.models import TicketOutcome, TicketStatus
from tickets.services import ticket_file, ticket_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(account, owner):
    """Tickets with and without points and messages, some at the very same instant."""
    points_grant(account=account, points=500, reason="goodwill", actor=None)
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
    same_instant = timezone.now() - timedelta(hours=1)
    for n in range(3):
        TicketFactory(account=account, last_activity_at=same_instant, is_urgent=n == 1)
    TicketFactory(
        account=account,
        status=TicketStatus.CLOSED,
        outcome=TicketOutcome.SOLVED,
        last_activity_at=same_instant - timedelta(microseconds=1),
    )
    TicketFactory(account=AccountFactory(), last_activity_at=same_instant)
    return account


def test_it_gives_what_the_orm_gives(tickets):
    orm_rows = list(ticket_rows_queryset(account=tickets).order_by(*ORDERING))
    assert len(orm_rows) == 7
    assert {row["message_count"] for row in orm_rows} == {0, 1, 2, 3}
    assert {row["points"] for row in orm_rows} == {None, 10, 11, 12}
    positions = [None, *(str(row["last_activity_at"]) for row in orm_rows)]
    for ordering, after in ((ORDERING, AFTER_GOING_DOWN), (REVERSED, AFTER_GOING_UP)):
        for position in positions:
            orm = ticket_rows_queryset(account=tickets).order_by(*ordering)
            rows = AccountTicketRows(tickets.pk).order_by(*ordering)
            if position is not None:
                orm = orm.filter(**{after: position})
                rows = rows.filter(**{after: position})
            for start, stop in ((0, 3), (1, 2), (2, 9), (0, 100)):
                assert rows[start:stop] == list(orm[start:stop]), (ordering, position, start)


def test_only_the_unfiltered_list_uses_it(account):
    assert isinstance(ticket_rows_for_account(account=account), AccountTicketRows)
    assert isinstance(ticket_rows_for_account(account=account, query="  "), AccountTicketRows)
    for filters in ({"status": "open"}, {"query": "x"}, {"hide_closed": True}):
        assert not isinstance(
            ticket_rows_for_account(account=account, **filters), AccountTicketRows
        )


def test_pages_walked_forward_and_back_are_the_whole_list(api, tickets):
    whole = api.get("/api/v1/tickets").json()["results"]
    assert len(whole) == 7
    forward, pages, url = [], [], "/api/v1/tickets?page_size=2"
    while url:
        body = api.get(url).json()
        pages.append(body)
        forward += body["results"]
        url = body["next"]
    assert forward == whole
    backward, url = [], pages[-1]["previous"]
    while url:
        body = api.get(url).json()
        backward = body["results"] + backward
        url = body["previous"]
    assert backward + pages[-1]["results"] == whole
