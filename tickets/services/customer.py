"""What only the customer does: cancel before the first response, rate the support."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import REASON_MAX_CHARS
from points import services as ledger
from points.models import HoldStatus

from ..errors import TicketError
from ..models import (
    CostChangeKind,
    Quote,
    QuoteStatus,
    Rating,
    Ticket,
    TicketStatus,
)
from ..policies import Action, already_rated
from .common import checked_text, current_hold, lock_and_check, record_cost
from .status import ticket_move

if TYPE_CHECKING:
    from helpdesk.models import User

S = TicketStatus


@transaction.atomic
def ticket_cancel(*, ticket: Ticket, actor: User, at: datetime | None = None) -> Ticket:
    """The customer withdraws a ticket before the first staff response: its points come back."""
    at = at or timezone.now()
    ticket = lock_and_check(ticket, Action.CANCEL, actor=actor, at=at)
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
def ticket_rate(
    *, ticket: Ticket, actor: User, score: int, comment: str = "", at: datetime | None = None
) -> Rating:
    at = at or timezone.now()
    comment = checked_text(comment, max_length=REASON_MAX_CHARS, label=_("The comment"))
    ticket = lock_and_check(ticket, Action.RATE, actor=actor, at=at)
    if not 1 <= score <= 5:
        raise TicketError(_("The rating must be between 1 and 5."), code="rating_out_of_range")
    # The policy saw no rating under the lock; the constraint still backs it.
    try:
        with transaction.atomic():
            return Rating.objects.create(
                ticket=ticket, score=score, comment=comment, rated_by=actor, created_at=at
            )
    except IntegrityError as error:
        raise already_rated() from error
