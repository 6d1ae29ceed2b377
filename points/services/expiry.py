"""The expiry job's work: record the expiry of every lot whose expiry time has passed.

Expiry is a fact of time (balances never count an expired lot); this only journals it, in short
set-based batches that lock their accounts in id order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Count, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import lock_accounts
from accounts.models import Account

from .. import journal
from ..errors import LedgerError
from ..models import Lot
from .alerts import balance_alerts_check


@dataclass(frozen=True)
class ExpiryResult:
    lots: int = 0
    points: int = 0

    def __add__(self, other: ExpiryResult) -> ExpiryResult:
        return ExpiryResult(self.lots + other.lots, self.points + other.points)


def _due_lots(as_of: datetime):
    return Lot.objects.filter(expired_at__isnull=True, expires_at__lte=as_of)


def lots_expire_due(
    *,
    as_of: datetime | None = None,
    batch_size: int | None = None,
    dry_run: bool = False,
    on_batch: Callable[[ExpiryResult], None] | None = None,
) -> ExpiryResult:
    """Record the expiry of every lot whose expiry time has passed, in short batches.

    Each batch is one transaction of set-based statements (no query per lot): lock the batch's
    accounts in id order, journal an `expire` entry for each lot's unheld remainder, zero it and
    mark the lot expired. Lots already marked are skipped, so running twice, or two runs at once,
    expires nothing more, and a run killed mid-way resumes where it stopped.
    """
    now = timezone.now()
    as_of = as_of or now
    if as_of > now and not dry_run:
        raise LedgerError(
            _("Lots can't be expired ahead of time; a dry run shows what a later date expires."),
            code="expiry_ahead_of_time",
        )
    batch_size = batch_size or settings.HELPDESK_EXPIRY_BATCH_SIZE
    if dry_run:
        totals = _due_lots(as_of).aggregate(lots=Count("id"), points=Sum("remaining"))
        return ExpiryResult(totals["lots"], totals["points"] or 0)
    total = ExpiryResult()
    after: tuple[datetime, int] | None = None
    while True:
        batch = _due_lots(as_of)
        if after is not None:
            batch = batch.filter(_keyset(">", after))
        last = batch.order_by("expires_at", "id").values_list("expires_at", "id")[
            batch_size - 1 : batch_size
        ]
        upto = last[0] if last else None
        if upto is not None:
            batch = batch.filter(_keyset("<=", upto))
        result = _expire_batch(batch, at=timezone.now())
        total += result
        if on_batch is not None and result.lots:
            on_batch(total)
        if upto is None:
            return total
        after = upto


def _keyset(operator: str, key: tuple[datetime, int]) -> RawSQL:
    """A row-value comparison on (expires_at, id), which the due-lots index can bound."""
    params = (connection.ops.adapt_datetimefield_value(key[0]), key[1])
    return RawSQL(f"(expires_at, id) {operator} (%s, %s)", params, output_field=BooleanField())


@transaction.atomic
def _expire_batch(batch, *, at: datetime) -> ExpiryResult:
    account_ids = lock_accounts(Account.objects.filter(id__in=batch.values("account_id")))
    points = journal.record_expiries(lots=batch, at=at)
    lots = batch.update(remaining=0, expired_at=at)
    balance_alerts_check(account_ids=account_ids, at=at)
    return ExpiryResult(lots, points)
