"""The one lock order of every account: the account row first (`SELECT … FOR UPDATE`), then
what belongs to it (lots, holds, tickets, users). Every operation on an account's points, tickets
or users takes it through here, so concurrent operations serialize per account and never
deadlock; batches lock their accounts in ascending id order."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Account


def lock_account(account_id: int) -> Account:
    """Lock one account's row for the rest of the transaction and return it, read after the lock."""
    return Account.objects.select_for_update().get(pk=account_id)


def lock_accounts(accounts: QuerySet[Account]) -> list[int]:
    """Lock several accounts in ascending id order (the batches of the scheduled jobs)."""
    return list(accounts.order_by("id").select_for_update().values_list("id", flat=True))
