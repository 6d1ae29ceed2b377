"""Paying for orders of points: the configured backend at checkout, and the provider's webhook.

Backends (settings.PAYMENT_BACKEND):
- ``demo``: the order is paid at once (demos and tests; refused in production settings);
- ``manual``: the order waits until staff mark it paid in the admin (an invoice, a bank transfer);
- ``webhook``: the order waits for the payment provider's signed confirmation.

Whatever the backend, the provider's signed webhook (`webhook_receive`) can confirm a pending
order. An order is paid through `points.services.order_mark_paid`, which creates
exactly one purchase lot however often the payment is confirmed.

Webhook format (Stripe-like). The request body is JSON::

    {"id": "evt_123", "type": "payment.succeeded",
     "data": {"order_id": 42, "payment_reference": "pay_abc", "amount": "100.00",
              "currency": "USD", "points": 100}}

and the ``X-Signature`` header is ``t=<unix timestamp>,v1=<hex HMAC-SHA256>``, the HMAC being taken
with PAYMENT_WEBHOOK_SECRET over ``"<timestamp>.<raw body>"``. Events older or newer than
PAYMENT_WEBHOOK_TOLERANCE_SECONDS are refused (replays); an event id already recorded is
acknowledged without changing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.models import User

from .models import Account, Order, PaymentBackend, PointPackage, WebhookEvent
from .services import LedgerError, order_create, order_mark_paid

CHECKOUT_BACKENDS = {PaymentBackend.DEMO, PaymentBackend.MANUAL, PaymentBackend.WEBHOOK}
PAYMENT_SUCCEEDED = "payment.succeeded"
SIGNATURE_HEADER = "X-Signature"


class WebhookRejected(LedgerError):
    """The webhook request is not a valid, signed, fresh event for an existing order."""


def payment_backend() -> str:
    backend = settings.PAYMENT_BACKEND
    if backend not in CHECKOUT_BACKENDS:
        raise ImproperlyConfigured(
            f"PAYMENT_BACKEND must be one of {sorted(CHECKOUT_BACKENDS)}, not {backend!r}."
        )
    return backend


@transaction.atomic
def order_checkout(*, account: Account, package: PointPackage, actor: User) -> Order:
    """Create an order for a package and hand it to the configured backend.

    The demo backend pays it at once (a purchase lot exists when this returns); the others leave
    it awaiting payment (by staff, or by the provider's webhook).
    """
    backend = payment_backend()
    order = order_create(account=account, package=package, backend=backend, actor=actor)
    if backend == PaymentBackend.DEMO:
        order_mark_paid(order=order, payment_reference=f"demo-{order.pk}", actor=actor)
        order.refresh_from_db()
    return order


# --- Webhook ----------------------------------------------------------------------------------


def webhook_signature(*, body: bytes, timestamp: int, secret: str) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" (what the provider sends as v1)."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_verify(*, body: bytes, header: str, now: float | None = None) -> None:
    """Raise WebhookRejected unless `header` signs `body` with the shared secret, recently."""
    secret = settings.PAYMENT_WEBHOOK_SECRET
    if not secret:
        raise WebhookRejected(_("The payment webhook is not configured."))
    timestamp = None
    signatures = []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected(_("The signature header is missing or malformed."))
    expected = webhook_signature(body=body, timestamp=timestamp, secret=secret)
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise WebhookRejected(_("The signature does not match."))
    now = time.time() if now is None else now
    if abs(now - timestamp) > settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejected(_("The event's timestamp is outside the accepted tolerance."))


@dataclass(frozen=True)
class WebhookResult:
    status: str  # "processed", "duplicate" or "ignored"
    order: Order | None = None


def _parse_event(body: bytes) -> dict:
    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookRejected(_("The body is not JSON.")) from error
    if not isinstance(event, dict):
        raise WebhookRejected(_("The event must be a JSON object."))
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 200:
        raise WebhookRejected(_("The event has no valid id."))
    if not isinstance(event_type, str) or not event_type or len(event_type) > 100:
        raise WebhookRejected(_("The event has no valid type."))
    return event


def _paid_order(data: object) -> tuple[Order, str]:
    """The order a payment.succeeded event pays, checked against what the provider charged."""
    if not isinstance(data, dict):
        raise WebhookRejected(_("The event has no data."))
    order_id, reference = data.get("order_id"), data.get("payment_reference")
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise WebhookRejected(_("The event names no order."))
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 200:
        raise WebhookRejected(_("The event has no payment reference."))
    try:
        amount = Decimal(str(data.get("amount")))
    except InvalidOperation as error:
        raise WebhookRejected(_("The event has no valid amount.")) from error
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise WebhookRejected(_("Order #%(id)s does not exist.") % {"id": order_id})
    points = data.get("points", order.points)
    if (
        not amount.is_finite()
        or amount != order.price
        or str(data.get("currency", "")).upper() != order.currency.upper()
        or points != order.points
    ):
        raise WebhookRejected(
            _(
                "The payment does not match order #%(id)s "
                "(%(price)s %(currency)s, %(points)s points)."
            )
            % {
                "id": order.pk,
                "price": order.price,
                "currency": order.currency,
                "points": order.points,
            }
        )
    return order, reference.strip()


@transaction.atomic
def webhook_receive(*, body: bytes, signature: str, now: float | None = None) -> WebhookResult:
    """Handle one signed provider event, once per event id.

    A refused event (bad signature, stale timestamp, malformed, an amount that does not match the
    order, an order that can't be paid) raises and, being atomic, records nothing, so the
    provider can retry a corrected event.
    """
    webhook_verify(body=body, header=signature, now=now)
    event = _parse_event(body)
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                event_id=event["id"].strip(),
                event_type=event["type"],
                payload=event,
                received_at=timezone.now(),
            )
    except IntegrityError:
        return WebhookResult("duplicate")
    if event["type"] != PAYMENT_SUCCEEDED:
        return WebhookResult("ignored")
    order, reference = _paid_order(event.get("data"))
    order_mark_paid(order=order, payment_reference=reference)
    record.order = order
    record.save(update_fields=["order"])
    order.refresh_from_db()
    return WebhookResult("processed", order)
