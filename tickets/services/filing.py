"""Filing a ticket: its price is captured in the same transaction, or it waits for a quote."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import lock_account
from accounts.models import Account
from catalog.models import IssueCategory
from points import services as ledger

from ..attachments import attachments_check
from ..errors import TicketError
from ..models import CostChangeKind, StatusChange, Ticket, TicketStatus
from ..notifications import notify
from ..rendering import render_markdown
from ..sla import first_response_due
from .common import checked_text, message_max_chars, price_multiplier, record_cost
from .thread import add_message

if TYPE_CHECKING:
    from helpdesk.models import User


@transaction.atomic
def ticket_file(
    *,
    account: Account,
    filed_by: User,
    category: IssueCategory,
    subject: str,
    description: str,
    is_urgent: bool = False,
    quote_first: bool = False,
    attachments: Iterable[UploadedFile] = (),
    at: datetime | None = None,
) -> Ticket:
    """File a ticket and capture its price in one transaction.

    Upon-request categories and quote-first tickets capture nothing and wait for a quote. If the
    balance does not cover the price, `points.services.InsufficientPoints` is raised and nothing
    is created.
    """
    at = at or timezone.now()
    subject = checked_text(
        subject, max_length=Ticket._meta.get_field("subject").max_length, label=_("The subject")
    )
    description = checked_text(
        description, max_length=message_max_chars, label=_("The description")
    )
    if not subject or not description:
        raise TicketError(
            _("A subject and a description are required."),
            code="subject_and_description_required",
        )
    # Rendered before the account is locked: the lock is held only for the writes.
    description_html = render_markdown(description)
    if not IssueCategory.objects.active().filter(pk=category.pk).exists():
        raise TicketError(_("This issue category is not available."), code="category_unavailable")
    attachments = attachments_check(attachments)
    base_price = category.capture_points
    waits_for_quote = category.pricing.waits_for_quote or quote_first
    lock_account(account.pk)
    ticket = Ticket.objects.create(
        account=account,
        filed_by=filed_by,
        category=category,
        subject=subject,
        status=TicketStatus.AWAITING_QUOTE if waits_for_quote else TicketStatus.OPEN,
        is_urgent=is_urgent,
        quote_first=quote_first,
        created_at=at,
        last_activity_at=at,
        first_response_due_at=first_response_due(at, urgent=is_urgent),
    )
    StatusChange.objects.create(
        ticket=ticket, to_status=ticket.status, actor=filed_by, created_at=at
    )
    if not waits_for_quote:
        price = base_price * price_multiplier(ticket)
        ledger.hold_capture(
            ticket=ticket,
            points=price,
            actor=filed_by,
            reason=_("Ticket #%(id)s filed") % {"id": ticket.pk},
            at=at,
        )
        reason = _("Price of %(category)s") % {"category": category.name}
        if is_urgent:
            reason = _("%(reason)s, doubled for HotRush") % {"reason": reason}
        record_cost(
            ticket,
            kind=CostChangeKind.CAPTURED,
            old=None,
            new=price,
            reason=reason,
            actor=filed_by,
            at=at,
        )
    # After the capture: a refused capture leaves no uploaded file behind in the storage.
    add_message(
        ticket=ticket,
        author=filed_by,
        body=description,
        body_html=description_html,
        attachments=attachments,
        internal=False,
        at=at,
    )
    notify("ticket_filed", ticket)
    return ticket
