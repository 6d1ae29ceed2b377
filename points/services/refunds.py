"""Refunding a paid order's points: what of its lot is still unused leaves the account (points
captured for tickets or already deducted stay; expired points are gone anyway). The money side
(how much, the credit note) is billing's."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import lock_account

from .. import journal
from ..errors import OrderNotRefundable
from ..models import Entry, EntryKind, Lot, Order, OrderStatus
from .alerts import balance_alert_check
from .validation import require_reason


def refundable_points(lot: Lot, at: datetime) -> int:
    """The lot's points a refund would remove now: available and not expired."""
    return lot.remaining if lot.expires_at > at and lot.expired_at is None else 0


@transaction.atomic
def order_points_refund(
    *,
    order: Order,
    reason: str,
    actor: AbstractBaseUser | None,
    at: datetime | None = None,
) -> int:
    """Remove the unused points of a paid order's lot (once); returns how many were removed.

    Refused when the order is not paid, was refunded already, or has no unused points left.
    """
    reason = require_reason(reason)
    lock_account(order.account_id)
    at = at or timezone.now()
    order = Order.objects.get(pk=order.pk)
    if order.status != OrderStatus.PAID:
        raise OrderNotRefundable(_("Only a paid order can be refunded."))
    lot = Lot.objects.select_for_update().get(order=order)
    if Entry.objects.filter(lot=lot, kind=EntryKind.ORDER_REFUND).exists():
        raise OrderNotRefundable(
            _("Order #%(id)s was refunded already.") % {"id": order.pk},
            code="order_refunded_already",
        )
    points = refundable_points(lot, at)
    if not points:
        raise OrderNotRefundable(
            _("Order #%(id)s has no unused points left to refund.") % {"id": order.pk},
            code="order_nothing_to_refund",
        )
    lot.remaining -= points
    lot.save(update_fields=["remaining"])
    journal.record_order_refund(lot=lot, points=points, actor=actor, reason=reason, at=at)
    balance_alert_check(account_id=order.account_id, at=at)
    return points
