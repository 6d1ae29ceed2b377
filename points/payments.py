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

A signed event is still checked as untrusted input before anything is stored: at most
PAYMENT_WEBHOOK_MAX_BYTES of UTF-8, JSON nested at most MAX_EVENT_DEPTH deep (measured before it
is parsed), no NUL or lone surrogate in any string (PostgreSQL stores neither), numbers finite
and of bounded length, and the payment's fields of the expected types and ranges.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from core.text import CONTROL_CHARACTERS

from .models import Order, PaymentBackend, PointPackage, WebhookEvent
from .services import LedgerError, order_create, order_mark_paid

if TYPE_CHECKING:
    from helpdesk.models import User

CHECKOUT_BACKENDS = {PaymentBackend.DEMO, PaymentBackend.MANUAL, PaymentBackend.WEBHOOK}
PAYMENT_SUCCEEDED = "payment.succeeded"
SIGNATURE_HEADER = "X-Signature"

# An event is an object holding a "data" object; providers nest metadata a little deeper.
MAX_EVENT_DEPTH = 16
# The longest number literal an event may hold (digits, sign, point, exponent).
MAX_NUMBER_CHARS = 40
BIGINT_MAX = 2**63 - 1
TIMESTAMP = re.compile(r"[0-9]{1,12}")
AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")
CURRENCY = re.compile(r"[A-Za-z]{3}")
# What PostgreSQL can't store in a jsonb string: NUL, and halves of surrogate pairs.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class WebhookRejected(LedgerError):
    """The webhook request is not a valid, signed, fresh event for an existing order."""

    code = "webhook_rejected"


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
        if key == "t" and TIMESTAMP.fullmatch(value):
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


def _nested_too_deep(text: str) -> bool:
    """Whether the JSON text nests objects and arrays deeper than MAX_EVENT_DEPTH: one pass,
    strings skipped, so that parsing never meets a depth that makes it recurse too far."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_EVENT_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse_number(literal: str):
    raise ValueError(f"not a number to store: {literal[:20]}")


def _bounded_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        _refuse_number(literal)
    return int(literal)


def _finite_float(literal: str) -> float:
    value = float(literal) if len(literal) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        _refuse_number(literal)
    return value


def _storable(value: object) -> bool:
    """Whether every string of the parsed event, keys included, can be stored (no NUL, no lone
    surrogate). Iterative; the depth is bounded already."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _short_text(value: object, *, max_length: int) -> str | None:
    """The value as a stripped one-line string of at most `max_length` characters, or None."""
    if not isinstance(value, str) or CONTROL_CHARACTERS.search(value):
        return None
    value = value.strip()
    return value if 0 < len(value) <= max_length else None


@dataclass(frozen=True)
class ParsedEvent:
    id: str
    type: str
    payload: dict


def _parse_event(body: bytes) -> ParsedEvent:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WebhookRejected(_("The body is not UTF-8 text.")) from error
    if _nested_too_deep(text):
        raise WebhookRejected(
            _("The event nests deeper than %(depth)s levels.") % {"depth": MAX_EVENT_DEPTH}
        )
    try:
        event = json.loads(
            text,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            parse_constant=_refuse_number,
        )
    except ValueError as error:
        raise WebhookRejected(_("The body is not valid JSON.")) from error
    if not isinstance(event, dict):
        raise WebhookRejected(_("The event must be a JSON object."))
    if not _storable(event):
        raise WebhookRejected(_("The event holds characters that can't be stored (e.g. NUL)."))
    event_id = _short_text(event.get("id"), max_length=200)
    event_type = _short_text(event.get("type"), max_length=100)
    if event_id is None:
        raise WebhookRejected(_("The event has no valid id."))
    if event_type is None:
        raise WebhookRejected(_("The event has no valid type."))
    return ParsedEvent(id=event_id, type=event_type, payload=event)


def _paid_order(data: object) -> tuple[Order, str]:
    """The order a payment.succeeded event pays, checked against what the provider charged."""
    if not isinstance(data, dict):
        raise WebhookRejected(_("The event has no data."))
    order_id = data.get("order_id")
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise WebhookRejected(_("The event names no order."))
    if not 0 < order_id <= BIGINT_MAX:
        raise WebhookRejected(_("Order #%(id)s does not exist.") % {"id": order_id})
    reference = _short_text(data.get("payment_reference"), max_length=200)
    if reference is None:
        raise WebhookRejected(_("The event has no payment reference."))
    amount, currency = data.get("amount"), data.get("currency")
    if not isinstance(amount, str) or not AMOUNT.fullmatch(amount):
        raise WebhookRejected(_("The event has no valid amount (a decimal string)."))
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency):
        raise WebhookRejected(_("The event has no valid currency (three letters)."))
    points = data.get("points")
    if "points" in data and (
        isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= BIGINT_MAX
    ):
        raise WebhookRejected(_("The event's points must be a positive whole number."))
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise WebhookRejected(_("Order #%(id)s does not exist.") % {"id": order_id})
    if (
        Decimal(amount) != order.price
        or currency.upper() != order.currency.upper()
        or data.get("points", order.points) != order.points
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
    return order, reference


@transaction.atomic
def webhook_receive(*, body: bytes, signature: str, now: float | None = None) -> WebhookResult:
    """Handle one signed provider event, once per event id.

    A refused event (too large, bad signature, stale timestamp, malformed or unstorable, an
    amount that does not match the order, an order that can't be paid) raises and, being atomic,
    records nothing, so the provider can retry a corrected event.
    """
    limit = settings.PAYMENT_WEBHOOK_MAX_BYTES
    if len(body) > limit:
        raise WebhookRejected(_("The event is larger than %(limit)s bytes.") % {"limit": limit})
    webhook_verify(body=body, header=signature, now=now)
    event = _parse_event(body)
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                event_id=event.id,
                event_type=event.type,
                payload=event.payload,
                received_at=timezone.now(),
            )
    except IntegrityError:
        return WebhookResult("duplicate")
    if event.type != PAYMENT_SUCCEEDED:
        return WebhookResult("ignored")
    order, reference = _paid_order(event.payload.get("data"))
    order_mark_paid(order=order, payment_reference=reference)
    record.order = order
    record.save(update_fields=["order"])
    order.refresh_from_db()
    return WebhookResult("processed", order)
