"""HotRush compensation: when an urgent ticket's first staff response comes after its due time,
the urgency surcharge (half of what is held: the other half is the category's price) goes back
to the customer, once, with a line in the cost history and an e-mail.

It happens at the late first response, or by the beat job for tickets still unanswered past their
due time, whichever comes first; both run with the ticket locked and the database allows one
compensation per ticket. A ticket returned as a software bug got everything back already and is
left alone. HELPDESK_HOTRUSH_COMPENSATION turns the policy off.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from points import services as ledger
from points.models import HoldStatus

from ..models import AWAITING_FIRST_RESPONSE, CostChange, CostChangeKind, Ticket, TicketOutcome
from ..notifications import notify
from .common import current_hold, lock_ticket, record_cost


def _is_due(ticket: Ticket, *, responded_at: datetime) -> bool:
    return (
        settings.HELPDESK_HOTRUSH_COMPENSATION
        and ticket.is_urgent
        and ticket.first_response_due_at is not None
        and responded_at > ticket.first_response_due_at
        and ticket.outcome != TicketOutcome.SOFTWARE_BUG
        and not CostChange.objects.filter(
            ticket=ticket, kind=CostChangeKind.URGENCY_COMPENSATED
        ).exists()
    )


def hotrush_compensate_if_late(
    ticket: Ticket, *, responded_at: datetime, at: datetime
) -> CostChange | None:
    """Return the surcharge of `ticket` (locked by the caller) if its first response, made (or
    still missing) at `responded_at`, is late. Returns the cost line, or None if nothing was due."""
    if not _is_due(ticket, responded_at=responded_at):
        return None
    hold = current_hold(ticket)
    if hold is None or hold.status != HoldStatus.OPEN or not hold.amount:
        return None
    old = hold.amount
    new = old // 2
    reason = _("HotRush surcharge returned: first response was late")
    ledger.hold_change(ticket=ticket, points=new, reason=reason, actor=None, at=at)
    change = record_cost(
        ticket,
        kind=CostChangeKind.URGENCY_COMPENSATED,
        old=old,
        new=new,
        reason=reason,
        actor=None,
        at=at,
    )
    # The price is no longer doubled from here on (time logged later counts at the normal rate);
    # the due time stays, so the ticket still shows its first response was late.
    ticket.is_urgent = False
    ticket.save(update_fields=["is_urgent"])
    notify("cost_changed", ticket, cost_change=change)
    return change


def tickets_compensate_late_hotrush(*, at: datetime | None = None) -> int:
    """The beat job: compensate urgent tickets still unanswered past their due time. Returns how
    many were compensated. Safe beside a late reply: each ticket is rechecked under its lock."""
    at = at or timezone.now()
    if not settings.HELPDESK_HOTRUSH_COMPENSATION:
        return 0
    overdue = (
        Ticket.objects.filter(AWAITING_FIRST_RESPONSE, is_urgent=True, first_response_due_at__lt=at)
        .exclude(cost_changes__kind=CostChangeKind.URGENCY_COMPENSATED)
        .order_by("id")
        .values_list("id", "account_id")
    )
    compensated = 0
    for ticket_id, account_id in overdue.iterator():
        with transaction.atomic():
            ticket = lock_ticket(Ticket(pk=ticket_id, account_id=account_id))
            if ticket.first_response_at is None and hotrush_compensate_if_late(
                ticket, responded_at=at, at=at
            ):
                compensated += 1
    return compensated
