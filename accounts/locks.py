"""The one lock order of every account: the account row first (`SELECT … FOR UPDATE`), then
what belongs to it (lots, holds, tickets, users). Every operation on an account's points, tickets
or users takes it through here, so concurrent operations serialize per account and never
deadlock; batches lock their accounts in ascending id order."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from core.sql import Statement, execute_together

from .models import Account


def lock_account(account_id: int) -> Account:
    """Lock one account's row for the rest of the transaction and return it, read after the lock."""
    return Account.objects.select_for_update().get(pk=account_id)


def lock_account_statement(account_id: int) -> Statement:
    """`lock_account` as one hand-written statement that reads nothing but the lock (one row, or
    none if there is no such account), for hot paths that send it with their next statements."""
    table = connection.ops.quote_name(Account._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return f"SELECT 1 FROM {table} WHERE id = %s{lock}", [account_id]


def lock_account_row(account_id: int) -> None:
    """`lock_account` without reading the row. Account.DoesNotExist if there is no such account."""
    (rows,) = execute_together([lock_account_statement(account_id)])
    if not rows:
        raise Account.DoesNotExist(f"No account {account_id}")


def lock_accounts(accounts: QuerySet[Account]) -> list[int]:
    """Lock several accounts in ascending id order (the batches of the scheduled jobs)."""
    return list(accounts.order_by("id").select_for_update().values_list("id", flat=True))
