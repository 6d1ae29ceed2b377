"""Gap-free document numbers: one counter row per (kind, year), incremented by an UPDATE that
holds the row lock until the issuing transaction ends.

Concurrent issues of the same kind and year queue on that row, each getting the next number; a
transaction that rolls back releases its number with it, so the numbers issued are 1, 2, 3… with
neither duplicate nor hole.
"""

from __future__ import annotations

from django.db import connection, transaction

from .models import DocumentKind, DocumentSequence

PREFIXES = {DocumentKind.RECEIPT: "", DocumentKind.CREDIT_NOTE: "CN-"}


def format_number(kind: DocumentKind, year: int, sequence: int) -> str:
    return f"{PREFIXES[kind]}{year}-{sequence:06d}"


def next_sequence(kind: DocumentKind, year: int) -> int:
    """The next number of `kind` in `year`, reserved until the current transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A document number is taken inside the transaction that issues it.")
    DocumentSequence.objects.bulk_create(
        [DocumentSequence(kind=kind, year=year, last=0)], ignore_conflicts=True
    )
    table = connection.ops.quote_name(DocumentSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last + 1 WHERE kind = %s AND year = %s RETURNING last",
            [kind.value, year],
        )
        (sequence,) = cursor.fetchone()
    return sequence
