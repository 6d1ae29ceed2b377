"""The one writer of the journal: every entry is created here, by one typed function per kind of
movement. Services decide what moved (and lock the account first); these write the rows that say
so, one entry per lot touched. Entries are append-only: the model and a database trigger refuse
any change.

Rows known in Python are inserted in one statement. Whole sets (settling a hold, expiring a batch
of lots) are one `INSERT … SELECT`: the column list and the SELECT both come from one mapping of
Entry fields to values (`_insert_select`, `_settlement_sql`), so they can't disagree. Captures and
settlements run on every ticket: their statements are built once per process, not compiled by the
ORM on every call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.db.models import F, QuerySet, Value

from core.sql import Statement, execute_together

from . import listeners
from .models import Entry, EntryKind, Hold, HoldAllocation, Lot

# --- Credits: one entry for the new lot that holds the points ---------------------------------


def _credit(
    *,
    lot: Lot,
    kind: EntryKind,
    actor: AbstractBaseUser | None,
    reason: str = "",
    hold: Hold | None = None,
) -> Entry:
    return Entry.objects.create(
        account_id=lot.account_id,
        kind=kind,
        amount=lot.points,
        lot=lot,
        hold=hold,
        order_id=lot.order_id,
        actor=actor,
        reason=reason,
        created_at=lot.acquired_at,
    )


def _lot_event(event: str, lot: Lot) -> None:
    listeners.ledger_event(
        event,
        [{"account": lot.account_id, "lot": lot.pk, "points": lot.points, "order": lot.order_id}],
    )


def record_purchase(*, lot: Lot, actor: AbstractBaseUser | None) -> Entry:
    """The paid points of a new purchase lot (and its order, if any)."""
    entry = _credit(lot=lot, kind=EntryKind.PURCHASE, actor=actor)
    _lot_event(listeners.PURCHASED, lot)
    return entry


def record_grant(*, lot: Lot, actor: AbstractBaseUser | None, reason: str) -> Entry:
    """Points staff granted, as a new lot."""
    entry = _credit(lot=lot, kind=EntryKind.GRANT, actor=actor, reason=reason)
    _lot_event(listeners.GRANTED, lot)
    return entry


def record_adjustment_credit(*, lot: Lot, actor: AbstractBaseUser | None, reason: str) -> Entry:
    """Points a manual adjustment added, as a new lot."""
    return _credit(lot=lot, kind=EntryKind.ADJUSTMENT_CREDIT, actor=actor, reason=reason)


# --- Movements of points of existing lots ------------------------------------------------------


def _insert_rows(
    moves: Iterable[tuple[EntryKind, Lot, int]],
    *,
    account_id: int,
    actor: AbstractBaseUser | None,
    reason: str,
    at: datetime,
    hold: Hold | None = None,
    along_with: Sequence[Statement] = (),
) -> list[Entry]:
    """One entry per (kind, lot, points) move, in one INSERT (sent with `along_with`)."""
    entries = [
        Entry(
            account_id=account_id,
            kind=kind,
            amount=points,
            lot=lot,
            hold=hold,
            actor=actor,
            reason=reason,
            created_at=at,
        )
        for kind, lot, points in moves
    ]
    if entries:
        _insert_entries(entries, along_with=along_with)
    else:
        execute_together(along_with)
    return entries


def _insert_entries(entries: list[Entry], *, along_with: Sequence[Statement] = ()) -> None:
    """What `bulk_create` does for new entries, without its query compilation (the ledger's hot
    path writes entries on every capture): the model's columns, values prepared by each field."""
    fields = _insert_fields()
    row = f"({', '.join(['%s'] * len(fields))})"
    params = [
        field.get_db_prep_save(getattr(entry, field.attname), connection)
        for entry in entries
        for field in fields
    ]
    sql = _insert_values_sql() + ", ".join([row] * len(entries)) + _returning_id()
    inserted, *_along = execute_together([(sql, params), *along_with])
    ids = [entry_id for (entry_id,) in inserted]
    for entry, entry_id in zip(entries, ids, strict=True):
        entry.pk = entry_id
        entry._state.adding = False
        entry._state.db = connection.alias


@cache
def _insert_fields():
    return [field for field in Entry._meta.concrete_fields if not field.primary_key]


@cache
def _insert_values_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _insert_fields())
    return f"INSERT INTO {quote(Entry._meta.db_table)} ({columns}) VALUES "


@cache
def _returning_id() -> str:
    return f" RETURNING {connection.ops.quote_name(Entry._meta.pk.column)}"


def record_adjustment_debits(
    *,
    account_id: int,
    taken: Sequence[tuple[Lot, int]],
    actor: AbstractBaseUser | None,
    reason: str,
    at: datetime,
) -> list[Entry]:
    """Points a negative manual adjustment took: (lot, points) per lot."""
    return _insert_rows(
        ((EntryKind.ADJUSTMENT_DEBIT, lot, points) for lot, points in taken),
        account_id=account_id,
        actor=actor,
        reason=reason,
        at=at,
    )


def record_order_refund(
    *, lot: Lot, points: int, actor: AbstractBaseUser | None, reason: str, at: datetime
) -> Entry:
    """The unused points of a paid order's lot, removed because its money was refunded."""
    return Entry.objects.create(
        account_id=lot.account_id,
        kind=EntryKind.ORDER_REFUND,
        amount=points,
        lot=lot,
        order_id=lot.order_id,
        actor=actor,
        reason=reason,
        created_at=at,
    )


def record_captures(
    *,
    hold: Hold,
    taken: Sequence[tuple[Lot, int]],
    actor: AbstractBaseUser | None,
    reason: str,
    at: datetime,
    along_with: Sequence[Statement] = (),
) -> list[Entry]:
    """Points captured for a ticket's hold: (lot, points) per lot. `along_with`: statements of
    the same capture sent in the same round trip, after the entries."""
    return _insert_rows(
        ((EntryKind.CAPTURE, lot, points) for lot, points in taken),
        account_id=hold.account_id,
        hold=hold,
        actor=actor,
        reason=reason,
        at=at,
        along_with=along_with,
    )


@dataclass(frozen=True)
class Returned:
    """Points of a hold given back from one lot: to the lot itself, or, when the lot had expired,
    into a new return lot (`into`)."""

    lot: Lot
    points: int
    into: Lot | None = None


def record_returns(
    *,
    hold: Hold,
    returned: Sequence[Returned],
    after_settlement: bool,
    actor: AbstractBaseUser | None,
    reason: str,
    at: datetime,
) -> list[Entry]:
    """Points a hold gave back: released while captured, or refunded after their deduction.

    Each return to its lot is one entry; a return into a new lot is two, the points leaving the
    expired lot (reissued) and arriving in the new one.
    """
    back_to_lot = EntryKind.REFUND if after_settlement else EntryKind.RELEASE
    reissued = EntryKind.REFUND_REISSUED if after_settlement else EntryKind.RELEASE_REISSUED
    moves: list[tuple[EntryKind, Lot, int]] = []
    for item in returned:
        if item.into is None:
            moves.append((back_to_lot, item.lot, item.points))
        else:
            moves.append((reissued, item.lot, item.points))
            moves.append((EntryKind.RETURN_LOT, item.into, item.points))
    return _insert_rows(
        moves, account_id=hold.account_id, hold=hold, actor=actor, reason=reason, at=at
    )


# --- Whole sets: one INSERT … SELECT ----------------------------------------------------------


def record_settlement(
    *,
    hold: Hold,
    actor: AbstractBaseUser | None,
    reason: str,
    at: datetime,
    along_with: Sequence[Statement] = (),
) -> int:
    """Deduct what the hold holds: one entry per allocation with points. Returns the points.
    `along_with`: statements of the same settlement sent in the same round trip, after it."""
    params = {
        "account": hold.account_id,
        "kind": EntryKind.SETTLE.value,
        "actor": actor.pk if actor is not None else None,
        "reason": reason,
        "created_at": connection.ops.adapt_datetimefield_value(at),
    }
    sql, names = _settlement_sql()
    inserted, *_along = execute_together(
        [(sql, [params[name] for name in names] + [hold.pk]), *along_with]
    )
    return sum(points for (points,) in inserted)


@cache
def _settlement_sql() -> tuple[str, list[str]]:
    """The settlement's INSERT … SELECT over the hold's allocations, written once per process (it
    runs on every ticket resolved); the names of its parameters, in order, before the hold's id."""
    quote = connection.ops.quote_name
    from_allocations = {"amount": "amount", "lot": "lot_id", "hold": "hold_id"}
    given = ("account", "kind", "actor", "reason", "created_at")
    selected, names = [], []
    for field in _insert_fields():
        if field.name in from_allocations:
            selected.append(quote(from_allocations[field.name]))
        elif field.name in given:
            selected.append("%s")
            names.append(field.name)
        elif field.null:
            selected.append("NULL")
        else:
            raise TypeError(f"Entry.{field.name} needs a value")
    columns = ", ".join(quote(field.column) for field in _insert_fields())
    sql = (
        f"INSERT INTO {quote(Entry._meta.db_table)} ({columns}) "
        f"SELECT {', '.join(selected)} FROM {quote(HoldAllocation._meta.db_table)} "
        f"WHERE {quote('hold_id')} = %s AND {quote('amount')} > 0 "
        f"RETURNING {quote(Entry._meta.get_field('amount').column)}"
    )
    return sql, names


def record_expiries(*, lots: QuerySet[Lot], at: datetime) -> int:
    """The unheld remainder of each of `lots` that has points left expired. Returns the points."""
    if listeners.has_listeners():
        listeners.ledger_event(
            listeners.EXPIRED,
            [
                {"account": account, "lot": lot, "points": points}
                for account, lot, points in lots.filter(remaining__gt=0)
                .order_by("account_id", "id")
                .values_list("account_id", "id", "remaining")
            ],
        )
    return _insert_select(
        lots.filter(remaining__gt=0),
        account=F("account_id"),
        kind=EntryKind.EXPIRE,
        amount=F("remaining"),
        lot=F("id"),
        created_at=at,
    )


def _insert_select(source: QuerySet, **values: Any) -> int:
    """Insert one entry per row of `source`, in one statement; returns the points journaled.

    `values` maps Entry fields to an expression over the source row or a constant; every other
    field takes its default (NULL, or the empty reason). Both the INSERT's column list and the
    SELECT are built from the model's fields in one order.
    """
    fields = [field for field in Entry._meta.concrete_fields if not field.primary_key]
    unknown = set(values) - {field.name for field in fields}
    if unknown:
        raise TypeError(f"Entry has no field {', '.join(sorted(unknown))}")
    # Aliases that no source model's field can clash with.
    selected = {f"entry_{field.name}": _selected(field, values) for field in fields}
    rows = source.annotate(**selected).values_list(*selected)
    select_sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    amount = quote(Entry._meta.get_field("amount").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Entry._meta.db_table)} ({columns}) {select_sql} "
            f"RETURNING {amount}",
            params,
        )
        return sum(points for (points,) in cursor.fetchall())


def _selected(field, values: dict[str, Any]):
    if field.name in values:
        value = values[field.name]
    elif field.null:
        value = None
    elif field.has_default() or (field.blank and field.empty_strings_allowed):
        value = field.get_default()
    else:
        raise TypeError(f"Entry.{field.name} needs a value")
    if hasattr(value, "resolve_expression"):
        return value
    return Value(value, output_field=field.target_field if field.is_relation else field)
