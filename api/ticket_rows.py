"""The account's ticket list without filters (what a customer's tool polls), page by page, in one
hand-written statement.

It stands for api.selectors.ticket_rows_queryset(account=…), tickets.selectors'
tickets_for_account as rows: building and compiling that annotated query (its public-message
count subquery, its joins) on every request cost more CPU than the database's work.
tests/api/test_ticket_rows.py compares the two, page after page, both ways. PostgreSQL and
SQLite both run it.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.utils.dateparse import parse_datetime

from catalog.models import IssueCategory
from core.sql import RowConverters, converted, row_converters
from points.models import Hold
from tickets.models import Message, Ticket

from .pagination import TicketPagination

# The columns of a ticket list row, as api.serializers.TicketListItemSerializer reads them.
TICKET_LIST_COLUMNS = (
    "id",
    "subject",
    "status",
    "outcome",
    "category_id",
    "category_name",
    "is_urgent",
    "quote_first",
    "filed_by_email",
    "created_at",
    "last_activity_at",
    "points",
    "points_status",
    "message_count",
)
ORDERING = TicketPagination.ordering
REVERSED = tuple(name.removeprefix("-") for name in ORDERING)
# CursorPagination's filter to the rows after a cursor's position, in each direction.
AFTER_GOING_DOWN = "last_activity_at__lt"
AFTER_GOING_UP = "last_activity_at__gt"


@cache
def _statement(vendor: str, *, reverse: bool, after_position: bool) -> tuple[str, RowConverters]:
    quote = connection.ops.quote_name

    def table(model):
        return quote(model._meta.db_table)

    def column(model, name):
        return quote(model._meta.get_field(name).column)

    def ticket(name):
        return "t." + column(Ticket, name)

    user_model = Ticket._meta.get_field("filed_by").related_model
    direction = "ASC" if reverse else "DESC"
    where = f"{ticket('account')} = %s"
    if after_position:
        where += f" AND {ticket('last_activity_at')} {'>' if reverse else '<'} %s"
    sql = (
        f"SELECT {ticket('id')}, {ticket('subject')}, {ticket('status')}, {ticket('outcome')}, "
        f"{ticket('category')}, c.{column(IssueCategory, 'name')}, {ticket('is_urgent')}, "
        f"{ticket('quote_first')}, u.{column(user_model, 'email')}, {ticket('created_at')}, "
        f"{ticket('last_activity_at')}, h.{column(Hold, 'amount')}, h.{column(Hold, 'status')}, "
        f"(SELECT COUNT(*) FROM {table(Message)} m WHERE m.{column(Message, 'ticket')} = "
        f"{ticket('id')} AND NOT m.{column(Message, 'is_internal')}) "
        f"FROM {table(Ticket)} t "
        f"INNER JOIN {table(IssueCategory)} c ON c.{column(IssueCategory, 'id')} = "
        f"{ticket('category')} "
        f"INNER JOIN {table(user_model)} u ON u.{column(user_model, 'id')} = "
        f"{ticket('filed_by')} "
        f"LEFT OUTER JOIN {table(Hold)} h ON h.{column(Hold, 'ticket')} = {ticket('id')} "
        f"WHERE {where} "
        f"ORDER BY {ticket('last_activity_at')} {direction}, {ticket('id')} {direction} "
        "LIMIT %s OFFSET %s"
    )
    ticket_field = Ticket._meta.get_field
    fields = [
        *map(ticket_field, ("id", "subject", "status", "outcome", "category")),
        IssueCategory._meta.get_field("name"),
        *map(ticket_field, ("is_urgent", "quote_first")),
        user_model._meta.get_field("email"),
        *map(ticket_field, ("created_at", "last_activity_at")),
        Hold._meta.get_field("amount"),
        Hold._meta.get_field("status"),
        None,  # the count of public messages
    ]
    return sql, row_converters(fields)


class AccountTicketRows:
    """The account's ticket list rows (TICKET_LIST_COLUMNS) as TicketPagination reads them:
    ordered by its ordering or the reverse, after a cursor's position, then sliced. It answers
    only those calls (DRF's CursorPagination makes no others)."""

    def __init__(self, account_id: int, *, reverse: bool = False, after=None):
        self.account_id = account_id
        self.reverse = reverse
        self.after = after

    def order_by(self, *ordering: str) -> AccountTicketRows:
        if ordering not in (ORDERING, REVERSED):
            raise ValueError(f"Only ordered by {ORDERING} or its reverse.")
        return AccountTicketRows(self.account_id, reverse=ordering == REVERSED, after=self.after)

    def filter(self, **position: str) -> AccountTicketRows:
        """After a cursor's position (an aware date-time, as TicketPagination checked)."""
        ((lookup, value),) = position.items()
        if lookup != (AFTER_GOING_UP if self.reverse else AFTER_GOING_DOWN):
            raise ValueError(f"Not a position of this ordering: {lookup}.")
        return AccountTicketRows(self.account_id, reverse=self.reverse, after=parse_datetime(value))

    def __getitem__(self, window: slice) -> list[dict]:
        offset = window.start or 0
        sql, converters = _statement(
            connection.vendor, reverse=self.reverse, after_position=self.after is not None
        )
        params: list = [self.account_id]
        if self.after is not None:
            params.append(connection.ops.adapt_datetimefield_value(self.after))
        params += [window.stop - offset, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [
            dict(zip(TICKET_LIST_COLUMNS, converted(row, converters), strict=True)) for row in rows
        ]
