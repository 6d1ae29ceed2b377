"""Everything that changes a ticket: filing, messages, status moves, cost, quotes, resolution.

Each function is atomic. Point movements go through `points.services` (which lock the account);
a refused ledger operation rolls back the whole ticket operation, so nothing is half-done.
Notifications are queued after commit (`tickets.notifications.notify`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.locks import lock_account
from accounts.models import Account
from catalog.models import IssueCategory, PricingKind
from core.errors import HelpDeskError
from core.text import REASON_MAX_CHARS, TextRejected, text_check
from points import services as ledger
from points.models import Hold, HoldStatus
from points.selectors import points_available

from .models import (
    ACTIVE_STATUSES,
    AccessDetails,
    AccessDetailsView,
    Attachment,
    CostChange,
    CostChangeKind,
    Message,
    Quote,
    QuoteStatus,
    Rating,
    ReconsiderationRequest,
    ReconsiderationStatus,
    StatusChange,
    Ticket,
    TicketOutcome,
    TicketStatus,
    TimeLog,
)
from .notifications import notify
from .rendering import RENDERER_VERSION, render_markdown
from .sla import first_response_due

if TYPE_CHECKING:
    from helpdesk.models import User

S = TicketStatus

# The longest stretch of work one time log may record: a day.
MAX_LOGGED_MINUTES = 24 * 60

# The one table of allowed status moves. Moves into RESOLVED and CANCELLED carry ledger effects
# and are made by ticket_resolve / ticket_cancel / ticket_mark_software_bug / ticket_decline_quote.
TRANSITIONS: dict[str, set[str]] = {
    S.AWAITING_QUOTE: {S.OPEN, S.CANCELLED},
    S.OPEN: {S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER, S.RESOLVED, S.CANCELLED},
    S.IN_PROGRESS: {S.WAITING_FOR_CUSTOMER, S.RESOLVED, S.CANCELLED},
    S.WAITING_FOR_CUSTOMER: {S.IN_PROGRESS, S.RESOLVED, S.CANCELLED},
    S.RESOLVED: {S.IN_PROGRESS, S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
# Moves staff may make directly (the others happen through the actions above).
MANUAL_TRANSITIONS: dict[str, set[str]] = {
    S.OPEN: {S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER},
    S.IN_PROGRESS: {S.WAITING_FOR_CUSTOMER},
    S.WAITING_FOR_CUSTOMER: {S.IN_PROGRESS},
    S.RESOLVED: {S.IN_PROGRESS, S.CLOSED},
}


class TicketError(HelpDeskError):
    """A ticket operation was refused; nothing was changed."""

    code = "ticket_refused"


class TransitionNotAllowed(TicketError):
    code = "transition_not_allowed"


class CostOutOfBounds(TicketError):
    code = "cost_out_of_bounds"


class ReconsiderationPending(TicketError):
    """The customer's reconsideration request must be decided before the ticket is resolved."""

    code = "reconsideration_pending"


def _lock_ticket(ticket: Ticket) -> Ticket:
    """The ticket row, locked and fresh (after its account, in the ledger's lock order)."""
    lock_account(ticket.account_id)
    return Ticket.objects.select_for_update().select_related("category").get(pk=ticket.pk)


def _text(value: str, *, max_length, label: str, strip: bool = True) -> str:
    """`core.text.text_check`, refusing as a TicketError."""
    try:
        return text_check(value, max_length=max_length, label=label, strip=strip)
    except TextRejected as error:
        raise TicketError(str(error)) from error


def message_max_chars() -> int:
    """The longest message a ticket takes (a setting, read when it is used)."""
    return settings.HELPDESK_MESSAGE_MAX_CHARS


def _message_body(body: str) -> str:
    body = _text(body, max_length=message_max_chars, label=_("The message"))
    if not body:
        raise TicketError(_("The message is empty."))
    return body


def _price_multiplier(ticket: Ticket) -> int:
    return 2 if ticket.is_urgent else 1


def _current_hold(ticket: Ticket) -> Hold | None:
    return Hold.objects.filter(ticket=ticket).first()


def _record_cost(
    ticket: Ticket,
    *,
    kind: str,
    old: int | None,
    new: int,
    reason: str,
    actor: User | None,
    at: datetime,
    outside_bounds: bool = False,
) -> CostChange:
    return CostChange.objects.create(
        ticket=ticket,
        kind=kind,
        old_points=old,
        new_points=new,
        reason=reason,
        actor=actor,
        created_at=at,
        outside_bounds=outside_bounds,
    )


def _change_held_cost(
    ticket: Ticket,
    *,
    kind: str,
    old: int,
    new: int,
    reason: str,
    actor: User,
    at: datetime,
    outside_bounds: bool = False,
) -> CostChange:
    """Move the open hold from `old` to `new` points, record the change and tell the customer."""
    if new != old:
        ledger.hold_change(ticket=ticket, points=new, reason=reason, actor=actor, at=at)
    change = _record_cost(
        ticket,
        kind=kind,
        old=old,
        new=new,
        reason=reason,
        actor=actor,
        at=at,
        outside_bounds=outside_bounds,
    )
    notify("cost_changed", ticket, cost_change=change)
    return change


def ticket_move(*, ticket: Ticket, to_status: str, actor: User | None, at: datetime) -> Ticket:
    """The one door for status changes: checks TRANSITIONS, records the move."""
    if to_status not in TRANSITIONS[ticket.status]:
        raise TransitionNotAllowed(
            _("A ticket that is %(from)s cannot become %(to)s.")
            % {"from": S(ticket.status).label, "to": S(to_status).label}
        )
    StatusChange.objects.create(
        ticket=ticket, from_status=ticket.status, to_status=to_status, actor=actor, created_at=at
    )
    ticket.status = to_status
    fields = ["status"]
    if to_status == S.RESOLVED:
        ticket.resolved_at = at
        fields.append("resolved_at")
    if to_status in (S.CLOSED, S.CANCELLED):
        ticket.closed_at = at
        fields.append("closed_at")
    if to_status == S.IN_PROGRESS and ticket.resolved_at is not None:
        ticket.resolved_at = None
        ticket.outcome = ""
        fields += ["resolved_at", "outcome"]
    ticket.save(update_fields=fields)
    return ticket


@transaction.atomic
def ticket_move_manually(*, ticket: Ticket, to_status: str, actor: User) -> Ticket:
    """A status change staff make by hand (no points involved)."""
    ticket = _lock_ticket(ticket)
    if to_status not in MANUAL_TRANSITIONS.get(ticket.status, set()):
        raise TransitionNotAllowed(
            _("A ticket that is %(from)s cannot be set to %(to)s by hand.")
            % {"from": S(ticket.status).label, "to": S(to_status).label}
        )
    return ticket_move(ticket=ticket, to_status=to_status, actor=actor, at=timezone.now())


def _add_message(
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


# --- Attachments ------------------------------------------------------------------------------


class AttachmentRejected(TicketError):
    code = "attachment_rejected"


TEXT = "text"
# For each allowed extension: the content type the file is stored and served with (the browser's
# claim is not trusted), and how its content must start, as alternatives of (offset, bytes)
# parts; TEXT: no NUL byte. Extensions added in settings but unknown here are stored as binary.
ATTACHMENT_TYPES: dict[str, tuple[str, object]] = {
    "png": ("image/png", [((0, b"\x89PNG\r\n\x1a\n"),)]),
    "jpg": ("image/jpeg", [((0, b"\xff\xd8\xff"),)]),
    "jpeg": ("image/jpeg", [((0, b"\xff\xd8\xff"),)]),
    "gif": ("image/gif", [((0, b"GIF87a"),), ((0, b"GIF89a"),)]),
    "webp": ("image/webp", [((0, b"RIFF"), (8, b"WEBP"))]),
    "pdf": ("application/pdf", [((0, b"%PDF-"),)]),
    "zip": ("application/zip", [((0, b"PK\x03\x04"),), ((0, b"PK\x05\x06"),)]),
    "txt": ("text/plain", TEXT),
    "log": ("text/plain", TEXT),
    "csv": ("text/csv", TEXT),
    "json": ("application/json", TEXT),
}


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _content_matches(head: bytes, rule: object) -> bool:
    if rule is None:
        return True
    if rule == TEXT:
        return b"\x00" not in head
    return any(
        all(head[offset : offset + len(part)] == part for offset, part in alternative)
        for alternative in rule
    )


def attachments_check(files: Iterable[UploadedFile]) -> list[UploadedFile]:
    """The files, checked against the attachment limits (HELPDESK_ATTACHMENT_* settings).

    Raises AttachmentRejected naming the first file refused. Each accepted file's content type is
    set from its extension.
    """
    files = [upload for upload in files if upload]
    limit = settings.HELPDESK_ATTACHMENT_MAX_COUNT
    if len(files) > limit:
        raise AttachmentRejected(
            ngettext(
                "You can attach at most %(limit)s file to a message.",
                "You can attach at most %(limit)s files to a message.",
                limit,
            )
            % {"limit": limit}
        )
    allowed = [ext.lower().lstrip(".") for ext in settings.HELPDESK_ATTACHMENT_EXTENSIONS]
    max_bytes = settings.HELPDESK_ATTACHMENT_MAX_BYTES
    for upload in files:
        name = upload.name or ""
        extension = _extension(name)
        if extension not in allowed:
            raise AttachmentRejected(
                _("“%(name)s” can't be attached: allowed file types are %(types)s.")
                % {"name": name, "types": ", ".join(allowed)}
            )
        if not upload.size:
            raise AttachmentRejected(_("“%(name)s” is empty.") % {"name": name})
        if upload.size > max_bytes:
            raise AttachmentRejected(
                _("“%(name)s” is too large (%(size)s); the limit is %(limit)s per file.")
                % {
                    "name": name,
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(max_bytes),
                }
            )
        content_type, rule = ATTACHMENT_TYPES.get(extension, ("application/octet-stream", None))
        upload.seek(0)
        head = upload.read(8192)
        upload.seek(0)
        if not _content_matches(head, rule):
            raise AttachmentRejected(
                _("“%(name)s” is not a valid .%(extension)s file.")
                % {"name": name, "extension": extension}
            )
        upload.content_type = content_type
    return files


# --- Filing -----------------------------------------------------------------------------------


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
    subject = _text(
        subject, max_length=Ticket._meta.get_field("subject").max_length, label=_("The subject")
    )
    description = _text(description, max_length=message_max_chars, label=_("The description"))
    if not subject or not description:
        raise TicketError(_("A subject and a description are required."))
    # Rendered before the account is locked: the lock is held only for the writes.
    description_html = render_markdown(description)
    if not IssueCategory.objects.active().filter(pk=category.pk).exists():
        raise TicketError(_("This issue category is not available."))
    attachments = attachments_check(attachments)
    base_price = category.capture_points
    waits_for_quote = base_price is None or quote_first
    lock_account(account.pk)
    ticket = Ticket.objects.create(
        account=account,
        filed_by=filed_by,
        category=category,
        subject=subject,
        status=S.AWAITING_QUOTE if waits_for_quote else S.OPEN,
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
        price = base_price * _price_multiplier(ticket)
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
        _record_cost(
            ticket,
            kind=CostChangeKind.CAPTURED,
            old=None,
            new=price,
            reason=reason,
            actor=filed_by,
            at=at,
        )
    # After the capture: a refused capture leaves no uploaded file behind in the storage.
    _add_message(
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


# --- Messages ---------------------------------------------------------------------------------


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
    if internal and not author.is_staff:
        raise TicketError(_("Only staff can write internal notes."))
    attachments = attachments_check(attachments)
    body_html = render_markdown(body)
    ticket = _lock_ticket(ticket)
    if ticket.status in (S.CLOSED, S.CANCELLED) and not internal:
        raise TicketError(
            _("This ticket is %(status)s. Please file a new ticket.")
            % {"status": S(ticket.status).label}
        )
    if author.is_staff:
        if not internal and ticket.first_response_at is None:
            ticket.first_response_at = at
            ticket.save(update_fields=["first_response_at"])
        if not internal and ticket.status == S.OPEN:
            ticket_move(ticket=ticket, to_status=S.IN_PROGRESS, actor=author, at=at)
    elif ticket.status == S.RESOLVED:
        reopen_until = ticket.resolved_at + timedelta(days=settings.HELPDESK_REOPEN_DAYS)
        if at > reopen_until:
            raise TicketError(
                _(
                    "This ticket was resolved more than %(days)s days ago and can no longer be "
                    "reopened. Please file a new ticket."
                )
                % {"days": settings.HELPDESK_REOPEN_DAYS}
            )
        ticket_move(ticket=ticket, to_status=S.IN_PROGRESS, actor=author, at=at)
    elif ticket.status == S.WAITING_FOR_CUSTOMER:
        ticket_move(ticket=ticket, to_status=S.IN_PROGRESS, actor=author, at=at)
    message = _add_message(
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


# --- Customer actions -------------------------------------------------------------------------


@transaction.atomic
def ticket_cancel(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """The customer withdraws a ticket before the first staff response: its points come back."""
    at = at or timezone.now()
    ticket = _lock_ticket(ticket)
    if ticket.first_response_at is not None:
        raise TicketError(_("Support has already answered this ticket; it can't be cancelled."))
    if ticket.status not in ACTIVE_STATUSES:
        raise TicketError(_("Only a ticket in progress can be cancelled."))
    hold = _current_hold(ticket)
    if hold is not None and hold.status == HoldStatus.OPEN:
        returned = hold.amount
        ledger.hold_release(
            ticket=ticket, reason=_("Ticket cancelled by the customer"), actor=actor, at=at
        )
        if returned:
            _record_cost(
                ticket,
                kind=CostChangeKind.RETURNED,
                old=returned,
                new=0,
                reason=_("Ticket cancelled before the first response"),
                actor=actor,
                at=at,
            )
    Quote.objects.filter(ticket=ticket, status=QuoteStatus.PENDING).update(
        status=QuoteStatus.DECLINED, decided_by=actor, decided_at=at
    )
    return ticket_move(ticket=ticket, to_status=S.CANCELLED, actor=actor, at=at)


def _remove_urgency(ticket: Ticket, *, actor: User, reason: str, at: datetime) -> Ticket:
    if not ticket.is_urgent:
        raise TicketError(_("This ticket is not HotRush (urgent)."))
    if ticket.status not in ACTIVE_STATUSES:
        raise TicketError(_("HotRush can only be removed while the ticket is in progress."))
    hold = _current_hold(ticket)
    if hold is not None and hold.status == HoldStatus.OPEN and hold.amount:
        old = hold.amount
        new = old // 2
        ledger.hold_change(ticket=ticket, points=new, reason=reason, actor=actor, at=at)
        _record_cost(
            ticket,
            kind=CostChangeKind.URGENCY_REMOVED,
            old=old,
            new=new,
            reason=reason,
            actor=actor,
            at=at,
        )
    ticket.is_urgent = False
    ticket.first_response_due_at = first_response_due(ticket.created_at, urgent=False)
    ticket.save(update_fields=["is_urgent", "first_response_due_at"])
    return ticket


@transaction.atomic
def ticket_drop_urgency(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """The customer drops urgency before the ticket is assigned; the surcharge comes back."""
    at = at or timezone.now()
    ticket = _lock_ticket(ticket)
    if ticket.assignee_id is not None:
        raise TicketError(_("The ticket is already assigned; ask support to remove HotRush."))
    return _remove_urgency(ticket, actor=actor, reason=_("HotRush dropped by the customer"), at=at)


@transaction.atomic
def ticket_accept_quote(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """Accept the pending quote: its points are captured and work starts."""
    at = at or timezone.now()
    ticket = _lock_ticket(ticket)
    quote = Quote.objects.filter(ticket=ticket, status=QuoteStatus.PENDING).first()
    if quote is None or ticket.status != S.AWAITING_QUOTE:
        raise TicketError(_("There is no quote waiting for your answer."))
    ledger.hold_capture(
        ticket=ticket,
        points=quote.points,
        actor=actor,
        reason=_("Quote accepted for ticket #%(id)s") % {"id": ticket.pk},
        at=at,
    )
    quote.status = QuoteStatus.ACCEPTED
    quote.decided_by = actor
    quote.decided_at = at
    quote.save(update_fields=["status", "decided_by", "decided_at"])
    _record_cost(
        ticket,
        kind=CostChangeKind.QUOTE_ACCEPTED,
        old=None,
        new=quote.points,
        reason=quote.note,
        actor=actor,
        at=at,
    )
    ticket.last_activity_at = at
    ticket.save(update_fields=["last_activity_at"])
    return ticket_move(ticket=ticket, to_status=S.OPEN, actor=actor, at=at)


@transaction.atomic
def ticket_decline_quote(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """Decline the pending quote: the ticket is cancelled at no cost."""
    at = at or timezone.now()
    ticket = _lock_ticket(ticket)
    quote = Quote.objects.filter(ticket=ticket, status=QuoteStatus.PENDING).first()
    if quote is None or ticket.status != S.AWAITING_QUOTE:
        raise TicketError(_("There is no quote waiting for your answer."))
    quote.status = QuoteStatus.DECLINED
    quote.decided_by = actor
    quote.decided_at = at
    quote.save(update_fields=["status", "decided_by", "decided_at"])
    return ticket_move(ticket=ticket, to_status=S.CANCELLED, actor=actor, at=at)


@transaction.atomic
def ticket_request_reconsideration(
    *, ticket: Ticket, actor: User, message: str, at: datetime | None = None
) -> ReconsiderationRequest:
    """The customer asks for the cost to be reconsidered, saying why."""
    at = at or timezone.now()
    message = _text(message, max_length=REASON_MAX_CHARS, label=_("Your message"))
    if not message:
        raise TicketError(_("Please say why the cost should be reconsidered."))
    ticket = _lock_ticket(ticket)
    hold = _current_hold(ticket)
    if hold is None or hold.amount == 0 or hold.status not in (HoldStatus.OPEN, HoldStatus.SETTLED):
        raise TicketError(_("This ticket has no cost to reconsider."))
    if ReconsiderationRequest.objects.filter(
        ticket=ticket, status=ReconsiderationStatus.PENDING
    ).exists():
        raise TicketError(_("Your earlier request is still waiting for a decision."))
    request = ReconsiderationRequest.objects.create(
        ticket=ticket, message=message, requested_by=actor, created_at=at
    )
    ticket.last_activity_at = at
    ticket.save(update_fields=["last_activity_at"])
    notify("reconsideration_requested", ticket, request=request)
    return request


@transaction.atomic
def ticket_rate(
    *, ticket: Ticket, actor: User, score: int, comment: str = "", at: datetime | None = None
) -> Rating:
    at = at or timezone.now()
    comment = _text(comment, max_length=REASON_MAX_CHARS, label=_("The comment"))
    ticket = _lock_ticket(ticket)
    if ticket.status not in (S.RESOLVED, S.CLOSED):
        raise TicketError(_("A ticket can be rated once it is resolved."))
    if not 1 <= score <= 5:
        raise TicketError(_("The rating must be between 1 and 5."))
    try:
        with transaction.atomic():
            return Rating.objects.create(
                ticket=ticket, score=score, comment=comment, rated_by=actor, created_at=at
            )
    except IntegrityError as error:
        raise TicketError(_("This ticket has already been rated.")) from error


# --- Staff actions ----------------------------------------------------------------------------


def _require_reason(reason: str, *, label: str | None = None) -> str:
    reason = _text(reason, max_length=REASON_MAX_CHARS, label=label or _("The reason"))
    if not reason:
        raise TicketError(_("A reason is required."))
    return reason


def _open_hold_or_error(ticket: Ticket) -> Hold:
    hold = _current_hold(ticket)
    if hold is None or hold.status != HoldStatus.OPEN:
        raise TicketError(_("No points are captured for this ticket; its cost can't change now."))
    return hold


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User) -> Ticket:
    if assignee is not None and not assignee.is_staff:
        raise TicketError(_("Tickets can only be assigned to staff."))
    ticket = _lock_ticket(ticket)
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee"])
    return ticket


@transaction.atomic
def ticket_change_cost(
    *,
    ticket: Ticket,
    points: int,
    reason: str,
    actor: User,
    override: bool = False,
    at: datetime | None = None,
) -> CostChange:
    """Set a new cost with a reason. Minimum and range categories keep it within their bounds
    unless `override` is given. An increase the balance can't cover raises InsufficientPoints.
    """
    at = at or timezone.now()
    reason = _require_reason(reason)
    ticket = _lock_ticket(ticket)
    hold = _open_hold_or_error(ticket)
    bounds = ticket.category.cost_bounds
    outside = False
    if bounds is not None:
        multiplier = _price_multiplier(ticket)
        low, high = bounds[0] * multiplier, bounds[1] * multiplier if bounds[1] else None
        outside = points < low or (high is not None and points > high)
        if outside and not override:
            limits = f"{low}–{high}" if high is not None else _("at least %(low)s") % {"low": low}
            raise CostOutOfBounds(
                _(
                    "%(points)s points is outside this category's price (%(limits)s). "
                    "Tick the override to set it anyway."
                )
                % {"points": points, "limits": limits}
            )
    old = hold.amount
    if points == old:
        raise TicketError(_("The ticket already costs %(points)s points.") % {"points": points})
    return _change_held_cost(
        ticket,
        kind=CostChangeKind.CHANGED,
        old=old,
        new=points,
        reason=reason,
        actor=actor,
        at=at,
        outside_bounds=outside,
    )


@transaction.atomic
def ticket_wait_for_points(
    *, ticket: Ticket, points: int, reason: str, actor: User, at: datetime | None = None
) -> int:
    """After a cost increase to `points` was refused for lack of points: e-mail the customer how
    many points to buy and let the ticket wait for them. Returns the points missing.

    The cost itself does not change; staff set it once the customer has the points.
    """
    at = at or timezone.now()
    reason = _require_reason(reason)
    ledger.validate_points(points)
    ticket = _lock_ticket(ticket)
    hold = _open_hold_or_error(ticket)
    missing = points - hold.amount - points_available(account=ticket.account, at=at)
    if missing <= 0:
        raise TicketError(
            _("The customer's balance now covers %(points)s points: change the cost instead.")
            % {"points": points}
        )
    if ticket.status in (S.OPEN, S.IN_PROGRESS):
        ticket_move(ticket=ticket, to_status=S.WAITING_FOR_CUSTOMER, actor=actor, at=at)
    ticket.last_activity_at = at
    ticket.save(update_fields=["last_activity_at"])
    notify(
        "points_needed", ticket, points=points, current=hold.amount, missing=missing, reason=reason
    )
    return missing


@transaction.atomic
def ticket_log_time(
    *, ticket: Ticket, minutes: int, note: str, actor: User, at: datetime | None = None
) -> TimeLog:
    """Log work on an hourly ticket; its cost becomes rate × total hours, rounded up."""
    at = at or timezone.now()
    note = _require_reason(note, label=_("The note"))
    if not 0 < minutes <= MAX_LOGGED_MINUTES:
        raise TicketError(
            _("Logged time must be from 1 to %(most)s minutes.") % {"most": MAX_LOGGED_MINUTES}
        )
    ticket = _lock_ticket(ticket)
    if ticket.category.pricing_kind != PricingKind.HOURLY:
        raise TicketError(_("Time is logged only on hourly categories."))
    hold = _open_hold_or_error(ticket)
    log = TimeLog.objects.create(
        ticket=ticket, minutes=minutes, note=note, logged_by=actor, created_at=at
    )
    total_minutes = sum(ticket.time_logs.values_list("minutes", flat=True))
    rate = ticket.category.hourly_rate * _price_multiplier(ticket)
    cost = math.ceil(rate * total_minutes / 60)
    old = hold.amount
    reason = _("%(hours)s h logged in total: %(note)s") % {
        "hours": f"{total_minutes / 60:g}",
        "note": note,
    }
    _change_held_cost(
        ticket,
        kind=CostChangeKind.TIME_LOGGED,
        old=old,
        new=cost,
        reason=reason,
        actor=actor,
        at=at,
    )
    return log


@transaction.atomic
def ticket_set_quote(
    *, ticket: Ticket, points: int, note: str, actor: User, at: datetime | None = None
) -> Quote:
    """Quote a price for a ticket waiting for one; a newer quote replaces a pending one."""
    at = at or timezone.now()
    note = _require_reason(note, label=_("The note"))
    ledger.validate_points(points, allow_zero=True)
    note_html = render_markdown(note)
    ticket = _lock_ticket(ticket)
    if ticket.status != S.AWAITING_QUOTE:
        raise TicketError(_("Only a ticket waiting for a quote can be quoted."))
    Quote.objects.filter(ticket=ticket, status=QuoteStatus.PENDING).update(
        status=QuoteStatus.SUPERSEDED
    )
    quote = Quote.objects.create(
        ticket=ticket,
        points=points,
        note=note,
        note_html=note_html,
        note_html_version=RENDERER_VERSION,
        created_by=actor,
        created_at=at,
    )
    if ticket.first_response_at is None:
        ticket.first_response_at = at
    ticket.last_activity_at = at
    ticket.save(update_fields=["first_response_at", "last_activity_at"])
    notify("quote_set", ticket, quote=quote)
    return quote


@transaction.atomic
def ticket_remove_urgency(
    *, ticket: Ticket, actor: User, reason: str, at: datetime | None = None
) -> Ticket:
    """Staff remove urgency (e.g. the issue is a bug); the surcharge comes back."""
    at = at or timezone.now()
    reason = _require_reason(reason)
    ticket = _lock_ticket(ticket)
    ticket = _remove_urgency(ticket, actor=actor, reason=reason, at=at)
    # Urgency is removed once, so this is the change just recorded (None if nothing was held).
    change = ticket.cost_changes.filter(kind=CostChangeKind.URGENCY_REMOVED).first()
    notify("cost_changed", ticket, cost_change=change)
    return ticket


@transaction.atomic
def ticket_resolve(
    *, ticket: Ticket, actor: User, reason: str = "", at: datetime | None = None
) -> Ticket:
    """Resolve the ticket: its captured points are deducted irrevocably.

    Refused while the customer's reconsideration request waits for a decision: deducting would
    settle the cost they dispute, and the request would stay "waiting" on both sides.
    """
    at = at or timezone.now()
    reason = _text(reason, max_length=REASON_MAX_CHARS, label=_("The resolution"))
    ticket = _lock_ticket(ticket)
    if ticket.status not in (S.OPEN, S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER):
        raise TransitionNotAllowed(
            _("A ticket that is %(status)s cannot be resolved.")
            % {"status": S(ticket.status).label}
        )
    if ReconsiderationRequest.objects.filter(
        ticket=ticket, status=ReconsiderationStatus.PENDING
    ).exists():
        raise ReconsiderationPending(
            _(
                "The customer asked to reconsider the cost: lower it or decline the request "
                "before resolving the ticket."
            )
        )
    hold = _current_hold(ticket)
    if hold is None:
        raise TicketError(_("Set a quote and have it accepted before resolving this ticket."))
    was_open = hold.status == HoldStatus.OPEN
    hold = ledger.hold_settle(ticket=ticket, actor=actor, reason=reason, at=at)
    if was_open:
        _record_cost(
            ticket,
            kind=CostChangeKind.DEDUCTED,
            old=hold.amount,
            new=hold.amount,
            reason=reason or _("Ticket resolved"),
            actor=actor,
            at=at,
        )
    ticket_move(ticket=ticket, to_status=S.RESOLVED, actor=actor, at=at)
    ticket.outcome = TicketOutcome.SOLVED
    ticket.last_activity_at = at
    ticket.save(update_fields=["outcome", "last_activity_at"])
    notify("ticket_resolved", ticket)
    return ticket


@transaction.atomic
def ticket_mark_software_bug(
    *, ticket: Ticket, actor: User, reason: str, at: datetime | None = None
) -> Ticket:
    """The problem is a software bug: every point comes back, also after resolution."""
    at = at or timezone.now()
    reason = _require_reason(reason)
    ticket = _lock_ticket(ticket)
    if ticket.status in (S.CANCELLED, S.AWAITING_QUOTE):
        raise TicketError(_("No points were taken for this ticket."))
    if ticket.outcome == TicketOutcome.SOFTWARE_BUG:
        raise TicketError(_("This ticket is already marked as a software bug."))
    hold = _current_hold(ticket)
    returned = hold.amount if hold is not None else 0
    if hold is not None and hold.status == HoldStatus.OPEN:
        ledger.hold_release(ticket=ticket, reason=reason, actor=actor, at=at)
    elif hold is not None and hold.status == HoldStatus.SETTLED:
        ledger.hold_refund(ticket=ticket, reason=reason, actor=actor, at=at)
    if returned:
        _record_cost(
            ticket,
            kind=CostChangeKind.RETURNED,
            old=returned,
            new=0,
            reason=reason,
            actor=actor,
            at=at,
        )
    if ticket.status in ACTIVE_STATUSES:
        ticket_move(ticket=ticket, to_status=S.RESOLVED, actor=actor, at=at)
    ticket.outcome = TicketOutcome.SOFTWARE_BUG
    ticket.last_activity_at = at
    ticket.save(update_fields=["outcome", "last_activity_at"])
    ReconsiderationRequest.objects.filter(
        ticket=ticket, status=ReconsiderationStatus.PENDING
    ).update(
        status=ReconsiderationStatus.LOWERED,
        decision_reason=reason,
        decided_by=actor,
        decided_at=at,
    )
    notify("points_returned", ticket, points=returned)
    return ticket


@transaction.atomic
def ticket_decide_reconsideration(
    *,
    request: ReconsiderationRequest,
    actor: User,
    reason: str,
    new_points: int | None = None,
    at: datetime | None = None,
) -> ReconsiderationRequest:
    """Lower the cost (to `new_points`) or decline (None), with a reason the customer sees."""
    at = at or timezone.now()
    reason = _require_reason(reason)
    ticket = _lock_ticket(request.ticket)
    request = ReconsiderationRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ReconsiderationStatus.PENDING:
        raise TicketError(_("This request was already decided."))
    if new_points is not None:
        hold = _current_hold(ticket)
        old = hold.amount if hold is not None else 0
        if not 0 <= new_points < old:
            raise TicketError(
                _("A lowered cost must be between 0 and %(old)s points.") % {"old": old - 1}
            )
        if hold.status == HoldStatus.OPEN:
            ledger.hold_change(ticket=ticket, points=new_points, reason=reason, actor=actor, at=at)
        elif hold.status == HoldStatus.SETTLED:
            ledger.hold_refund(
                ticket=ticket, points=old - new_points, reason=reason, actor=actor, at=at
            )
        else:
            raise TicketError(_("This ticket's points were already returned."))
        _record_cost(
            ticket,
            kind=CostChangeKind.RECONSIDERED,
            old=old,
            new=new_points,
            reason=reason,
            actor=actor,
            at=at,
        )
        request.status = ReconsiderationStatus.LOWERED
    else:
        request.status = ReconsiderationStatus.DECLINED
    request.decision_reason = reason
    request.decided_by = actor
    request.decided_at = at
    request.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
    ticket.last_activity_at = at
    ticket.save(update_fields=["last_activity_at"])
    notify("reconsideration_decided", ticket, request=request)
    return request


# --- Scheduled jobs ---------------------------------------------------------------------------


def tickets_close_quiet(*, at: datetime | None = None) -> int:
    """Close resolved tickets with no activity for HELPDESK_AUTO_CLOSE_DAYS; returns how many."""
    at = at or timezone.now()
    quiet_since = at - timedelta(days=settings.HELPDESK_AUTO_CLOSE_DAYS)
    closed = 0
    candidates = Ticket.objects.filter(status=S.RESOLVED, last_activity_at__lte=quiet_since)
    for ticket_id in candidates.values_list("id", flat=True).iterator():
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
            if ticket.status == S.RESOLVED and ticket.last_activity_at <= quiet_since:
                ticket_move(ticket=ticket, to_status=S.CLOSED, actor=None, at=at)
                closed += 1
    return closed


# --- Access details ---------------------------------------------------------------------------


ACCESS_DETAILS_MAX_CHARS = {"host": 500, "login": 200, "password": 500, "notes": REASON_MAX_CHARS}


def _access_cipher() -> MultiFernet:
    """Newest key first encrypts; every listed key decrypts (key rotation)."""
    keys = settings.HELPDESK_ACCESS_DETAILS_KEYS or [
        base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode()
    ]
    return MultiFernet([Fernet(key) for key in keys])


@transaction.atomic
def access_details_set(
    *, ticket: Ticket, actor: User, host: str, login: str, password: str, notes: str = ""
) -> AccessDetails:
    """Store (or replace) the server access a customer gives staff, encrypted."""
    host = _text(host, max_length=ACCESS_DETAILS_MAX_CHARS["host"], label=_("The server"))
    login = _text(login, max_length=ACCESS_DETAILS_MAX_CHARS["login"], label=_("The login"))
    password = _text(
        password,
        max_length=ACCESS_DETAILS_MAX_CHARS["password"],
        label=_("The password"),
        strip=False,
    )
    notes = _text(notes, max_length=ACCESS_DETAILS_MAX_CHARS["notes"], label=_("The notes"))
    ticket = _lock_ticket(ticket)
    if ticket.status not in ACTIVE_STATUSES:
        raise TicketError(_("Access details can only be given while the ticket is in progress."))
    payload = json.dumps({"host": host, "login": login, "password": password, "notes": notes})
    details, _created = AccessDetails.objects.update_or_create(
        ticket=ticket,
        defaults={
            "ciphertext": _access_cipher().encrypt(payload.encode()),
            "provided_by": actor,
            "updated_at": timezone.now(),
            "erased_at": None,
        },
    )
    return details


@transaction.atomic
def access_details_reveal(*, ticket: Ticket, viewer: User) -> dict[str, str] | None:
    """Decrypt a ticket's access details for a staff member; every view is recorded."""
    if not viewer.is_staff:
        raise TicketError(_("Only staff can see access details."))
    details = AccessDetails.objects.filter(ticket=ticket, erased_at__isnull=True).first()
    if details is None:
        return None
    AccessDetailsView.objects.create(
        access_details=details, viewed_by=viewer, viewed_at=timezone.now()
    )
    return json.loads(_access_cipher().decrypt(bytes(details.ciphertext)))


def access_details_erase_due(*, at: datetime | None = None) -> int:
    """Erase access details of tickets closed more than the retention period ago."""
    at = at or timezone.now()
    closed_before = at - timedelta(days=settings.HELPDESK_ACCESS_DETAILS_RETENTION_DAYS)
    return AccessDetails.objects.filter(
        erased_at__isnull=True,
        ticket__status__in=[S.CLOSED, S.CANCELLED],
        ticket__closed_at__lte=closed_before,
    ).update(ciphertext=None, erased_at=at)
