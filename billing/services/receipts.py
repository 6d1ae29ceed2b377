"""The receipt of a paid order: issued in the payment's transaction, numbered without gaps."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from accounts.models import Account
from notifications.outbox import notify
from points.models import Lot, Order
from points.payments import backend_named

from ..amounts import split_gross
from ..models import BillingDetails, DocumentKind, Receipt
from ..sequences import format_number, next_sequence


def document_parties(account_id: int) -> dict[str, str]:
    """The seller (settings) and the buyer (the account and its billing details) as printed now."""
    details = BillingDetails.objects.select_related("account").filter(account_id=account_id).first()
    if details is None:
        buyer_name, company, address, tax_id = Account.objects.get(pk=account_id).name, "", "", ""
    else:
        buyer_name = details.account.name
        company, address, tax_id = details.company, details.address, details.tax_id
    return {
        "seller_name": settings.HELPDESK_SELLER_NAME,
        "seller_address": settings.HELPDESK_SELLER_ADDRESS,
        "seller_tax_id": settings.HELPDESK_SELLER_TAX_ID,
        "buyer_name": buyer_name,
        "buyer_company": company,
        "buyer_address": address,
        "buyer_tax_id": tax_id,
    }


def issue_year(at) -> int:
    return timezone.localtime(at).year


def receipt_issue_for_paid_order(order: Order, lot: Lot) -> Receipt:
    """Issue the receipt of `order`, just paid (the ledger calls this in the payment's
    transaction, its account locked), and queue the "payment received" e-mail with it."""
    existing = Receipt.objects.filter(order_id=order.pk).first()
    if existing is not None:
        return existing
    at = order.paid_at
    year = issue_year(at)
    sequence = next_sequence(DocumentKind.RECEIPT, year)
    amounts = split_gross(order.price, settings.HELPDESK_TAX_RATE)
    receipt = Receipt.objects.create(
        number=format_number(DocumentKind.RECEIPT, year, sequence),
        year=year,
        sequence=sequence,
        issued_at=at,
        order=order,
        account_id=order.account_id,
        package_name=order.package.name if order.package_id else "",
        points=order.points,
        net=amounts.net,
        tax=amounts.tax,
        gross=amounts.gross,
        tax_rate=amounts.tax_rate,
        currency=order.currency,
        payment_backend=str(backend_named(order.payment_backend).label),
        payment_reference=order.payment_reference,
        paid_at=at,
        **document_parties(order.account_id),
    )
    notify("payment_received", receipt)
    return receipt
