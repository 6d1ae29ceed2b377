"""Quotes: staff quote a price for a ticket waiting for one; the customer accepts it (its points
are captured) or declines it (the ticket is cancelled at no cost)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditKind
from audit.services import audit_record
from points import services as ledger

from ..models import CostChangeKind, Quote, QuoteStatus, Ticket, TicketStatus
from ..notifications import notify
from ..policies import Action
from ..rendering import RENDERER_VERSION, render_markdown
from .common import lock_and_check, record_cost, required_reason
from .hotrush import hotrush_compensate_if_late
from .status import ticket_move

if TYPE_CHECKING:
    from helpdesk.models import User

S = TicketStatus


@transaction.atomic
def ticket_set_quote(
    *, ticket: Ticket, points: int, note: str, actor: User, at: datetime | None = None
) -> Quote:
    """Quote a price for a ticket waiting for one; a newer quote replaces a pending one."""
    at = at or timezone.now()
    note = required_reason(note, label=_("The note"))
    ledger.validate_points(points, allow_zero=True)
    note_html = render_markdown(note)
    ticket = lock_and_check(ticket, Action.QUOTE, actor=actor, at=at)
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
    first_response = ticket.first_response_at is None
    if first_response:
        ticket.first_response_at = at
    ticket.last_activity_at = at
    ticket.save(update_fields=["first_response_at", "last_activity_at"])
    if first_response:
        hotrush_compensate_if_late(ticket, responded_at=at, at=at)
    notify("quote_set", ticket, quote=quote)
    audit_record(
        kind=AuditKind.QUOTE_SET,
        actor=actor,
        target=ticket,
        changes={"points": points},
        reason=note,
    )
    return quote


@transaction.atomic
def ticket_accept_quote(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """Accept the pending quote: its points are captured and work starts."""
    at = at or timezone.now()
    ticket = lock_and_check(ticket, Action.ACCEPT_QUOTE, actor=actor, at=at)
    quote = Quote.objects.get(ticket=ticket, status=QuoteStatus.PENDING)
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
    record_cost(
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
    ticket = lock_and_check(ticket, Action.DECLINE_QUOTE, actor=actor, at=at)
    quote = Quote.objects.get(ticket=ticket, status=QuoteStatus.PENDING)
    quote.status = QuoteStatus.DECLINED
    quote.decided_by = actor
    quote.decided_at = at
    quote.save(update_fields=["status", "decided_by", "decided_at"])
    return ticket_move(ticket=ticket, to_status=S.CANCELLED, actor=actor, at=at)
