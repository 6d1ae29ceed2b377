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
from points.payments import webhook_signature
from points.selectors import points_available
from points.services import order_checkout, order_create
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


# --- Signed but malformed or unstorable events --------------------------------------------------


def raw_event(order, *, data: str | None = None, extra: str = "", event_id='"evt_1"') -> bytes:
    """An event written as JSON text, to hold what json.dumps would never write."""
    data = data or (
        f'{{"order_id": {order.pk}, "payment_reference": "pay_123", "amount": "240.00", '
        '"currency": "EUR", "points": 250}'
    )
    return (f'{{"id": {event_id}, "type": "payment.succeeded", "data": {data}{extra}}}').encode()


def assert_refused_as_malformed(client, body: bytes):
    before = db_state()

    response = post(client, body, signed(body))

    assert response.status_code == 400
    error = response.json()["error"]
    assert "signature" not in error and "tolerance" not in error
    assert db_state() == before
    return error


def deep(levels: int, opener: str = "[", closer: str = "]") -> str:
    return opener * levels + closer * levels


@pytest.mark.parametrize(
    "extra",
    [
        ', "note": "before\\u0000after"',
        ', "meta\\u0000": 1',
        ', "meta": {"nested": ["x\\u0000"]}',
        ', "note": "\\ud800"',
        ', "note": "\\udfff alone"',
        ', "\\ud83d": "half a pair"',
    ],
    ids=["NUL value", "NUL key", "NUL nested", "high surrogate", "low surrogate", "in a key"],
)
def test_an_event_with_what_the_database_cannot_store_is_refused(client, order, extra):
    error = assert_refused_as_malformed(client, raw_event(order, extra=extra))

    assert "can't be stored" in error


def test_an_ignored_event_type_with_a_nul_is_refused_too(client, order):
    body = b'{"id": "evt_9", "type": "payment.refunded", "data": {"why": "\\u0000"}}'

    assert_refused_as_malformed(client, body)


@pytest.mark.parametrize(
    "extra",
    [
        ', "meta": ' + deep(100_000),
        ', "meta": ' + deep(100_000, '{"a": ', "}")[:-100_000] + "1" + "}" * 100_000,
        ', "meta": ' + deep(17),
        ', "meta": ' + "[" * 100_000,
    ],
    ids=["arrays 100,000 deep", "objects 100,000 deep", "one past the limit", "never closed"],
)
@override_settings(PAYMENT_WEBHOOK_MAX_BYTES=4 * 1024 * 1024)  # depth, not size, refuses them
def test_an_event_nested_too_deep_is_refused_without_recursing(client, order, extra):
    started = time.process_time()

    error = assert_refused_as_malformed(client, raw_event(order, extra=extra))

    assert "deeper than 16 levels" in error
    assert time.process_time() - started < 1


def test_brackets_inside_strings_do_not_count_as_nesting(client, order):
    body = raw_event(order, extra=', "note": "' + "[{" * 5000 + '\\" ]}"')

    response = post(client, body, signed(body))

    assert response.json()["status"] == "processed"


def test_nesting_within_the_limit_is_accepted(client, order):
    body = raw_event(order, extra=', "meta": ' + deep(14))

    assert post(client, body, signed(body)).json()["status"] == "processed"


@pytest.mark.parametrize(
    "order_id",
    ["9223372036854775808", "1" + "0" * 30, "-1", "0", "9" * 5000, "1e3", "1.0", "true", "null"]
    + ['"1"', "[1]", '{"id": 1}'],
)
def test_an_order_id_that_is_not_a_stored_order_number_is_refused(client, order, order_id):
    data = (
        f'{{"order_id": {order_id}, "payment_reference": "pay_123", "amount": "240.00", '
        '"currency": "EUR"}'
    )

    assert_refused_as_malformed(client, raw_event(order, data=data))


@pytest.mark.parametrize(
    "amount",
    ['"NaN"', '"Infinity"', '"-Infinity"', '"1e999999999"', '"-240.00"', '"240.00.0"', '" 240"']
    + ["NaN", "Infinity", "-Infinity", "1e999999999", "240.0", "240", '"' + "9" * 5000 + '"']
    + ["9" * 5000, "true", "null", '["240.00"]', '{"value": "240.00"}'],
)
def test_an_amount_that_is_not_a_decimal_string_is_refused(client, order, amount):
    data = (
        f'{{"order_id": {order.pk}, "payment_reference": "pay_123", "amount": {amount}, '
        '"currency": "EUR"}'
    )

    assert_refused_as_malformed(client, raw_event(order, data=data))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payment_reference", 123),
        ("payment_reference", True),
        ("payment_reference", ["pay_123"]),
        ("payment_reference", "p" * 201),
        ("payment_reference", "pay\u0007123"),
        ("currency", ["EUR"]),
        ("currency", 978),
        ("currency", "EURO"),
        ("points", True),
        ("points", 250.0),
        ("points", "250"),
        ("points", [250]),
        ("points", 2**63),
        ("points", -250),
    ],
    ids=lambda value: str(value)[:20],
)
def test_fields_of_the_wrong_type_or_size_are_refused(client, order, field, value):
    assert_refused_as_malformed(client, event(order, **{field: value}))


@pytest.mark.parametrize(
    ("event_id", "event_type"),
    [
        (123, "payment.succeeded"),
        (["evt_1"], "payment.succeeded"),
        ("e" * 201, "payment.succeeded"),
        ("evt\u001b1", "payment.succeeded"),
        ("   ", "payment.succeeded"),
        ("evt_1", True),
        ("evt_1", {}),
        ("evt_1", "t" * 101),
    ],
    ids=lambda value: str(value)[:20],
)
def test_an_event_id_or_type_of_the_wrong_type_or_size_is_refused(
    client, order, event_id, event_type
):
    body = json.dumps({"id": event_id, "type": event_type, "data": {}}).encode()

    assert_refused_as_malformed(client, body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "evt_\xff", "type": "payment.succeeded", "data": {}}',
        b'{"id": "evt_\xed\xa0\x80", "type": "payment.succeeded", "data": {}}',
        '{"id": "evt_1", "type": "payment.succeeded", "data": {}}'.encode("utf-16"),
        b"\xef\xbb\xbf" + b'{"id": "evt_1", "type": "payment.succeeded", "data": {}}',
        b'["evt_1"]',
        b'"evt_1"',
        b"",
        b"{",
    ],
    ids=["latin-1", "encoded surrogate", "UTF-16", "BOM", "array", "string", "empty", "cut"],
)
def test_a_body_that_is_not_a_utf8_json_object_is_refused(client, body):
    assert_refused_as_malformed(client, body)


def test_a_body_larger_than_the_limit_is_refused_unread(client, order):
    body = raw_event(order, extra=', "padding": "' + "x" * settings.PAYMENT_WEBHOOK_MAX_BYTES + '"')

    error = assert_refused_as_malformed(client, body)

    assert error == "The event is larger than 65536 bytes."


@override_settings(PAYMENT_WEBHOOK_MAX_BYTES=300)
def test_the_size_limit_is_a_setting(client, order):
    small = event(order)
    large = event(order, event_id="evt_2", note="x" * 300)

    assert post(client, large, signed(large)).status_code == 400
    assert post(client, small, signed(small)).json()["status"] == "processed"


@pytest.mark.parametrize(
    "timestamp", ["9" * 5000, "\u00b2", "\u0663", "-1", "1e9"], ids=str.__len__
)
def test_a_timestamp_that_is_not_plain_digits_is_refused(client, order, timestamp):
    body = event(order)
    before = db_state()

    response = post(client, body, f"t={timestamp},v1=00")

    assert response.status_code == 400
    assert db_state() == before
