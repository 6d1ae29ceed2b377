"""Status moves: the one door every status change goes through, the moves staff make by hand,
and assignment."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import TicketError, TransitionNotAllowed
from ..models import StatusChange, Ticket, TicketStatus
from ..policies import Action, ticket_policy
from ..transitions import TRANSITIONS
from .common import lock_and_check, lock_ticket

if TYPE_CHECKING:
    from helpdesk.models import User

S = TicketStatus


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
    # Any move ends a wait for points the customer was asked to buy.
    ticket.points_requested_at = None
    fields = ["status", "points_requested_at"]
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
    at = timezone.now()
    ticket = lock_ticket(ticket)
    ticket_policy(ticket, user=actor, at=at).check_manual_move(to_status)
    return ticket_move(ticket=ticket, to_status=to_status, actor=actor, at=at)


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User) -> Ticket:
    if assignee is not None and not assignee.is_staff:
        raise TicketError(_("Tickets can only be assigned to staff."), code="assignee_not_staff")
    ticket = lock_and_check(ticket, Action.ASSIGN, actor=actor, at=timezone.now())
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee"])
    return ticket
