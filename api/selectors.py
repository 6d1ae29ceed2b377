"""Reads the API needs beyond the apps' own selectors, each scoped to one account."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from accounts.models import Account
from points.models import Entry, Lot
from points.selectors import statement_entries


def statement_for_account(
    *,
    account: Account,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str = "",
) -> QuerySet[Entry]:
    """The account's journal lines (dated when they happened), filtered by date and kind."""
    entries = statement_entries(account=account)
    if since is not None:
        entries = entries.filter(dated_at__gte=since)
    if until is not None:
        entries = entries.filter(dated_at__lt=until)
    if kind:
        entries = entries.filter(kind=kind)
    return entries


def lots_for_account(*, account: Account, spendable_at: datetime | None = None) -> QuerySet[Lot]:
    """The account's lots, soonest expiry first; only those spendable at `spendable_at` if given."""
    lots = Lot.objects.filter(account=account)
    if spendable_at is not None:
        lots = lots.spendable(spendable_at)
    return lots.order_by("expires_at", "acquired_at", "id")
