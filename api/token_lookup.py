"""The look-up every personal-token request makes, in one hand-written statement: the live token
with its user, the user's membership and that membership's account.

It stands for ApiToken.objects.select_related("user__membership__account").filter(
secret_hash=…, revoked_at=None, user__is_active=True): the ORM compiling that four-table query
on every request cost more CPU than the database's work (tests/api/test_token_lookup.py compares
the two). Nothing is cached: a revoked token, a deactivated user or a removed membership is
seen by the next request. PostgreSQL and SQLite both run it.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model

from accounts.models import Account, Membership
from core.sql import RowConverters, converted, row_converters

from .models import ApiToken

# A model read: the model, its fields' attribute names in the row's order, where its primary key is.
Layout = tuple[tuple[type[Model], tuple[str, ...], int], ...]


@cache
def _statement(vendor: str) -> tuple[str, RowConverters, Layout]:
    """The statement for this database, the converters of its columns, the models it reads."""
    models = (ApiToken, get_user_model(), Membership, Account)
    token_model, user_model, membership_model, account_model = models
    quote = connection.ops.quote_name

    def table(model):
        return quote(model._meta.db_table)

    def column(model, name):
        return quote(model._meta.get_field(name).column)

    select = ", ".join(
        f"{alias}.{quote(field.column)}"
        for model, alias in zip(models, ("t", "u", "m", "a"), strict=True)
        for field in model._meta.concrete_fields
    )
    sql = (
        f"SELECT {select} FROM {table(token_model)} t "
        f"INNER JOIN {table(user_model)} u ON u.{column(user_model, 'id')} = "
        f"t.{column(token_model, 'user')} "
        f"LEFT OUTER JOIN {table(membership_model)} m ON m.{column(membership_model, 'user')} = "
        f"u.{column(user_model, 'id')} "
        f"LEFT OUTER JOIN {table(account_model)} a ON a.{column(account_model, 'id')} = "
        f"m.{column(membership_model, 'account')} "
        f"WHERE t.{column(token_model, 'secret_hash')} = %s "
        f"AND t.{column(token_model, 'revoked_at')} IS NULL "
        f"AND u.{column(user_model, 'is_active')}"
    )
    layout = tuple(
        (
            model,
            tuple(field.attname for field in model._meta.concrete_fields),
            [field.primary_key for field in model._meta.concrete_fields].index(True),
        )
        for model in models
    )
    fields = [field for model in models for field in model._meta.concrete_fields]
    return sql, row_converters(fields), layout


def _instances(row: list, layout: Layout) -> list[Model | None]:
    """An instance per model of `layout` from its columns in `row`; None for a model whose primary
    key is NULL (the outer join found no row)."""
    instances = []
    start = 0
    for model, attnames, pk_offset in layout:
        values = row[start : start + len(attnames)]
        start += len(attnames)
        found = values[pk_offset] is not None
        instances.append(model.from_db(connection.alias, attnames, values) if found else None)
    return instances


def live_token_with_account(secret_hash: str) -> ApiToken | None:
    """The token of this hash, unless revoked or its user is inactive; its `user`, the user's
    `membership` (None if they have none) and its `account` loaded with it."""
    sql, converters, layout = _statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [secret_hash])
        found = cursor.fetchone()
    if found is None:
        return None
    token, user, membership, account = _instances(converted(found, converters), layout)
    ApiToken.user.field.set_cached_value(token, user)
    user_membership = Membership._meta.get_field("user").remote_field
    user_membership.set_cached_value(user, membership)
    if membership is not None:
        user_membership.field.set_cached_value(membership, user)
        Membership.account.field.set_cached_value(membership, account)
    return token
