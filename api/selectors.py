"""Reads the API needs beyond the apps' own selectors, each scoped to one account.

The lists return plain rows (dicts), not model instances: their serializers
(api.serializers.EntrySerializer, TicketListItemSerializer) turn the rows into JSON with a small
function, which costs less CPU per page than model instances and DRF's fields.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, QuerySet

from accounts.models import Account
from points.models import Lot
from points.selectors import statement_entries
from tickets.selectors import tickets_for_account

from .list_statements import (
    STATEMENT_COLUMNS,
    TICKET_LIST_COLUMNS,
    AccountStatementRows,
    AccountTicketRows,
)


def statement_for_account(
    *,
    account: Account,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str = "",
) -> QuerySet[dict] | AccountStatementRows:
    """The account's journal lines (dated when they happened), filtered by date and kind, as rows
    of STATEMENT_COLUMNS for StatementPagination; without filters (the statement a customer's
    tool polls), from the hand-written statement of api.list_statements."""
    if since is not None or until is not None or kind:
        return statement_rows_queryset(account=account, since=since, until=until, kind=kind)
    return AccountStatementRows(account.pk)


def statement_rows_queryset(
    *,
    account: Account,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str = "",
) -> QuerySet[dict]:
    """points.selectors.statement_entries filtered by date and kind, as rows of
    STATEMENT_COLUMNS (`ticket_id`: the ticket its hold is for, if any)."""
    entries = statement_entries(account=account)
    if since is not None:
        entries = entries.filter(dated_at__gte=since)
    if until is not None:
        entries = entries.filter(dated_at__lt=until)
    if kind:
        entries = entries.filter(kind=kind)
    return entries.annotate(ticket_id=F("hold__ticket_id")).values(*STATEMENT_COLUMNS)


def ticket_rows_for_account(
    *, account: Account, status: str = "", query: str = "", hide_closed: bool = False
) -> QuerySet[dict] | AccountTicketRows:
    """tickets.selectors.tickets_for_account (same filters) as rows of TICKET_LIST_COLUMNS for
    TicketPagination; without filters (the list a customer's tool polls), from the hand-written
    statement of api.list_statements."""
    if status or hide_closed or query.strip():
        return ticket_rows_queryset(
            account=account, status=status, query=query, hide_closed=hide_closed
        )
    return AccountTicketRows(account.pk)


def ticket_rows_queryset(*, account: Account, **filters) -> QuerySet[dict]:
    """tickets.selectors.tickets_for_account (same `filters`) as rows of TICKET_LIST_COLUMNS."""
    return (
        tickets_for_account(account=account, **filters)
        .annotate(category_name=F("category__name"), filed_by_email=F("filed_by__email"))
        .values(*TICKET_LIST_COLUMNS)
    )


def lots_for_account(*, account: Account, spendable_at: datetime | None = None) -> QuerySet[Lot]:
    """The account's lots, soonest expiry first; only those spendable at `spendable_at` if given."""
    lots = Lot.objects.filter(account=account)
    if spendable_at is not None:
        lots = lots.spendable(spendable_at)
    return lots.order_by("expires_at", "acquired_at", "id")
