"""The thread: customer replies (reopening a resolved ticket within the window), staff replies
(the first public one is the first response) and internal notes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..attachments import attachments_check
from ..errors import TicketError
from ..models import Attachment, Message, Ticket, TicketStatus
from ..notifications import notify
from ..policies import Action
from ..rendering import RENDERER_VERSION, render_markdown
from .common import checked_text, lock_and_check, message_max_chars
from .hotrush import hotrush_compensate_if_late
from .status import ticket_move

if TYPE_CHECKING:
    from helpdesk.models import User

S = TicketStatus


def add_message(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    body_html: str,
    attachments: Iterable[UploadedFile],
    internal: bool,
    at: datetime,
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        body=body,
        body_html=body_html,
        body_html_version=RENDERER_VERSION,
        is_internal=internal,
        is_from_staff=author.is_staff,
        created_at=at,
    )
    for upload in attachments:
        Attachment.objects.create(
            message=message,
            file=upload,
            name=upload.name[:255],
            content_type=getattr(upload, "content_type", "") or "application/octet-stream",
            size=upload.size,
            created_at=at,
        )
    return message


def _message_body(body: str) -> str:
    body = checked_text(body, max_length=message_max_chars, label=_("The message"))
    if not body:
        raise TicketError(_("The message is empty."), code="message_empty")
    return body


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    attachments: Iterable[UploadedFile] = (),
    internal: bool = False,
    at: datetime | None = None,
) -> Message:
    """Add a message. A customer's reply to a resolved ticket reopens it within the reopen window;
    the first public staff reply sets the first-response time.
    """
    at = at or timezone.now()
    body = _message_body(body)
    attachments = attachments_check(attachments)
    body_html = render_markdown(body)
    action = Action.ADD_NOTE if internal else Action.REPLY
    ticket = lock_and_check(ticket, action, actor=author, at=at)
    if author.is_staff:
        if not internal and ticket.first_response_at is None:
            ticket.first_response_at = at
            ticket.save(update_fields=["first_response_at"])
            hotrush_compensate_if_late(ticket, responded_at=at, at=at)
        if not internal and ticket.status == S.OPEN:
            ticket_move(ticket=ticket, to_status=S.IN_PROGRESS, actor=author, at=at)
    elif ticket.status in (S.RESOLVED, S.WAITING_FOR_CUSTOMER):
        # The policy allowed the reply: a resolved ticket is still within its reopen window.
        ticket_move(ticket=ticket, to_status=S.IN_PROGRESS, actor=author, at=at)
    message = add_message(
        ticket=ticket,
        author=author,
        body=body,
        body_html=body_html,
        attachments=attachments,
        internal=internal,
        at=at,
    )
    if not internal:
        ticket.last_activity_at = at
        ticket.save(update_fields=["last_activity_at"])
        notify("staff_replied" if author.is_staff else "customer_replied", ticket, message=message)
    return message
