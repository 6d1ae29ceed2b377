"""Several SQL statements of one transaction in one round trip to the database.

On PostgreSQL (psycopg's client-side binding, Django's default) the statements go as one query
string and run one after the other, each as it would alone (a lock taken by the first is held by
the next; each sees what the previous ones wrote). SQLite runs the same statements one by one.
Used by the hot paths, where each round trip costs more CPU than the statement itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field

Statement = tuple[str, Sequence[Any]]


def execute_together(statements: Sequence[Statement]) -> list[list[tuple]]:
    """Run `statements` in order; the rows each returned (empty for those that return none)."""
    if not statements:
        return []
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            results = []
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(_rows(cursor))
            return results
        params: list[Any] = []
        for _sql, statement_params in statements:
            params.extend(statement_params)
        cursor.execute(";\n".join(sql for sql, _params in statements), params)
        results = [_rows(cursor)]
        while cursor.nextset():
            results.append(_rows(cursor))
        return results


def _rows(cursor) -> list[tuple]:
    return cursor.fetchall() if cursor.description is not None else []


# The columns of a hand-written SELECT that need the ORM's conversion: each one's position in
# the row, its converters, and the column expression they are given.
RowConverters = tuple[tuple[int, list, Any], ...]


def row_converters(fields: Sequence[Field | None]) -> RowConverters:
    """What the ORM would do to the columns of a row that reads `fields` in this order (None: a
    computed column needing nothing), e.g. on SQLite make date-times aware and booleans bool."""
    found = []
    for position, field in enumerate(fields):
        if field is None:
            continue
        column = field.get_col(field.model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((position, converters, column))
    return tuple(found)


def converted(row: Sequence[Any], converters: RowConverters) -> list[Any]:
    """`row` as the ORM would have read it."""
    values = list(row)
    for position, functions, column in converters:
        for convert in functions:
            values[position] = convert(values[position], column, connection)
    return values


def field_value(model, field_name: str, value: Any) -> Any:
    """`value`, read by hand-written SQL from a column of `model`'s field, as the ORM gives it
    (SQLite returns a datetime naive, or as text when it comes from an aggregate)."""
    return converted([value], row_converters([model._meta.get_field(field_name)]))[0]
