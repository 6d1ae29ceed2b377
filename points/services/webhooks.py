"""A payment provider's signed events: recorded once per provider and event id, and the order a
payment event names paid through `order_mark_paid` (exactly one purchase lot)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import WebhookRejected
from ..models import Order, WebhookEvent
from ..payments import PaymentConfirmed, backend_named
from .orders import order_mark_paid


@dataclass(frozen=True)
class WebhookResult:
    status: str  # "processed", "duplicate" or "ignored"
    order: Order | None = None


@transaction.atomic
def webhook_receive(
    *, provider: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> WebhookResult:
    """Handle one signed event of `provider`, once per event id.

    A refused event (too large, bad signature, stale timestamp, malformed or unstorable, an
    amount that does not match the order, an order that can't be paid) raises and, being atomic,
    records nothing, so the provider can retry a corrected event.
    """
    limit = settings.PAYMENT_WEBHOOK_MAX_BYTES
    if len(body) > limit:
        raise WebhookRejected(_("The event is larger than %(limit)s bytes.") % {"limit": limit})
    backend = backend_named(provider)
    event = backend.event_from_request(body=body, headers=headers, now=now)
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                provider=backend.name,
                event_id=event.id,
                event_type=event.type,
                payload=event.payload,
                received_at=timezone.now(),
            )
    except IntegrityError:
        return WebhookResult("duplicate")
    payment = backend.payment_in(event)
    if payment is None:
        return WebhookResult("ignored")
    order = _order_paid_by(payment)
    order_mark_paid(order=order, payment_reference=payment.payment_reference)
    record.order = order
    record.save(update_fields=["order"])
    order.refresh_from_db()
    return WebhookResult("processed", order)


def _order_paid_by(payment: PaymentConfirmed) -> Order:
    """The order the payment names, if the provider charged what the order costs."""
    order = Order.objects.filter(pk=payment.order_id).first()
    if order is None:
        raise WebhookRejected(_("Order #%(id)s does not exist.") % {"id": payment.order_id})
    if (
        payment.amount != order.price
        or payment.currency.upper() != order.currency.upper()
        or (payment.points is not None and payment.points != order.points)
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
    return order
