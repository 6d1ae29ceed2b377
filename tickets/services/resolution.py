"""Ending the work: resolving deducts the captured points; a software bug returns every point,
also after resolution."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditKind
from audit.services import audit_record
from core.text import REASON_MAX_CHARS
from points import services as ledger
from points.models import HoldStatus

from ..models import (
    ACTIVE_STATUSES,
    CostChangeKind,
    ReconsiderationRequest,
    ReconsiderationStatus,
    Ticket,
    TicketOutcome,
    TicketStatus,
)
from ..notifications import notify
from ..policies import Action
from .common import checked_text, current_hold, lock_and_check, record_cost, required_reason
from .status import ticket_move

if TYPE_CHECKING:
    from helpdesk.models import User

S = TicketStatus


@transaction.atomic
def ticket_resolve(
    *, ticket: Ticket, actor: User, reason: str = "", at: datetime | None = None
) -> Ticket:
    """Resolve the ticket: its captured points are deducted irrevocably.

    Refused while the customer's reconsideration request waits for a decision (see
    `tickets.policies`).
    """
    at = at or timezone.now()
    reason = checked_text(reason, max_length=REASON_MAX_CHARS, label=_("The resolution"))
    ticket = lock_and_check(ticket, Action.RESOLVE, actor=actor, at=at)
    hold = current_hold(ticket)
    was_open = hold.status == HoldStatus.OPEN
    hold = ledger.hold_settle(ticket=ticket, actor=actor, reason=reason, at=at)
    if was_open:
        record_cost(
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
    audit_record(
        kind=AuditKind.TICKET_RESOLVED,
        actor=actor,
        target=ticket,
        changes={"points_deducted": hold.amount},
        reason=reason,
    )
    return ticket


@transaction.atomic
def ticket_mark_software_bug(
    *, ticket: Ticket, actor: User, reason: str, at: datetime | None = None
) -> Ticket:
    """The problem is a software bug: every point comes back, also after resolution."""
    at = at or timezone.now()
    reason = required_reason(reason)
    ticket = lock_and_check(ticket, Action.MARK_SOFTWARE_BUG, actor=actor, at=at)
    hold = current_hold(ticket)
    returned = hold.amount if hold is not None else 0
    if hold is not None and hold.status == HoldStatus.OPEN:
        ledger.hold_release(ticket=ticket, reason=reason, actor=actor, at=at)
    elif hold is not None and hold.status == HoldStatus.SETTLED:
        ledger.hold_refund(ticket=ticket, reason=reason, actor=actor, at=at)
    if returned:
        record_cost(
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
    audit_record(
        kind=AuditKind.SOFTWARE_BUG,
        actor=actor,
        target=ticket,
        changes={"points_returned": returned},
        reason=reason,
    )
    return ticket
