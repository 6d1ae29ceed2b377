"""Migrations of the points app carry the data they find forward (tested from the schema before
them, with rows in it)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from points.models import WebhookEvent
from points.payments import PaymentBackend
from points.services import order_create
from tests.factories import AccountFactory, PointPackageFactory, account_owner
from tests.points.support import T0

pytestmark = pytest.mark.django_db

BEFORE_PROVIDERS = [("points", "0007_account_moved_to_accounts")]


def check_foreign_keys_now():
    """Rows written in the test's transaction leave foreign-key checks pending, and PostgreSQL
    alters no table with checks pending: run them now."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def migrate(targets):
    check_foreign_keys_now()
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest():
    check_foreign_keys_now()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_provider_events_recorded_before_belong_to_the_webhook_provider():
    account = AccountFactory()
    order = order_create(
        account=account,
        package=PointPackageFactory(),
        backend=PaymentBackend.MANUAL,
        actor=account_owner(account),
    )
    old = migrate(BEFORE_PROVIDERS)
    OldEvent = old.get_model("points", "WebhookEvent")
    OldEvent.objects.create(
        event_id="evt_1",
        event_type="payment.succeeded",
        payload={"id": "evt_1", "data": {"order_id": order.pk}},
        received_at=T0,
        order_id=order.pk,
    )
    OldEvent.objects.create(
        event_id="evt_2", event_type="payment.refunded", payload={}, received_at=T0
    )

    migrate_to_latest()

    assert list(
        WebhookEvent.objects.order_by("event_id").values_list(
            "provider", "event_id", "event_type", "order_id", "payload"
        )
    ) == [
        (
            "webhook",
            "evt_1",
            "payment.succeeded",
            order.pk,
            {"id": "evt_1", "data": {"order_id": order.pk}},
        ),
        ("webhook", "evt_2", "payment.refunded", None, {}),
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEvent.objects.create(
            provider=PaymentBackend.WEBHOOK,
            event_id="evt_1",
            event_type="payment.succeeded",
            payload={},
            received_at=T0,
        )
    WebhookEvent.objects.create(
        provider=PaymentBackend.DEMO,
        event_id="evt_1",
        event_type="payment.succeeded",
        payload={},
        received_at=T0,
    )
    assert WebhookEvent.objects.filter(event_id="evt_1").count() == 2


def test_the_provider_migration_can_be_undone_while_event_ids_are_unique():
    WebhookEvent.objects.create(
        provider=PaymentBackend.WEBHOOK,
        event_id="evt_1",
        event_type="payment.succeeded",
        payload={},
        received_at=T0,
    )

    old = migrate(BEFORE_PROVIDERS)

    OldEvent = old.get_model("points", "WebhookEvent")
    assert list(OldEvent.objects.values_list("event_id", "event_type")) == [
        ("evt_1", "payment.succeeded")
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        OldEvent.objects.create(
            event_id="evt_1", event_type="payment.succeeded", payload={}, received_at=T0
        )
    migrate_to_latest()
