"""The scheduled jobs of tickets (`tickets.tasks` and the management commands call them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import AccessDetails, Ticket, TicketStatus
from .status import ticket_move

S = TicketStatus


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


def access_details_erase_due(*, at: datetime | None = None) -> int:
    """Erase access details of tickets closed more than the retention period ago."""
    at = at or timezone.now()
    closed_before = at - timedelta(days=settings.HELPDESK_ACCESS_DETAILS_RETENTION_DAYS)
    return AccessDetails.objects.filter(
        erased_at__isnull=True,
        ticket__status__in=[S.CLOSED, S.CANCELLED],
        ticket__closed_at__lte=closed_before,
    ).update(ciphertext=None, erased_at=at)
