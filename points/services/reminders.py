"""The reminder job's work: e-mail customers whose points expire soon, once per lot."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.locks import lock_accounts
from accounts.models import Account
from notifications.outbox import notify_many

from ..models import Lot


@dataclass(frozen=True)
class ReminderResult:
    lots: int = 0
    emails: int = 0

    def __add__(self, other: ReminderResult) -> ReminderResult:
        return ReminderResult(self.lots + other.lots, self.emails + other.emails)


def lots_remind_expiring(
    *,
    at: datetime | None = None,
    within: timedelta = timedelta(days=30),
    batch_size: int | None = None,
) -> ReminderResult:
    """Queue an e-mail to each account whose points expire within `within`, once per lot.

    In short batches, each one transaction of set-based statements: lock the batch's accounts in
    id order (the ledger's lock order), stamp the lots' `reminded_at` and write one outbox
    notification per account listing its lots, so a lot is stamped exactly when its reminder is
    queued. Stamped lots are skipped: running twice, or two runs at once, reminds nobody twice.
    Points held for tickets don't expire and are not mentioned.
    """
    at = at or timezone.now()
    batch_size = batch_size or settings.HELPDESK_EXPIRY_BATCH_SIZE
    total = ReminderResult()
    while True:
        candidates, result = _remind_batch(at=at, until=at + within, batch_size=batch_size)
        total += result
        if candidates < batch_size:
            return total


@transaction.atomic
def _remind_batch(*, at: datetime, until: datetime, batch_size: int) -> tuple[int, ReminderResult]:
    due = Lot.objects.filter(
        reminded_at__isnull=True,
        expired_at__isnull=True,
        remaining__gt=0,
        expires_at__gt=at,
        expires_at__lte=until,
    )
    candidates = list(due.order_by("account_id", "id").values_list("id", flat=True)[:batch_size])
    if not candidates:
        return 0, ReminderResult()
    batch = due.filter(id__in=candidates)
    lock_accounts(Account.objects.filter(id__in=batch.values("account_id")))
    lots = list(batch.order_by("account_id", "expires_at", "id").only("id", "account_id"))
    Lot.objects.filter(id__in=[lot.id for lot in lots]).update(reminded_at=timezone.now())
    by_account: dict[int, list[Lot]] = defaultdict(list)
    for lot in lots:
        by_account[lot.account_id].append(lot)
    accounts = Account.objects.in_bulk(list(by_account))
    queued = notify_many(
        "points_expiring",
        [(accounts[account_id], {"lots": lots}) for account_id, lots in by_account.items()],
    )
    return len(candidates), ReminderResult(lots=len(lots), emails=len(queued))
