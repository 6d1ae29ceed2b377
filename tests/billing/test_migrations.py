"""The billing tables arrive with a receipt for every order paid before them."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("billing", "0001_initial"), ("points", "0009_order_refund")]
AFTER = [("billing", "0002_receipts_for_orders_paid_before")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_orders_paid_before_get_receipts_numbered_by_payment_time():
    apps = migrate(BEFORE)
    Account = apps.get_model("accounts", "Account")
    User = apps.get_model("helpdesk", "User")
    Order = apps.get_model("points", "Order")
    account = Account.objects.create(name="Old customer")
    user = User.objects.create(email="old@example.com")

    def order(paid_at, **extra):
        return Order.objects.create(
            account=account,
            points=100,
            price=Decimal("50.00"),
            currency="EUR",
            payment_backend="manual",
            created_by=user,
            **extra,
            **(
                {"status": "paid", "paid_at": paid_at, "payment_reference": f"r{paid_at}"}
                if paid_at
                else {}
            ),
        )

    late = order(datetime(2025, 6, 1, tzinfo=UTC))
    early = order(datetime(2025, 1, 1, tzinfo=UTC))
    next_year = order(datetime(2026, 2, 1, tzinfo=UTC))
    pending = order(None)
    try:
        apps = migrate(AFTER)
        Receipt = apps.get_model("billing", "Receipt")
        numbers = dict(Receipt.objects.values_list("order_id", "number"))
        assert numbers == {
            early.pk: "2025-000001",
            late.pk: "2025-000002",
            next_year.pk: "2026-000001",
        }
        assert pending.pk not in numbers
        sequences = apps.get_model("billing", "DocumentSequence").objects
        assert sequences.get(kind="receipt", year=2025).last == 2
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
