"""Orders of points: created for a package and handed to the payment backend at checkout, paid
(exactly one purchase lot) or cancelled."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import lock_account
from accounts.models import Account
from audit.models import AuditKind
from audit.services import audit_record

from .. import hooks
from ..errors import LedgerError, OrderNotPayable, PaymentReferenceConflict
from ..models import Lot, Order, OrderStatus, PointPackage
from ..payments import backend_named, configured_backend
from .lots import points_purchase
from .validation import validate_points


@transaction.atomic
def order_create(
    *, account: Account, package: PointPackage, backend: str, actor: AbstractBaseUser
) -> Order:
    backend_named(backend)  # an order names a registered backend (ImproperlyConfigured otherwise)
    if not package.is_active:
        raise OrderNotPayable(_("This package is no longer on sale."))
    validate_points(package.points)
    return Order.objects.create(
        account=account,
        package=package,
        points=package.points,
        price=package.price,
        currency=package.currency,
        payment_backend=backend,
        created_by=actor,
    )


@transaction.atomic
def order_checkout(*, account: Account, package: PointPackage, actor: AbstractBaseUser) -> Order:
    """Create an order for a package and hand it to the configured payment backend.

    The demo backend pays it at once (a purchase lot exists when this returns); the others leave
    it awaiting payment (by staff, or by the provider's webhook).
    """
    backend = configured_backend()
    order = order_create(account=account, package=package, backend=backend.name, actor=actor)
    payment_reference = backend.checkout(order)
    if payment_reference is not None:
        order_mark_paid(order=order, payment_reference=payment_reference, actor=actor)
        order.refresh_from_db()
    return order


def order_check_staff_may_mark_paid(*, order: Order) -> None:
    """Refuse unless staff may mark the order paid by hand: its backend lets them (manual
    payments), where the others are paid at checkout or by their provider."""
    if not backend_named(order.payment_backend).staff_marks_paid:
        raise OrderNotPayable(
            _("Order #%(id)s is paid through %(backend)s, not by hand.")
            % {"id": order.pk, "backend": order.get_payment_backend_display()},
            code="order_not_paid_by_hand",
        )


@transaction.atomic
def order_mark_paid(
    *,
    order: Order,
    payment_reference: str,
    actor: AbstractBaseUser | None = None,
    by_staff: bool = False,
    at: datetime | None = None,
) -> Lot:
    """Record the payment of an order: exactly one purchase lot, however often it is confirmed.

    `by_staff`: staff confirm a payment they saw, which only the orders of a backend that lets
    them may be (`order_check_staff_may_mark_paid`).
    """
    if by_staff:
        order_check_staff_may_mark_paid(order=order)
    payment_reference = (payment_reference or "").strip()
    if not payment_reference:
        raise LedgerError(
            _("A payment reference is required to mark an order paid."),
            code="payment_reference_required",
        )
    lock_account(order.account_id)
    at = at or timezone.now()
    order = Order.objects.get(pk=order.pk)
    if order.status == OrderStatus.PAID:
        if order.payment_reference != payment_reference:
            raise PaymentReferenceConflict(
                _("Order #%(id)s was already paid with reference %(reference)s.")
                % {"id": order.pk, "reference": order.payment_reference}
            )
        return order.lot
    if order.status == OrderStatus.CANCELLED:
        raise OrderNotPayable(_("Order #%(id)s was cancelled.") % {"id": order.pk})
    order.status = OrderStatus.PAID
    order.payment_reference = payment_reference
    order.paid_at = at
    try:
        with transaction.atomic():
            order.save(update_fields=["status", "payment_reference", "paid_at"])
    except IntegrityError as error:
        raise PaymentReferenceConflict(
            _("Payment reference %(reference)s belongs to another order.")
            % {"reference": payment_reference}
        ) from error
    lot = points_purchase(
        account=order.account,
        points=order.points,
        payment_reference=payment_reference,
        order=order,
        actor=actor,
        at=at,
    )
    hooks.order_paid(order, lot)
    if by_staff:
        audit_record(
            kind=AuditKind.ORDER_MARKED_PAID,
            actor=actor,
            target=order,
            changes={"points": order.points, "payment_reference": payment_reference},
        )
    return lot


@transaction.atomic
def order_cancel(*, order: Order) -> Order:
    lock_account(order.account_id)
    order = Order.objects.get(pk=order.pk)
    if order.status == OrderStatus.PAID:
        raise OrderNotPayable(_("A paid order cannot be cancelled."))
    if order.status != OrderStatus.CANCELLED:
        order.status = OrderStatus.CANCELLED
        order.save(update_fields=["status"])
    return order
