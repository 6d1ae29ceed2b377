"""Where a parsed e-mail goes: a bounce marks the outbox, a reply joins its ticket's thread, a new
e-mail from a customer opens a ticket waiting for a quote; everything else is refused with a
reason. The rules of the web apply because the ticket services apply them.

Refusals are decided in this order, so that machine-made mail is never answered: bounces, then
automated mail and loops, then failed authentication, then the reply address's signature, then
who the sender is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from accounts.selectors import account_for_user
from catalog.models import IssueCategory, PricingKind
from core.errors import HelpDeskError
from notifications import envelope
from notifications.sending import notification_mark_undeliverable
from tickets import services as tickets
from tickets.models import Message, Ticket
from tickets.notifications import REPLY_TAG
from tickets.policies import STAFF_PERMISSIONS, Action

from .models import InboundEmail, InboundStatus
from .notifications import answer
from .parsing import ParsedEmail
from .text import reply_text

logger = logging.getLogger(__name__)


@dataclass
class Routed:
    status: str
    outcome: str
    reason: str = ""
    recipient: str = ""
    ticket: Ticket | None = None
    message: Message | None = None
    answered: bool = False
    refused_files: list[str] = field(default_factory=list)


def _rejected(outcome: str, reason: str, **kwargs) -> Routed:
    return Routed(status=InboundStatus.REJECTED, outcome=outcome, reason=reason, **kwargs)


def _bounce(email: ParsedEmail) -> Routed:
    failure = email.delivery_failure
    notification_id = envelope.notification_of_message_id(failure.original_message_id)
    if notification_id is None:
        return _rejected("bounce_unmatched", "A delivery report about an e-mail that is not ours.")
    marked = [
        address
        for address, status in failure.recipients
        if notification_mark_undeliverable(
            notification_id=notification_id, address=address, status=status
        )
    ]
    if not marked:
        return _rejected("bounce_unmatched", "The report names no recipient of that e-mail.")
    return Routed(
        status=InboundStatus.ACCEPTED,
        outcome="bounce",
        reason=f"Notification {notification_id} undeliverable to {', '.join(marked)}",
    )


def _uploads(email: ParsedEmail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """The attachments the web would take, and why each of the others was refused."""
    accepted, refusals = [], []
    for attachment in email.attachments:
        upload = SimpleUploadedFile(attachment.name, attachment.data, attachment.content_type)
        try:
            tickets.attachments_check([upload])
        except tickets.AttachmentRejected as error:
            refusals.append(str(error))
            continue
        if len(accepted) >= settings.HELPDESK_ATTACHMENT_MAX_COUNT:
            refusals.append(
                _("“%(name)s”: at most %(limit)s files are attached to a message.")
                % {"name": attachment.name, "limit": settings.HELPDESK_ATTACHMENT_MAX_COUNT}
            )
            continue
        accepted.append(upload)
    return accepted, refusals


def _body(email: ParsedEmail, *, has_files: bool) -> str:
    text = reply_text(email.text)
    limit = tickets.message_max_chars()
    if len(text) > limit:
        note = _("[The rest of this e-mail was too long and was cut.]")
        text = text[: limit - len(note) - 2].rstrip() + "\n\n" + note
    if not text and has_files:
        text = _("(Files sent by e-mail.)")
    return text


def _sender_user(email: ParsedEmail):
    return get_user_model().objects.with_address(email.sender).filter(is_active=True).first()


def _may_answer_ticket(user, ticket: Ticket) -> bool:
    """Staff who may reply, or a user of the ticket's account now (the address may have been
    forwarded to a colleague; a user who left the account may no longer answer)."""
    if user is None:
        return False
    if user.is_staff:
        return user.has_perm(STAFF_PERMISSIONS[Action.REPLY])
    account = account_for_user(user)
    return account is not None and account.pk == ticket.account_id


def _reply(email: ParsedEmail, address: str, parsed: envelope.ReplyAddress, at) -> Routed:
    ticket = Ticket.objects.filter(pk=parsed.subject_id).first()
    if ticket is None:
        return _rejected("no_ticket", "The reply address names a ticket that does not exist.")
    user = _sender_user(email)
    if not _may_answer_ticket(user, ticket):
        logger.warning(
            "Rejected a reply to ticket %s from %s: the address was issued to user %s",
            ticket.pk,
            email.sender,
            parsed.user_id,
        )
        return _rejected(
            "sender_mismatch",
            f"{email.sender} may not answer this ticket (the address was issued to user "
            f"{parsed.user_id}).",
            recipient=address,
            ticket=ticket,
        )
    uploads, refusals = _uploads(email)
    body = _body(email, has_files=bool(uploads))
    try:
        message = tickets.ticket_reply(
            ticket=ticket, author=user, body=body, attachments=uploads, at=at
        )
    except HelpDeskError as error:
        if not user.is_staff:
            answer("mail_not_posted", ticket, to=email.sender, reason=str(error))
        return _rejected(
            error.code, str(error), recipient=address, ticket=ticket, answered=not user.is_staff
        )
    if refusals:
        answer("mail_attachments_refused", ticket, to=email.sender, refusals=refusals)
    return Routed(
        status=InboundStatus.ACCEPTED,
        outcome="staff_reply" if user.is_staff else "reply",
        reason="; ".join(refusals),
        recipient=address,
        ticket=ticket,
        message=message,
        answered=bool(refusals),
    )


def _new_ticket_category() -> IssueCategory | None:
    categories = IssueCategory.objects.active()
    return (
        categories.filter(name=settings.HELPDESK_MAIL_NEW_TICKET_CATEGORY).first()
        or categories.filter(pricing_kind=PricingKind.UPON_REQUEST).order_by("pk").first()
    )


def _unknown_sender(email: ParsedEmail, at: datetime) -> Routed:
    since = at - timedelta(hours=settings.HELPDESK_MAIL_UNKNOWN_SENDER_HOURS)
    answered_lately = InboundEmail.objects.filter(
        sender=email.sender, outcome="unknown_sender", answered=True, received_at__gte=since
    ).exists()
    if not answered_lately:
        answer("mail_unknown_sender", None, to=email.sender)
    return _rejected(
        "unknown_sender",
        "The sender is not a user of any account.",
        recipient=envelope.support_address(),
        answered=not answered_lately,
    )


def _new_ticket(email: ParsedEmail, at: datetime) -> Routed:
    user = _sender_user(email)
    if user is None:
        return _unknown_sender(email, at)
    account = account_for_user(user)
    if account is None:
        return _rejected("no_account", f"{email.sender} is a user without a customer account.")
    category = _new_ticket_category()
    if category is None:
        return _rejected("no_category", "No active category takes tickets by e-mail.")
    uploads, refusals = _uploads(email)
    body = _body(email, has_files=bool(uploads))
    subject = email.subject or (body.split("\n", 1)[0][:100] if body else "")
    try:
        ticket = tickets.ticket_file(
            account=account,
            filed_by=user,
            category=category,
            subject=subject or _("(no subject)"),
            description=body,
            quote_first=True,
            attachments=uploads,
            at=at,
        )
    except HelpDeskError as error:
        return _rejected(error.code, str(error), recipient=envelope.support_address())
    answer("mail_ticket_opened", ticket, to=email.sender)
    if refusals:
        answer("mail_attachments_refused", ticket, to=email.sender, refusals=refusals)
    return Routed(
        status=InboundStatus.ACCEPTED,
        outcome="new_ticket",
        reason="; ".join(refusals),
        recipient=envelope.support_address(),
        ticket=ticket,
        message=ticket.messages.first(),
        answered=True,
    )


def route(email: ParsedEmail, *, at: datetime) -> Routed:
    """Do what the e-mail asks, if it may; say why not otherwise."""
    if email.delivery_failure is not None:
        return _bounce(email)
    if email.automated:
        return _rejected("automated", f"Automated mail ({email.automated}) is never answered.")
    if email.auth_failed:
        logger.warning("Rejected mail from %s: authentication failed", email.sender)
        return _rejected("auth_failed", "The receiving server says SPF/DKIM/DMARC failed.")
    ours = [a for a in email.recipients if envelope.is_reply_address_of_ours(a)]
    for address in ours:
        parsed = envelope.reply_address_parse(address)
        if parsed is not None and parsed.tag == REPLY_TAG:
            return _reply(email, address, parsed, at)
    if ours:
        logger.warning("Rejected mail from %s to %s: bad signature", email.sender, ours[0])
        return _rejected(
            "bad_signature", "The reply address's signature does not verify.", recipient=ours[0]
        )
    return _new_ticket(email, at)
