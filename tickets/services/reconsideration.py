"""Reconsideration: the customer asks for the cost to be reconsidered, saying why; staff lower the
cost or decline, with a reason the customer sees."""

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

from ..errors import TicketError
from ..models import CostChangeKind, ReconsiderationRequest, ReconsiderationStatus, Ticket
from ..notifications import notify
from ..policies import Action, reconsideration_decided
from .common import checked_text, current_hold, lock_and_check, record_cost, required_reason

if TYPE_CHECKING:
    from helpdesk.models import User


@transaction.atomic
def ticket_request_reconsideration(
    *, ticket: Ticket, actor: User, message: str, at: datetime | None = None
) -> ReconsiderationRequest:
    """The customer asks for the cost to be reconsidered, saying why."""
    at = at or timezone.now()
    message = checked_text(message, max_length=REASON_MAX_CHARS, label=_("Your message"))
    if not message:
        raise TicketError(
            _("Please say why the cost should be reconsidered."), code="reason_required"
        )
    ticket = lock_and_check(ticket, Action.ASK_RECONSIDERATION, actor=actor, at=at)
    reconsideration = ReconsiderationRequest.objects.create(
        ticket=ticket, message=message, requested_by=actor, created_at=at
    )
    ticket.last_activity_at = at
    ticket.save(update_fields=["last_activity_at"])
    notify("reconsideration_requested", ticket, request=reconsideration)
    return reconsideration


@transaction.atomic
def ticket_decide_reconsideration(
    *,
    reconsideration: ReconsiderationRequest,
    actor: User,
    reason: str,
    new_points: int | None = None,
    at: datetime | None = None,
) -> ReconsiderationRequest:
    """Lower the cost (to `new_points`) or decline (None), with a reason the customer sees."""
    at = at or timezone.now()
    reason = required_reason(reason)
    ticket = lock_and_check(
        reconsideration.ticket, Action.DECIDE_RECONSIDERATION, actor=actor, at=at
    )
    reconsideration = ReconsiderationRequest.objects.select_for_update().get(pk=reconsideration.pk)
    if reconsideration.status != ReconsiderationStatus.PENDING:
        # Another request of the ticket waits; this one was decided before.
        raise reconsideration_decided()
    if new_points is not None:
        hold = current_hold(ticket)
        old = hold.amount if hold is not None else 0
        if not 0 <= new_points < old:
            raise TicketError(
                _("A lowered cost must be between 0 and %(old)s points.") % {"old": old - 1},
                code="lowered_cost_out_of_range",
            )
        if hold.status == HoldStatus.OPEN:
            ledger.hold_change(ticket=ticket, points=new_points, reason=reason, actor=actor, at=at)
        elif hold.status == HoldStatus.SETTLED:
            ledger.hold_refund(
                ticket=ticket, points=old - new_points, reason=reason, actor=actor, at=at
            )
        else:
            raise TicketError(
                _("This ticket's points were already returned."), code="points_already_returned"
            )
        record_cost(
            ticket,
            kind=CostChangeKind.RECONSIDERED,
            old=old,
            new=new_points,
            reason=reason,
            actor=actor,
            at=at,
        )
        reconsideration.status = ReconsiderationStatus.LOWERED
    else:
        reconsideration.status = ReconsiderationStatus.DECLINED
    reconsideration.decision_reason = reason
    reconsideration.decided_by = actor
    reconsideration.decided_at = at
    reconsideration.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
    ticket.last_activity_at = at
    ticket.save(update_fields=["last_activity_at"])
    notify("reconsideration_decided", ticket, request=reconsideration)
    audit_record(
        kind=AuditKind.RECONSIDERATION_DECIDED,
        actor=actor,
        target=ticket,
        changes={"decision": reconsideration.status, "points": new_points},
        reason=reason,
    )
    return reconsideration
