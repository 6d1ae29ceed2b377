"""What only the customer does: cancel before the first response, ask for the cost to be
reconsidered, rate the support."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import REASON_MAX_CHARS
from helpdesk.models import User
from points import services as ledger
from points.models import HoldStatus

from ..errors import TicketError
from ..models import (
    ACTIVE_STATUSES,
    CostChangeKind,
    Quote,
    QuoteStatus,
    Rating,
    ReconsiderationRequest,
    ReconsiderationStatus,
    Ticket,
    TicketStatus,
)
from ..notifications import notify
from .common import checked_text, current_hold, lock_ticket, record_cost
from .status import ticket_move

S = TicketStatus


@transaction.atomic
def ticket_cancel(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """The customer withdraws a ticket before the first staff response: its points come back."""
    at = at or timezone.now()
    ticket = lock_ticket(ticket)
    if ticket.first_response_at is not None:
        raise TicketError(_("Support has already answered this ticket; it can't be cancelled."))
    if ticket.status not in ACTIVE_STATUSES:
        raise TicketError(_("Only a ticket in progress can be cancelled."))
    hold = current_hold(ticket)
    if hold is not None and hold.status == HoldStatus.OPEN:
        returned = hold.amount
        ledger.hold_release(
            ticket=ticket, reason=_("Ticket cancelled by the customer"), actor=actor, at=at
        )
        if returned:
            record_cost(
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


@transaction.atomic
def ticket_request_reconsideration(
    *, ticket: Ticket, actor: User, message: str, at: datetime | None = None
) -> ReconsiderationRequest:
    """The customer asks for the cost to be reconsidered, saying why."""
    at = at or timezone.now()
    message = checked_text(message, max_length=REASON_MAX_CHARS, label=_("Your message"))
    if not message:
        raise TicketError(_("Please say why the cost should be reconsidered."))
    ticket = lock_ticket(ticket)
    hold = current_hold(ticket)
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
    comment = checked_text(comment, max_length=REASON_MAX_CHARS, label=_("The comment"))
    ticket = lock_ticket(ticket)
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
