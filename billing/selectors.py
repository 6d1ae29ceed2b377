"""Reads of billing documents, always within the requesting account."""

from __future__ import annotations

from accounts.models import Account

from .models import BillingDetails, CreditNote, Receipt


def receipt_of_order(*, account: Account, order_id: int) -> Receipt | None:
    return Receipt.objects.filter(account=account, order_id=order_id).first()


def credit_note_of_order(*, account: Account, order_id: int) -> CreditNote | None:
    return (
        CreditNote.objects.select_related("receipt")
        .filter(account=account, receipt__order_id=order_id)
        .first()
    )


def billing_details_of(*, account: Account) -> BillingDetails | None:
    return BillingDetails.objects.filter(account=account).first()
