"""Billing's e-mails, registered with the outbox: the receipt of a payment and the credit note of
a refund, each with its PDF attached (made when the e-mail is sent, never stored in the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import MembershipRole
from notifications import events

from .documents import credit_note_pdf, receipt_pdf
from .models import CreditNote, Receipt


def _owner_and_buyer(account_id: int, buyer_id: int | None) -> list[str]:
    """The account owner, and the user who placed the order if still active in the account."""
    users = get_user_model().objects.filter(membership__account_id=account_id, is_active=True)
    owner = users.filter(membership__role=MembershipRole.OWNER)
    buyer = users.filter(pk=buyer_id) if buyer_id else users.none()
    return sorted(set((owner | buyer).values_list("email", flat=True)))


def _receipt_context(receipt: Receipt, context: dict[str, Any], at: datetime) -> dict[str, Any]:
    base = settings.HELPDESK_BASE_URL.rstrip("/")
    return {
        **context,
        "receipt": receipt,
        "receipt_url": base + reverse("billing:receipt", args=[receipt.order_id]),
    }


def _receipt_recipients(receipt: Receipt, context: dict[str, Any]) -> list[str]:
    return _owner_and_buyer(receipt.account_id, receipt.order.created_by_id)


def _receipt_attachments(receipt: Receipt, context: dict[str, Any]):
    return [(f"receipt-{receipt.number}.pdf", receipt_pdf(receipt), "application/pdf")]


def _credit_note_context(note: CreditNote, context: dict[str, Any], at: datetime):
    base = settings.HELPDESK_BASE_URL.rstrip("/")
    return {
        **context,
        "note": note,
        "note_url": base + reverse("billing:credit_note", args=[note.receipt.order_id]),
    }


def _credit_note_recipients(note: CreditNote, context: dict[str, Any]) -> list[str]:
    return _owner_and_buyer(note.account_id, note.receipt.order.created_by_id)


def _credit_note_attachments(note: CreditNote, context: dict[str, Any]):
    return [(f"credit-note-{note.number}.pdf", credit_note_pdf(note), "application/pdf")]


def register_events() -> None:
    events.register(
        "payment_received",
        recipients=_receipt_recipients,
        context=_receipt_context,
        attachments=_receipt_attachments,
    )
    events.register(
        "order_refunded",
        recipients=_credit_note_recipients,
        context=_credit_note_context,
        attachments=_credit_note_attachments,
    )
