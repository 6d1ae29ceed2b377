"""The ticket list and the statement without filters (what customers' tools poll), page by page,
each in one hand-written statement.

They stand for the ORM rows of api.selectors (ticket_rows_queryset, statement_rows_queryset):
building and compiling those annotated queries on every request cost more CPU than the
database's work. Each statement is built once per process and direction; the rows are what the
ORM would read (its column converters). tests/api/test_list_statements.py compares them with
the ORM, page after page, both ways. PostgreSQL and SQLite both run them.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model
from django.utils.dateparse import parse_datetime

from catalog.models import IssueCategory
from core.sql import RowConverters, converted, row_converters
from points.models import Entry, EntryKind, Hold, Lot
from tickets.models import Message, Ticket

from .pagination import StatementPagination, TicketPagination

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
# The columns of a statement row, as api.serializers.EntrySerializer reads them.
STATEMENT_COLUMNS = (
    "id",
    "kind",
    "amount",
    "dated_at",
    "created_at",
    "lot_id",
    "ticket_id",
    "order_id",
    "reason",
)


def _quote(model: type[Model], name: str = "") -> str:
    """The quoted table of `model`, or the quoted column of its field `name`."""
    quote = connection.ops.quote_name
    return quote(model._meta.get_field(name).column) if name else quote(model._meta.db_table)


class AccountRows:
    """An account's rows of one list as its CursorPagination reads them: ordered by its ordering
    (newest first) or the reverse, after a cursor's position (an aware date-time, as the
    pagination checked), then sliced. It answers only those calls (DRF's CursorPagination makes
    no others) and refuses any other."""

    columns: tuple[str, ...]
    ordering: tuple[str, ...]

    def __init__(self, account_id: int, *, reverse: bool = False, after=None):
        self.account_id = account_id
        self.reverse = reverse
        self.after = after

    @classmethod
    def _statement(
        cls, vendor: str, *, reverse: bool, after_position: bool
    ) -> tuple[str, RowConverters]:
        """The SELECT (parameters: the account, the position if any, LIMIT, OFFSET) on this
        database, and the converters of its columns."""
        raise NotImplementedError

    def order_by(self, *ordering: str) -> AccountRows:
        reverse = tuple(name.removeprefix("-") for name in self.ordering)
        if ordering not in (self.ordering, reverse):
            raise ValueError(f"Only ordered by {self.ordering} or its reverse.")
        return type(self)(self.account_id, reverse=ordering == reverse, after=self.after)

    def filter(self, **position: str) -> AccountRows:
        ((lookup, value),) = position.items()
        # Going down the ordering, the rows before the position; going up, after it.
        field = self.ordering[0].removeprefix("-")
        if lookup != f"{field}__{'gt' if self.reverse else 'lt'}":
            raise ValueError(f"Not a position of this ordering: {lookup}.")
        after = parse_datetime(value)
        if after is None or after.tzinfo is None:
            raise ValueError(f"Not an aware date-time: {value!r}.")
        return type(self)(self.account_id, reverse=self.reverse, after=after)

    def __getitem__(self, window: slice) -> list[dict]:
        offset = window.start or 0
        sql, converters = self._statement(
            connection.vendor, reverse=self.reverse, after_position=self.after is not None
        )
        params: list = [self.account_id]
        if self.after is not None:
            params.append(connection.ops.adapt_datetimefield_value(self.after))
        params += [window.stop - offset, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [dict(zip(self.columns, converted(row, converters), strict=True)) for row in rows]


def _window(position: str, *, reverse: bool, after_position: bool, tiebreak: str) -> str:
    """The end of a list's SELECT: its order by `position` (then `tiebreak`), after a position."""
    direction = "ASC" if reverse else "DESC"
    after = f" AND {position} {'>' if reverse else '<'} %s" if after_position else ""
    return f"{after} ORDER BY {position} {direction}, {tiebreak} {direction} LIMIT %s OFFSET %s"


class AccountTicketRows(AccountRows):
    """api.selectors.ticket_rows_queryset(account=…), unfiltered."""

    columns = TICKET_LIST_COLUMNS
    ordering = TicketPagination.ordering

    @classmethod
    @cache
    def _statement(
        cls, vendor: str, *, reverse: bool, after_position: bool
    ) -> tuple[str, RowConverters]:
        user = Ticket._meta.get_field("filed_by").related_model

        def ticket(name):
            return f"t.{_quote(Ticket, name)}"

        sql = (
            f"SELECT {ticket('id')}, {ticket('subject')}, {ticket('status')}, {ticket('outcome')}, "
            f"{ticket('category')}, c.{_quote(IssueCategory, 'name')}, {ticket('is_urgent')}, "
            f"{ticket('quote_first')}, u.{_quote(user, 'email')}, {ticket('created_at')}, "
            f"{ticket('last_activity_at')}, h.{_quote(Hold, 'amount')}, "
            f"h.{_quote(Hold, 'status')}, "
            f"(SELECT COUNT(*) FROM {_quote(Message)} m WHERE m.{_quote(Message, 'ticket')} = "
            f"{ticket('id')} AND NOT m.{_quote(Message, 'is_internal')}) "
            f"FROM {_quote(Ticket)} t "
            f"INNER JOIN {_quote(IssueCategory)} c ON c.{_quote(IssueCategory, 'id')} = "
            f"{ticket('category')} "
            f"INNER JOIN {_quote(user)} u ON u.{_quote(user, 'id')} = {ticket('filed_by')} "
            f"LEFT OUTER JOIN {_quote(Hold)} h ON h.{_quote(Hold, 'ticket')} = {ticket('id')} "
            f"WHERE {ticket('account')} = %s"
            + _window(
                ticket("last_activity_at"),
                reverse=reverse,
                after_position=after_position,
                tiebreak=ticket("id"),
            )
        )
        ticket_field = Ticket._meta.get_field
        fields = [
            *map(ticket_field, ("id", "subject", "status", "outcome", "category")),
            IssueCategory._meta.get_field("name"),
            *map(ticket_field, ("is_urgent", "quote_first")),
            user._meta.get_field("email"),
            *map(ticket_field, ("created_at", "last_activity_at")),
            Hold._meta.get_field("amount"),
            Hold._meta.get_field("status"),
            None,  # the count of public messages
        ]
        return sql, row_converters(fields)


class AccountStatementRows(AccountRows):
    """api.selectors.statement_rows_queryset(account=…), unfiltered."""

    columns = STATEMENT_COLUMNS
    ordering = StatementPagination.ordering

    @classmethod
    @cache
    def _statement(
        cls, vendor: str, *, reverse: bool, after_position: bool
    ) -> tuple[str, RowConverters]:
        def entry(name):
            return f"e.{_quote(Entry, name)}"

        # points.selectors' `dated_at`: an expiry at its lot's expiry instant, else when recorded.
        dated_at = (
            f"CASE WHEN {entry('kind')} = '{EntryKind.EXPIRE.value}' "
            f"THEN l.{_quote(Lot, 'expires_at')} ELSE {entry('created_at')} END"
        )
        sql = (
            f"SELECT {entry('id')}, {entry('kind')}, {entry('amount')}, {dated_at}, "
            f"{entry('created_at')}, {entry('lot')}, h.{_quote(Hold, 'ticket')}, "
            f"{entry('order')}, {entry('reason')} "
            f"FROM {_quote(Entry)} e "
            f"INNER JOIN {_quote(Lot)} l ON l.{_quote(Lot, 'id')} = {entry('lot')} "
            f"LEFT OUTER JOIN {_quote(Hold)} h ON h.{_quote(Hold, 'id')} = {entry('hold')} "
            f"WHERE {entry('account')} = %s"
            + _window(
                dated_at, reverse=reverse, after_position=after_position, tiebreak=entry("id")
            )
        )
        entry_field = Entry._meta.get_field
        fields = [
            *map(entry_field, ("id", "kind", "amount", "created_at", "created_at", "lot")),
            Hold._meta.get_field("ticket"),
            *map(entry_field, ("order", "reason")),
        ]
        return sql, row_converters(fields)
