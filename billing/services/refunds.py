"""Refunding a paid order: its unused points leave the account (the ledger's journal entry) and
a credit note against its receipt says how much money is returned.

The money is at most the payment's share of the points removed (`order_refund_bound`); staff may
refund less (a fee kept, a partial goodwill refund) but never more, and an order is refunded once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditKind
from audit.services import audit_record
from core.errors import HelpDeskError
from notifications.outbox import notify
from points.models import Lot, Order
from points.services import order_points_refund, refundable_points

from ..amounts import CENT, proportional_refund, split_gross
from ..models import CreditNote, DocumentKind, Receipt
from ..sequences import format_number, next_sequence
from .receipts import document_parties, issue_year


class RefundRefused(HelpDeskError):
    code = "refund_refused"


def order_refund_bound(*, receipt: Receipt, at: datetime | None = None) -> tuple[int, Decimal]:
    """The points a refund would remove now and the most money it may return for them."""
    lot = Lot.objects.get(order_id=receipt.order_id)
    points = refundable_points(lot, at or timezone.now())
    return points, proportional_refund(receipt.gross, points, receipt.points)


@transaction.atomic
def order_refund(
    *,
    receipt: Receipt,
    reason: str,
    actor: AbstractBaseUser,
    amount: Decimal | None = None,
    at: datetime | None = None,
) -> CreditNote:
    """Refund the order of `receipt`: remove its unused points and issue a credit note for
    `amount` (default: the proportional bound)."""
    at = at or timezone.now()
    if CreditNote.objects.filter(receipt_id=receipt.pk).exists():
        raise RefundRefused(
            _("Receipt %(number)s was refunded already.") % {"number": receipt.number},
            code="order_refunded_already",
        )
    order = Order.objects.get(pk=receipt.order_id)
    # Locks the account first: a concurrent refund of this order waits, then is refused there.
    points = order_points_refund(order=order, reason=reason, actor=actor, at=at)
    bound = proportional_refund(receipt.gross, points, receipt.points)
    if amount is None:
        amount = bound
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise RefundRefused(_("The amount must be a number."), code="refund_amount_invalid")
    if amount != amount.quantize(CENT) or amount <= 0 or amount > bound:
        raise RefundRefused(
            _("The refund must be more than 0 and at most %(bound)s %(currency)s.")
            % {"bound": bound, "currency": receipt.currency},
            code="refund_amount_out_of_bounds",
        )
    year = issue_year(at)
    sequence = next_sequence(DocumentKind.CREDIT_NOTE, year)
    amounts = split_gross(amount, receipt.tax_rate)
    note = CreditNote.objects.create(
        number=format_number(DocumentKind.CREDIT_NOTE, year, sequence),
        year=year,
        sequence=sequence,
        issued_at=at,
        receipt=receipt,
        account_id=receipt.account_id,
        points=points,
        net=amounts.net,
        tax=amounts.tax,
        gross=amounts.gross,
        tax_rate=amounts.tax_rate,
        currency=receipt.currency,
        reason=reason.strip(),
        issued_by=actor,
        **document_parties(receipt.account_id),
    )
    audit_record(
        kind=AuditKind.REFUND,
        actor=actor,
        target=note,
        changes={
            "order": order.pk,
            "receipt": receipt.number,
            "credit_note": note.number,
            "points": points,
            "amount": str(note.gross),
            "currency": note.currency,
        },
        reason=note.reason,
    )
    notify("order_refunded", note)
    return note
