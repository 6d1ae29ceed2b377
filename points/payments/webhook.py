"""A payment provider that confirms payments with signed webhook events.

Checkout leaves the order waiting; the provider's signed event pays it. Whatever backend checkout
uses, the provider's events are received (`points.services.webhook_receive`), so a pending order
can always be confirmed by the provider.

Event format (Stripe-like). The request body is JSON::

    {"id": "evt_123", "type": "payment.succeeded",
     "data": {"order_id": 42, "payment_reference": "pay_abc", "amount": "100.00",
              "currency": "USD", "points": 100}}

and the ``X-Signature`` header is ``t=<unix timestamp>,v1=<hex HMAC-SHA256>``, the HMAC being taken
with PAYMENT_WEBHOOK_SECRET over ``"<timestamp>.<raw body>"``. Events older or newer than
PAYMENT_WEBHOOK_TOLERANCE_SECONDS are refused (replays).

A signed event is still checked as untrusted input before anything is stored: UTF-8, JSON nested
at most MAX_EVENT_DEPTH deep (measured before it is parsed), no NUL or lone surrogate in any
string (PostgreSQL stores neither), numbers finite and of bounded length, and the payment's fields
of the expected types and ranges.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.json_input import json_loads_bounded, nested_too_deep
from core.numbers import BIGINT_MAX
from core.text import CONTROL_CHARACTERS

from ..errors import WebhookRejected
from .base import Backend, PaymentConfirmed, ProviderEvent, register

PAYMENT_SUCCEEDED = "payment.succeeded"
SIGNATURE_HEADER = "X-Signature"

# An event is an object holding a "data" object; providers nest metadata a little deeper.
MAX_EVENT_DEPTH = 16
TIMESTAMP = re.compile(r"[0-9]{1,12}")
AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")
CURRENCY = re.compile(r"[A-Za-z]{3}")
# What PostgreSQL can't store in a jsonb string: NUL, and halves of surrogate pairs.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@register
class WebhookBackend(Backend):
    name = "webhook"
    label = gettext_lazy("payment provider")
    notice = gettext_lazy(
        "You pay an order through our payment provider. The points are added to your balance as "
        "soon as the provider confirms the payment; you can follow the order on its page."
    )

    def event_from_request(
        self, *, body: bytes, headers: Mapping[str, str], now: float | None = None
    ) -> ProviderEvent:
        webhook_verify(body=body, header=headers.get(SIGNATURE_HEADER, ""), now=now)
        return _parse_event(body)

    def payment_in(self, event: ProviderEvent) -> PaymentConfirmed | None:
        if event.type != PAYMENT_SUCCEEDED:
            return None
        return _payment(event.payload.get("data"))


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


def _parse_event(body: bytes) -> ProviderEvent:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WebhookRejected(_("The body is not UTF-8 text.")) from error
    if nested_too_deep(text, max_depth=MAX_EVENT_DEPTH):
        raise WebhookRejected(
            _("The event nests deeper than %(depth)s levels.") % {"depth": MAX_EVENT_DEPTH}
        )
    try:
        event = json_loads_bounded(text, max_depth=MAX_EVENT_DEPTH)
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
    return ProviderEvent(id=event_id, type=event_type, payload=event)


def _payment(data: object) -> PaymentConfirmed:
    """The payment a payment.succeeded event confirms, its fields checked for type and range."""
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
    return PaymentConfirmed(
        order_id=order_id,
        payment_reference=reference,
        amount=Decimal(amount),
        currency=currency,
        points=points,
    )
