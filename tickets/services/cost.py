"""A ticket's cost while work goes on: staff change it (within the category's bounds unless
overridden), log time on hourly tickets and ask the customer for missing points; HotRush is
removed (by the customer before the ticket is assigned, or by staff) and its surcharge returned."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditKind
from audit.services import audit_record
from points import services as ledger
from points.models import HoldStatus
from points.selectors import points_available

from ..errors import CostOutOfBounds, TicketError
from ..models import (
    CostChange,
    CostChangeKind,
    Ticket,
    TicketStatus,
    TimeLog,
)
from ..notifications import notify
from ..policies import Action, Role, role_of
from ..sla import first_response_due
from .common import (
    change_held_cost,
    current_hold,
    lock_and_check,
    price_multiplier,
    record_cost,
    required_reason,
)
from .status import ticket_move

if TYPE_CHECKING:
    from helpdesk.models import User

S = TicketStatus

# The longest stretch of work one time log may record: a day.
MAX_LOGGED_MINUTES = 24 * 60


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
    reason = required_reason(reason)
    ticket = lock_and_check(ticket, Action.CHANGE_COST, actor=actor, at=at)
    hold = current_hold(ticket)
    bounds = ticket.category.cost_bounds
    outside = False
    if bounds is not None:
        multiplier = price_multiplier(ticket)
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
        raise TicketError(
            _("The ticket already costs %(points)s points.") % {"points": points},
            code="cost_unchanged",
        )
    change = change_held_cost(
        ticket,
        kind=CostChangeKind.CHANGED,
        old=old,
        new=points,
        reason=reason,
        actor=actor,
        at=at,
        outside_bounds=outside,
    )
    audit_record(
        kind=AuditKind.COST_CHANGED,
        actor=actor,
        target=ticket,
        changes={"points": [old, points], "outside_bounds": outside},
        reason=reason,
    )
    return change


@transaction.atomic
def ticket_wait_for_points(
    *, ticket: Ticket, points: int, reason: str, actor: User, at: datetime | None = None
) -> int:
    """After a cost increase to `points` was refused for lack of points: e-mail the customer how
    many points to buy and let the ticket wait for them. Returns the points missing.

    The cost itself does not change; staff set it once the customer has the points.
    """
    at = at or timezone.now()
    reason = required_reason(reason)
    ledger.validate_points(points)
    ticket = lock_and_check(ticket, Action.WAIT_FOR_POINTS, actor=actor, at=at)
    hold = current_hold(ticket)
    missing = points - hold.amount - points_available(account=ticket.account, at=at)
    if missing <= 0:
        raise TicketError(
            _("The customer's balance now covers %(points)s points: change the cost instead.")
            % {"points": points},
            code="points_not_missing",
        )
    if ticket.status in (S.OPEN, S.IN_PROGRESS):
        ticket_move(ticket=ticket, to_status=S.WAITING_FOR_CUSTOMER, actor=actor, at=at)
    ticket.last_activity_at = at
    ticket.points_requested_at = at
    ticket.save(update_fields=["last_activity_at", "points_requested_at"])
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
    note = required_reason(note, label=_("The note"))
    if not 0 < minutes <= MAX_LOGGED_MINUTES:
        raise TicketError(
            _("Logged time must be from 1 to %(most)s minutes.") % {"most": MAX_LOGGED_MINUTES},
            code="logged_time_out_of_range",
        )
    ticket = lock_and_check(ticket, Action.LOG_TIME, actor=actor, at=at)
    hold = current_hold(ticket)
    log = TimeLog.objects.create(
        ticket=ticket, minutes=minutes, note=note, logged_by=actor, created_at=at
    )
    total_minutes = sum(ticket.time_logs.values_list("minutes", flat=True))
    rate = ticket.category.hourly_rate * price_multiplier(ticket)
    cost = math.ceil(rate * total_minutes / 60)
    old = hold.amount
    reason = _("%(hours)s h logged in total: %(note)s") % {
        "hours": f"{total_minutes / 60:g}",
        "note": note,
    }
    change_held_cost(
        ticket,
        kind=CostChangeKind.TIME_LOGGED,
        old=old,
        new=cost,
        reason=reason,
        actor=actor,
        at=at,
    )
    audit_record(
        kind=AuditKind.TIME_LOGGED,
        actor=actor,
        target=ticket,
        changes={"minutes": minutes, "points": [old, cost]},
        reason=note,
    )
    return log


@transaction.atomic
def ticket_remove_urgency(
    *, ticket: Ticket, actor: User, reason: str = "", at: datetime | None = None
) -> Ticket:
    """HotRush is removed and its surcharge comes back: by the customer before the ticket is
    assigned (the reason is always "dropped by the customer"), or by staff with a reason the
    customer is told (e.g. the issue is a bug)."""
    at = at or timezone.now()
    by_staff = role_of(actor) == Role.STAFF
    reason = required_reason(reason) if by_staff else _("HotRush dropped by the customer")
    ticket = lock_and_check(ticket, Action.REMOVE_URGENCY, actor=actor, at=at)
    change = None
    hold = current_hold(ticket)
    if hold is not None and hold.status == HoldStatus.OPEN and hold.amount:
        old = hold.amount
        new = old // 2
        ledger.hold_change(ticket=ticket, points=new, reason=reason, actor=actor, at=at)
        change = record_cost(
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
    if by_staff:
        # The customer who dropped it knows; staff's removal is told (None: nothing was held).
        notify("cost_changed", ticket, cost_change=change)
        audit_record(
            kind=AuditKind.URGENCY_REMOVED,
            actor=actor,
            target=ticket,
            changes={"points": [change.old_points, change.new_points]} if change else {},
            reason=reason,
        )
    return ticket
