"""Paying for points: the demo and manual backends at checkout, and the provider's signed webhook
(HMAC over the raw body, timestamp tolerance, idempotent on the event id)."""

import json
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, override_settings

from points.models import Entry, EntryKind, Lot, LotKind, Order, OrderStatus, WebhookEvent
from points.payments import order_checkout, webhook_signature
from points.selectors import points_available
from points.services import order_create
from tests.factories import AccountFactory, PointPackageFactory, account_owner
from tests.web import db_state

pytestmark = pytest.mark.django_db

URL = "/communication-center/support-points/webhook/"
SECRET = "tests-webhook-secret"


@pytest.fixture
def order():
    account = AccountFactory()
    package = PointPackageFactory(points=250, price=Decimal("240.00"), currency="EUR")
    return order_create(
        account=account, package=package, backend="manual", actor=account_owner(account)
    )


def event(order, *, event_id="evt_1", type_="payment.succeeded", **data):
    payload = {
        "order_id": order.pk,
        "payment_reference": "pay_123",
        "amount": "240.00",
        "currency": "EUR",
        "points": 250,
        **data,
    }
    return json.dumps({"id": event_id, "type": type_, "data": payload}).encode()


def signed(body: bytes, *, at: int | None = None, secret: str = SECRET) -> str:
    at = int(time.time()) if at is None else at
    return f"t={at},v1={webhook_signature(body=body, timestamp=at, secret=secret)}"


def post(client, body: bytes, signature: str | None):
    headers = {} if signature is None else {"X-Signature": signature}
    return client.post(URL, body, content_type="application/json", headers=headers)


# --- Checkout backends --------------------------------------------------------------------------


@override_settings(PAYMENT_BACKEND="demo")
def test_demo_backend_pays_at_once_with_one_purchase_lot():
    account = AccountFactory()
    package = PointPackageFactory(points=100)

    order = order_checkout(account=account, package=package, actor=account_owner(account))

    assert order.status == OrderStatus.PAID
    assert order.payment_backend == "demo"
    lot = Lot.objects.get(order=order)
    assert (lot.kind, lot.points, lot.payment_reference) == (
        LotKind.PURCHASE,
        100,
        f"demo-{order.pk}",
    )
    assert points_available(account=account) == 100


@override_settings(PAYMENT_BACKEND="manual")
def test_manual_backend_leaves_the_order_waiting_and_its_points_unspendable():
    account = AccountFactory()

    order = order_checkout(
        account=account, package=PointPackageFactory(points=100), actor=account_owner(account)
    )

    assert (order.status, order.payment_backend) == (OrderStatus.PENDING, "manual")
    assert not Lot.objects.exists()
    assert points_available(account=account) == 0


@override_settings(PAYMENT_BACKEND="webhook")
def test_webhook_backend_leaves_the_order_for_the_provider_to_confirm(client):
    account = AccountFactory()
    order = order_checkout(
        account=account, package=PointPackageFactory(points=100), actor=account_owner(account)
    )
    assert (order.status, order.payment_backend) == (OrderStatus.PENDING, "webhook")
    body = event(order, amount=str(order.price), currency=order.currency, points=100)

    post(client, body, signed(body))

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert points_available(account=account) == 100


@override_settings(PAYMENT_BACKEND="bitcoin")
def test_an_unknown_backend_is_a_configuration_error():
    account = AccountFactory()
    with pytest.raises(ImproperlyConfigured, match="PAYMENT_BACKEND"):
        order_checkout(account=account, package=PointPackageFactory(), actor=account_owner(account))
    assert not Order.objects.exists()


def test_the_demo_backend_is_refused_in_production_settings():
    """helpdesk/settings.py refuses PAYMENT_BACKEND=demo without DEBUG (or an explicit opt-in)."""
    result = subprocess.run(
        [sys.executable, "-c", "import helpdesk.settings"],
        env={
            "PATH": "/usr/bin:/bin",
            "HELPDESK_ENV_FILE": "",
            "DEBUG": "false",
            "SECRET_KEY": "x" * 50,
            "PAYMENT_BACKEND": "demo",
        },
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )

    assert result.returncode != 0
    assert "PAYMENT_BACKEND=demo" in result.stderr


# --- The signed webhook -------------------------------------------------------------------------


def test_a_signed_payment_event_pays_the_order_once(client, order):
    body = event(order)

    response = post(client, body, signed(body))

    assert response.status_code == 200
    assert response.json() == {"status": "processed", "order": order.pk}
    order.refresh_from_db()
    assert (order.status, order.payment_reference) == (OrderStatus.PAID, "pay_123")
    lot = Lot.objects.get(order=order)
    assert (lot.points, lot.account_id) == (250, order.account_id)
    assert Entry.objects.filter(order=order, kind=EntryKind.PURCHASE).count() == 1
    assert WebhookEvent.objects.get().order == order


def test_the_same_event_delivered_again_changes_nothing(client, order):
    body = event(order)
    post(client, body, signed(body))
    before = db_state()

    response = post(client, body, signed(body))

    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert db_state() == before


def test_a_second_event_confirming_the_same_payment_still_makes_one_lot(client, order):
    first, second = event(order, event_id="evt_1"), event(order, event_id="evt_2")
    post(client, first, signed(first))

    response = post(client, second, signed(second))

    assert response.status_code == 200
    assert Lot.objects.filter(order=order).count() == 1
    assert points_available(account=order.account) == 250


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=abc,v1=00",
        "v1=deadbeef",
        "t=1700000000",
    ],
    ids=["no header", "empty", "bad timestamp", "no timestamp", "no signature"],
)
def test_a_missing_or_malformed_signature_is_refused_and_changes_nothing(client, order, signature):
    before = db_state()

    response = post(client, event(order), signature)

    assert response.status_code == 400
    assert db_state() == before


def test_a_wrong_signature_is_refused_and_changes_nothing(client, order):
    body = event(order)
    before = db_state()

    forged = post(client, body, signed(body, secret="guessed"))
    tampered = post(client, event(order, points=2500), signed(body))

    assert (forged.status_code, tampered.status_code) == (400, 400)
    assert "signature does not match" in forged.json()["error"]
    assert db_state() == before


def test_a_replayed_event_outside_the_tolerance_is_refused_and_changes_nothing(client, order):
    body = event(order)
    before = db_state()

    stale = post(client, body, signed(body, at=int(time.time()) - 301))
    from_the_future = post(client, body, signed(body, at=int(time.time()) + 301))

    assert (stale.status_code, from_the_future.status_code) == (400, 400)
    assert "tolerance" in stale.json()["error"]
    assert db_state() == before


@override_settings(PAYMENT_WEBHOOK_TOLERANCE_SECONDS=3600)
def test_the_tolerance_is_a_setting(client, order):
    body = event(order)

    response = post(client, body, signed(body, at=int(time.time()) - 1800))

    assert response.status_code == 200


@override_settings(PAYMENT_WEBHOOK_SECRET="")
def test_without_a_secret_every_event_is_refused(client, order):
    body = event(order)

    response = post(client, body, signed(body, secret=""))

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"amount": "24.00"},
        {"currency": "USD"},
        {"points": 2500},
        {"amount": "not money"},
        {"order_id": 999999},
        {"payment_reference": ""},
    ],
    ids=["amount", "currency", "points", "invalid amount", "unknown order", "no reference"],
)
def test_an_event_that_does_not_match_the_order_is_refused_and_changes_nothing(client, order, data):
    body = event(order, **data)
    before = db_state()

    response = post(client, body, signed(body))

    assert response.status_code == 400
    assert db_state() == before


def test_a_refused_event_can_be_retried_once_corrected(client, order):
    wrong = event(order, amount="1.00")
    post(client, wrong, signed(wrong))
    right = event(order)

    response = post(client, right, signed(right))

    assert response.json()["status"] == "processed"


def test_an_event_of_another_type_is_recorded_and_ignored(client, order):
    body = event(order, type_="payment.refunded")

    response = post(client, body, signed(body))

    assert response.json()["status"] == "ignored"
    assert WebhookEvent.objects.get().event_type == "payment.refunded"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_a_payment_for_a_cancelled_order_is_a_conflict_and_changes_nothing(client, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    body = event(order)
    before = db_state()

    response = post(client, body, signed(body))

    assert response.status_code == 409
    assert db_state() == before


def test_the_webhook_takes_no_csrf_token_but_only_posts(client, order):
    csrf_client = Client(enforce_csrf_checks=True)
    body = event(order)

    assert post(csrf_client, body, signed(body)).status_code == 200
    assert client.get(URL).status_code == 405


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_event_delivered_twice_at_once_makes_one_lot():
    account = AccountFactory()
    package = PointPackageFactory(points=250, price=Decimal("240.00"), currency="EUR")
    order = order_create(
        account=account, package=package, backend="manual", actor=account_owner(account)
    )
    body = event(order)
    signature = signed(body)
    barrier = threading.Barrier(2)
    statuses = []

    def deliver():
        try:
            barrier.wait()
            statuses.append(post(Client(), body, signature).json()["status"])
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == ["duplicate", "processed"]
    assert Lot.objects.filter(order=order).count() == 1
    assert WebhookEvent.objects.count() == 1
