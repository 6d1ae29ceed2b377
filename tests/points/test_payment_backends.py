"""Payment backends behind one interface, in a registry: what each built-in backend does, staff
marking orders paid only where the backend lets them (the service's rule), a new provider as one
registered class, and provider events unique per provider."""

import json
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils.translation import gettext_lazy

from points.errors import OrderNotPayable, WebhookRejected
from points.models import Lot, Order, OrderStatus, WebhookEvent
from points.payments import (
    Backend,
    PaymentBackend,
    PaymentConfirmed,
    ProviderEvent,
    backend_named,
    base,
    register,
    webhook_signature,
)
from points.selectors import points_available
from points.services import order_checkout, order_create, order_mark_paid, webhook_receive
from tests.factories import AccountFactory, PointPackageFactory, account_owner
from tests.html import find, parse, text
from tests.points.support import ledger_state

pytestmark = pytest.mark.django_db

SECRET = "tests-webhook-secret"


def new_order(backend: str, *, points=100, price="100.00", currency="USD") -> Order:
    account = AccountFactory()
    package = PointPackageFactory(points=points, price=Decimal(price), currency=currency)
    return order_create(
        account=account, package=package, backend=backend, actor=account_owner(account)
    )


# --- The built-in backends ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "label", "staff_marks_paid", "pays_at_checkout"),
    [
        (PaymentBackend.DEMO, "demo (paid at once)", False, True),
        (PaymentBackend.MANUAL, "manual (marked paid by staff)", True, False),
        (PaymentBackend.WEBHOOK, "payment provider", False, False),
    ],
)
def test_each_built_in_backend_says_how_its_orders_get_paid(
    name, label, staff_marks_paid, pays_at_checkout
):
    account = AccountFactory()

    with override_settings(PAYMENT_BACKEND=name):
        order = order_checkout(
            account=account, package=PointPackageFactory(points=100), actor=account_owner(account)
        )

    backend = backend_named(name)
    assert (order.payment_backend, order.get_payment_backend_display()) == (name, label)
    assert backend.staff_marks_paid is staff_marks_paid
    assert (order.status == OrderStatus.PAID) is pays_at_checkout
    assert points_available(account=account) == (100 if pays_at_checkout else 0)


@pytest.mark.parametrize(
    ("name", "notice"),
    [
        (PaymentBackend.DEMO, "Demo payments. This HelpDesk runs in demo mode"),
        (PaymentBackend.MANUAL, "After you place an order we send you an invoice."),
        (PaymentBackend.WEBHOOK, "You pay an order through our payment provider."),
    ],
)
def test_the_buy_page_tells_the_customer_what_the_backend_does(client, name, notice):
    account = AccountFactory()
    client.force_login(account_owner(account))

    with override_settings(PAYMENT_BACKEND=name):
        page = parse(client.get("/communication-center/support-points/buy/").content)

    assert text(find(page, "div", class_="callout")).startswith(notice)


# --- Staff mark orders paid only where the backend lets them -------------------------------------


def test_staff_mark_a_manual_order_paid(staff):
    order = new_order(PaymentBackend.MANUAL)

    lot = order_mark_paid(order=order, payment_reference="BANK-1", actor=staff, by_staff=True)

    assert (lot.points, Order.objects.get(pk=order.pk).status) == (100, OrderStatus.PAID)


@pytest.mark.parametrize("name", [PaymentBackend.DEMO, PaymentBackend.WEBHOOK])
def test_staff_cannot_mark_paid_an_order_another_backend_pays(staff, name):
    order = new_order(name)
    before = ledger_state()

    with pytest.raises(OrderNotPayable) as refused:
        order_mark_paid(order=order, payment_reference="BANK-1", actor=staff, by_staff=True)

    assert refused.value.code == "order_not_paid_by_hand"
    assert str(refused.value) == (
        f"Order #{order.pk} is paid through {order.get_payment_backend_display()}, not by hand."
    )
    assert ledger_state() == before


def test_the_provider_still_pays_an_order_staff_may_not_mark_paid():
    order = new_order(PaymentBackend.WEBHOOK)

    lot = order_mark_paid(order=order, payment_reference="pay_1")

    assert lot.order_id == order.pk


# --- A new provider is one registered class -------------------------------------------------------


@pytest.fixture
def registry(monkeypatch):
    """A copy of the registry for the test to add to."""
    monkeypatch.setattr(base, "_registry", dict(base._registry))


class AcmeBackend(Backend):
    """A provider whose events are plain JSON (a test stand-in: no signature)."""

    name = "acme"
    label = gettext_lazy("Acme Pay")
    notice = gettext_lazy("Pay with Acme; your points arrive when Acme says so.")

    def event_from_request(self, *, body, headers, now=None):
        event = json.loads(body)
        return ProviderEvent(id=event["id"], type=event["type"], payload=event)

    def payment_in(self, event):
        if event.type != "paid":
            return None
        return PaymentConfirmed(
            order_id=event.payload["order"],
            payment_reference=event.payload["reference"],
            amount=Decimal(event.payload["amount"]),
            currency="USD",
        )


@pytest.fixture
def acme(registry):
    return register(AcmeBackend)


@override_settings(PAYMENT_BACKEND="acme")
def test_a_registered_provider_is_chosen_by_the_setting_and_shown_everywhere(acme, client, staff):
    account = AccountFactory()
    client.force_login(account_owner(account))

    order = order_checkout(
        account=account, package=PointPackageFactory(points=100), actor=account_owner(account)
    )
    page = parse(client.get("/communication-center/support-points/buy/").content)

    assert (order.status, order.payment_backend) == (OrderStatus.PENDING, "acme")
    assert order.get_payment_backend_display() == "Acme Pay"
    assert ("acme", "Acme Pay") in Order._meta.get_field("payment_backend").choices
    assert ("acme", "Acme Pay") in WebhookEvent._meta.get_field("provider").choices
    assert text(find(page, "div", class_="callout")) == (
        "Pay with Acme; your points arrive when Acme says so."
    )
    with pytest.raises(OrderNotPayable, match="paid through Acme Pay, not by hand"):
        order_mark_paid(order=order, payment_reference="X", actor=staff, by_staff=True)


def acme_event(order, *, event_id="evt_1", type_="paid") -> bytes:
    return json.dumps(
        {"id": event_id, "type": type_, "order": order.pk, "reference": "acme-1", "amount": "100"}
    ).encode()


def test_a_registered_provider_pays_orders_with_its_events_once(acme):
    order = new_order("acme")

    first = webhook_receive(provider="acme", body=acme_event(order), headers={})
    again = webhook_receive(provider="acme", body=acme_event(order), headers={})
    other = webhook_receive(
        provider="acme", body=acme_event(order, event_id="evt_2", type_="note"), headers={}
    )

    assert (first.status, again.status, other.status) == ("processed", "duplicate", "ignored")
    assert Lot.objects.get(order=order).payment_reference == "acme-1"


def test_event_ids_are_unique_per_provider(acme, settings):
    """Two providers may both send an event "evt_1"; each is recorded and processed."""
    settings.PAYMENT_WEBHOOK_SECRET = SECRET
    acme_order = new_order("acme")
    webhook_order = new_order(PaymentBackend.WEBHOOK)
    signed_body = json.dumps(
        {
            "id": "evt_1",
            "type": "payment.succeeded",
            "data": {
                "order_id": webhook_order.pk,
                "payment_reference": "pay_1",
                "amount": "100.00",
                "currency": "USD",
            },
        }
    ).encode()
    at = int(time.time())
    signature = f"t={at},v1={webhook_signature(body=signed_body, timestamp=at, secret=SECRET)}"

    by_acme = webhook_receive(provider="acme", body=acme_event(acme_order), headers={})
    by_webhook = webhook_receive(
        provider=PaymentBackend.WEBHOOK, body=signed_body, headers={"X-Signature": signature}
    )

    assert (by_acme.status, by_webhook.status) == ("processed", "processed")
    assert sorted(WebhookEvent.objects.values_list("provider", "event_id", "order_id")) == [
        ("acme", "evt_1", acme_order.pk),
        ("webhook", "evt_1", webhook_order.pk),
    ]


def test_a_backend_without_events_refuses_them():
    order = new_order(PaymentBackend.MANUAL)

    with pytest.raises(WebhookRejected, match="receives no events") as refused:
        webhook_receive(provider=PaymentBackend.MANUAL, body=acme_event(order), headers={})

    assert refused.value.code == "webhook_rejected"
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("name", ["Acme", "acme pay", "", "a" * 11, "9lives", "acme-pay"])
def test_a_backend_name_must_fit_the_columns_that_store_it(registry, name):
    backend_class = type("Named", (AcmeBackend,), {"name": name})

    with pytest.raises(ImproperlyConfigured, match="lowercase identifier"):
        register(backend_class)

    assert name not in dict(base.backend_choices())


def test_two_backends_cannot_share_a_name(acme):
    twin = type("Twin", (AcmeBackend,), {})

    register(AcmeBackend)  # the same class again: a module imported twice
    with pytest.raises(ImproperlyConfigured, match="Two payment backends are named 'acme'"):
        register(twin)


def test_an_unknown_backend_name_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="No payment backend is named 'bitcoin'"):
        backend_named("bitcoin")
    with pytest.raises(ImproperlyConfigured):
        new_order("bitcoin")
    assert not Order.objects.exists()
