"""Building an account's export: one ZIP of JSON documents and the original files, e-mailed as
a signed link that expires (PRIVACY_EXPORT_LINK_HOURS); expired files are removed."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import Account, Membership
from billing.documents import credit_note_pdf, receipt_pdf
from billing.models import CreditNote, Receipt
from points.models import Order
from points.selectors import statement_entries
from tickets.models import Attachment, Message, Ticket

from .models import DataExport, ExportStatus

logger = logging.getLogger(__name__)

LINK_SALT = "helpdesk.data-export"
SPOOL_BYTES = 8 * 1024 * 1024
COPY_CHUNK = 1024 * 1024


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _account_documents(account: Account) -> dict[str, object]:
    members = Membership.objects.filter(account=account).select_related("user").order_by("id")
    tickets = (
        Ticket.objects.filter(account=account)
        .select_related("category", "filed_by")
        .prefetch_related("cost_changes")
        .order_by("id")
    )
    messages = (
        Message.objects.filter(ticket__account=account, is_internal=False)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("ticket_id", "created_at", "id")
    )
    by_ticket: dict[int, list] = {}
    for message in messages:
        by_ticket.setdefault(message.ticket_id, []).append(message)
    return {
        "account.json": {
            "id": account.pk,
            "name": account.name,
            "created_at": _iso(account.created_at),
        },
        "users.json": [
            {
                "email": m.user.email,
                "first_name": m.user.first_name,
                "last_name": m.user.last_name,
                "role": m.role,
                "since": _iso(m.created_at),
            }
            for m in members
        ],
        "tickets.json": [
            {
                "id": ticket.pk,
                "subject": ticket.subject,
                "category": ticket.category.name,
                "status": ticket.status,
                "outcome": ticket.outcome,
                "urgent": ticket.is_urgent,
                "filed_by": ticket.filed_by.email,
                "created_at": _iso(ticket.created_at),
                "cost_history": [
                    {
                        "kind": change.kind,
                        "old_points": change.old_points,
                        "new_points": change.new_points,
                        "reason": change.reason,
                        "at": _iso(change.created_at),
                    }
                    for change in ticket.cost_changes.all()
                ],
                "messages": [
                    {
                        "from": "staff" if message.is_from_staff else message.author.email,
                        "at": _iso(message.created_at),
                        "text": message.body,
                        "attachments": [
                            _attachment_path(ticket.pk, a) for a in message.attachments.all()
                        ],
                    }
                    for message in by_ticket.get(ticket.pk, [])
                ],
            }
            for ticket in tickets
        ],
        "statement.json": [
            {
                "date": _iso(entry.dated_at),
                "kind": entry.kind,
                "points": entry.amount,
                "lot": entry.lot_id,
                "ticket": entry.hold.ticket_id if entry.hold_id else None,
                "order": entry.order_id,
                "reason": entry.reason,
            }
            for entry in statement_entries(account=account).iterator(chunk_size=2000)
        ],
        "orders.json": [
            {
                "id": order.pk,
                "points": order.points,
                "price": str(order.price),
                "currency": order.currency,
                "status": order.status,
                "payment_reference": order.payment_reference,
                "created_at": _iso(order.created_at),
                "paid_at": _iso(order.paid_at),
            }
            for order in Order.objects.filter(account=account).order_by("id")
        ],
        "receipts.json": [
            {
                **_document(receipt),
                "order": receipt.order_id,
                "package": receipt.package_name,
                "paid_through": receipt.payment_backend,
                "payment_reference": receipt.payment_reference,
                "paid_at": _iso(receipt.paid_at),
                "pdf": _document_path(receipt),
            }
            for receipt in Receipt.objects.filter(account=account).order_by("id")
        ],
        "credit_notes.json": [
            {
                **_document(note),
                "receipt": note.receipt.number,
                "reason": note.reason,
                "pdf": _document_path(note),
            }
            for note in CreditNote.objects.filter(account=account)
            .select_related("receipt")
            .order_by("id")
        ],
    }


def _document(document: Receipt | CreditNote) -> dict[str, object]:
    """What receipts and credit notes share, as issued (they never change)."""
    return {
        "number": document.number,
        "issued_at": _iso(document.issued_at),
        "buyer": document.buyer_name,
        "points": document.points,
        "net": str(document.net),
        "tax": str(document.tax),
        "gross": str(document.gross),
        "tax_rate": str(document.tax_rate),
        "currency": document.currency,
    }


def _document_path(document: Receipt | CreditNote) -> str:
    folder = "receipts" if isinstance(document, Receipt) else "credit-notes"
    return f"{folder}/{document.number}.pdf"


def _attachment_path(ticket_id: int, attachment) -> str:
    name = attachment.name.replace("/", "_").replace("\\", "_")[-120:]
    return f"attachments/ticket-{ticket_id}/{attachment.pk}-{name}"


def data_export_build(*, export_id: int) -> DataExport:
    """Make the ZIP (idempotent: a ready export is left alone) and e-mail the link. A failure
    marks the export failed, so that the owner can ask again."""
    export = DataExport.objects.select_related("account", "requested_by").get(pk=export_id)
    if export.status != ExportStatus.PENDING:
        return export
    try:
        # Spills to disk past a few megabytes: attachments are copied in chunks, never held whole.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            _write_zip(export.account, spool)
            spool.seek(0)
            name = f"{export.account_id}-{get_random_string(32)}.zip"
            export.file.save(name, File(spool), save=False)
    except Exception:
        logger.exception("Data export %s failed", export.pk)
        DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED)
        raise
    export.status = ExportStatus.READY
    export.ready_at = timezone.now()
    export.save(update_fields=["file", "status", "ready_at"])
    _send_link(export)
    return export


def _write_zip(account: Account, target) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, document in _account_documents(account).items():
            archive.writestr(name, json.dumps(document, indent=2, ensure_ascii=False))
        attachments = Attachment.objects.filter(
            message__ticket__account=account, message__is_internal=False
        ).select_related("message")
        for attachment in attachments.iterator(chunk_size=500):
            path = _attachment_path(attachment.message.ticket_id, attachment)
            with attachment.file.open("rb") as source, archive.open(path, "w") as copy:
                shutil.copyfileobj(source, copy, COPY_CHUNK)
        # The documents as the customer downloads them: rendered from what was issued.
        for receipt in Receipt.objects.filter(account=account).order_by("id").iterator():
            archive.writestr(_document_path(receipt), receipt_pdf(receipt))
        notes = CreditNote.objects.filter(account=account).order_by("id")
        for note in notes.iterator():
            archive.writestr(_document_path(note), credit_note_pdf(note))


def data_export_link(export: DataExport) -> str:
    token = signing.dumps(export.pk, salt=LINK_SALT)
    path = reverse("privacy:export_download", kwargs={"token": token})
    return settings.HELPDESK_BASE_URL.rstrip("/") + path


def _send_link(export: DataExport) -> None:
    """Sent at once and never stored: the link is a credential."""
    context = {
        "export": export,
        "link": data_export_link(export),
        "valid_hours": settings.PRIVACY_EXPORT_LINK_HOURS,
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/data_export_ready_subject.txt", context).strip(),
        body=render_to_string("emails/data_export_ready.txt", context),
        to=[export.requested_by.email],
    )
    message.attach_alternative(
        render_to_string("emails/data_export_ready.html", context), "text/html"
    )
    try:
        message.send()
    except Exception:
        logger.exception("Could not send the data export link")


def data_exports_purge(*, at=None) -> int:
    """Remove the files of exports whose link has expired."""
    at = at or timezone.now()
    cutoff = at - timedelta(hours=settings.PRIVACY_EXPORT_LINK_HOURS)
    purged = 0
    for export in DataExport.objects.filter(status=ExportStatus.READY, ready_at__lt=cutoff):
        export.file.delete(save=False)
        export.status = ExportStatus.PURGED
        export.save(update_fields=["file", "status"])
        purged += 1
    return purged
