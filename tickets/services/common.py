"""What the ticket services share: the ticket lock, checked text, and the cost record."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.locks import lock_account
from core.text import REASON_MAX_CHARS, TextRejected, text_check
from points import services as ledger
from points.models import Hold

from ..errors import TicketError
from ..models import CostChange, Ticket
from ..notifications import notify
from ..policies import Action, load_facts, ticket_policy, with_facts

if TYPE_CHECKING:
    from helpdesk.models import User


def lock_ticket(ticket: Ticket) -> Ticket:
    """The ticket row, locked and fresh (after its account, in the ledger's lock order), with
    the facts its policy reads."""
    lock_account(ticket.account_id)
    tickets = Ticket.objects.select_for_update().select_related("category")
    return with_facts(tickets).get(pk=ticket.pk)


def lock_and_check(ticket: Ticket, action: Action, *, actor: User, at: datetime) -> Ticket:
    """The ticket, locked, once its policy allows `actor` the action (else its refusal)."""
    ticket = lock_ticket(ticket)
    ticket_policy(ticket, user=actor, at=at).check(action)
    return ticket


def check_policy(ticket: Ticket, action: Action, *, actor: User, at: datetime) -> None:
    """Refuse `action` unless the ticket's policy allows it (read now, without the lock: for
    what changes nothing on the ticket)."""
    ticket_policy(ticket, user=actor, at=at, facts=load_facts(ticket)).check(action)


def checked_text(value: str, *, max_length, label: str, strip: bool = True) -> str:
    """`core.text.text_check`, refusing as a TicketError."""
    try:
        return text_check(value, max_length=max_length, label=label, strip=strip)
    except TextRejected as error:
        raise TicketError(str(error), code=error.code) from error


def required_reason(reason: str, *, label: str | None = None) -> str:
    reason = checked_text(reason, max_length=REASON_MAX_CHARS, label=label or _("The reason"))
    if not reason:
        raise TicketError(_("A reason is required."), code="reason_required")
    return reason


def message_max_chars() -> int:
    """The longest message a ticket takes (a setting, read when it is used)."""
    return settings.HELPDESK_MESSAGE_MAX_CHARS


def price_multiplier(ticket: Ticket) -> int:
    return 2 if ticket.is_urgent else 1


def current_hold(ticket: Ticket) -> Hold | None:
    return Hold.objects.filter(ticket=ticket).first()


def record_cost(
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


def change_held_cost(
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
    change = record_cost(
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
