"""Hand-written statements of the ledger's hot path: capturing a ticket's points and settling them.

The services decide; these build the statements that read and write the rows (the services send
the statements of one transaction in one round trip, `core.sql.execute_together`) and turn the
rows read into model instances. PostgreSQL and SQLite both run each statement (`RETURNING`,
`ON CONFLICT … DO NOTHING`; `FOR UPDATE` where the database has it). They skip the ORM's query
compilation and model machinery, which cost more CPU than the database's own work on these paths
(docs/benchmarks.md). Tests compare each statement with the ORM definition it stands for
(`Lot.objects.spendable().consumption_order()` and so on).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from django.db import connection

from core.sql import Statement, execute_together

from .models import BalanceAlert, Hold, HoldAllocation, HoldStatus, Lot

# The hold columns the services read after the lock; the others load on access (rarely needed).
HOLD_FIELDS = ("id", "account_id", "ticket_id", "status", "amount")


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _for_update() -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _when(value: datetime):
    """A datetime as the database backend stores it (naive UTC text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


@cache
def _hold_select_sql() -> str:
    return f"SELECT {', '.join(HOLD_FIELDS)} FROM {_table(Hold)} WHERE ticket_id = %s"


def hold_select(ticket_id: int) -> Statement:
    """The ticket's hold: zero or one row for `hold_from_rows`."""
    return _hold_select_sql(), [ticket_id]


def hold_from_rows(rows: list[tuple]) -> Hold | None:
    return Hold.from_db(connection.alias, HOLD_FIELDS, rows[0]) if rows else None


def hold_of_ticket(ticket_id: int) -> Hold | None:
    """The ticket's hold (its HOLD_FIELDS loaded), or None."""
    (rows,) = execute_together([hold_select(ticket_id)])
    return hold_from_rows(rows)


@cache
def _hold_insert_sql() -> str:
    return (
        f"INSERT INTO {_table(Hold)} (account_id, ticket_id, status, amount, created_at) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (ticket_id) DO NOTHING RETURNING id"
    )


def hold_insert(*, account_id: int, ticket_id: int, amount: int, at: datetime) -> Statement:
    """A new open hold for the ticket; nothing if the ticket already has one. Its row: the id."""
    return _hold_insert_sql(), [account_id, ticket_id, HoldStatus.OPEN.value, amount, _when(at)]


def inserted_hold(
    rows: list[tuple], *, account_id: int, ticket_id: int, amount: int, at: datetime
) -> Hold | None:
    """The hold `hold_insert` inserted, or None if it inserted none."""
    if not rows:
        return None
    hold = Hold(
        id=rows[0][0],
        account_id=account_id,
        ticket_id=ticket_id,
        status=HoldStatus.OPEN,
        amount=amount,
        created_at=at,
    )
    hold._state.adding = False
    hold._state.db = connection.alias
    return hold


@cache
def _hold_settle_sql() -> str:
    return f"UPDATE {_table(Hold)} SET status = %s, settled_at = %s WHERE id = %s"


def hold_mark_settled(hold: Hold, *, at: datetime) -> Statement:
    """The hold's row marked settled at `at`."""
    return _hold_settle_sql(), [HoldStatus.SETTLED.value, _when(at), hold.pk]


def spendable_lots(*, account_id: int, at: datetime) -> Statement:
    """The account's spendable lots at `at`, soonest-expiring first, locked: rows for
    `lots_from_rows`. Lot.objects.filter(account=…).spendable(at).consumption_order()."""
    sql = (
        f"SELECT id, remaining FROM {_table(Lot)} "
        "WHERE account_id = %s AND remaining > 0 AND expires_at > %s "
        f"ORDER BY expires_at, acquired_at, id{_for_update()}"
    )
    return sql, [account_id, _when(at)]


def balance_alert_select(account_id: int) -> Statement:
    """The account's low-balance alert: zero or one row for `balance_alert_from_rows`.
    BalanceAlert.objects.filter(account_id=…)."""
    return (
        f"SELECT account_id, threshold, below FROM {_table(BalanceAlert)} WHERE account_id = %s",
        [account_id],
    )


def balance_alert_from_rows(rows: list[tuple]) -> BalanceAlert | None:
    fields = ("account_id", "threshold", "below")
    return BalanceAlert.from_db(connection.alias, fields, rows[0]) if rows else None


def lots_from_rows(rows: list[tuple]) -> list[Lot]:
    """Lots with their id and remaining points loaded."""
    return [Lot.from_db(connection.alias, ("id", "remaining"), row) for row in rows]


def lots_take(taken: Sequence[tuple[Lot, int]]) -> list[Statement]:
    """Subtract each (lot, points) from its lot's remaining points (no statement for nothing)."""
    if not taken:
        return []
    cases = " ".join("WHEN %s THEN %s" for _ in taken)
    ids = ", ".join("%s" for _ in taken)
    params: list[int] = []
    for lot, points in taken:
        params += [lot.pk, points]
    params += [lot.pk for lot, _points in taken]
    sql = (
        f"UPDATE {_table(Lot)} SET remaining = remaining - CASE id {cases} END WHERE id IN ({ids})"
    )
    return [(sql, params)]


def allocations_insert(*, hold: Hold, taken: Sequence[tuple[Lot, int]]) -> list[Statement]:
    """New allocations of a new hold: (lot, points) each (no statement for nothing)."""
    if not taken:
        return []
    rows = ", ".join("(%s, %s, %s)" for _ in taken)
    params: list[int] = []
    for lot, points in taken:
        params += [hold.pk, lot.pk, points]
    sql = f"INSERT INTO {_table(HoldAllocation)} (hold_id, lot_id, amount) VALUES {rows}"
    return [(sql, params)]
