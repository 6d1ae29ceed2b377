"""The e-mails about tickets, registered with the outbox (`notifications`), and `notify`, which the
ticket services call inside their transaction.

Customer events go to every user of the ticket's account; staff events go to the assignee, or to
every active staff member while the ticket is unassigned. Both read the ticket as it is when the
e-mail is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.selectors import account_user_emails
from notifications import events
from notifications.models import Notification
from notifications.outbox import notify as queue

from .models import Ticket

CUSTOMER_EVENTS = (
    "staff_replied",
    "cost_changed",
    "quote_set",
    "ticket_resolved",
    "points_returned",
    "reconsideration_decided",
    "points_needed",
)
STAFF_EVENTS = ("ticket_filed", "customer_replied", "reconsideration_requested")
# Ticket e-mails can be answered: their reply address is support+t<ticket id>.u<user id>.<sig>@…
REPLY_TAG = "t"


def notify(event: str, ticket: Ticket, **context) -> Notification | None:
    """Queue the e-mail for `event` about `ticket`; it is sent once the transaction commits."""
    if event not in CUSTOMER_EVENTS + STAFF_EVENTS:
        raise events.UnknownEvent(f"{event!r} is not an e-mail about a ticket")
    return queue(event, ticket, **context)


def _ticket_context(ticket: Ticket, context: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        **context,
        "ticket": ticket,
        "account": ticket.account,
        "ticket_url": settings.HELPDESK_BASE_URL.rstrip("/") + ticket.get_absolute_url(),
    }


def _customers(ticket: Ticket, context: dict[str, Any]) -> list[str]:
    return account_user_emails(ticket.account_id)


def _staff(ticket: Ticket, context: dict[str, Any]) -> list[str]:
    users = get_user_model().objects.filter(is_active=True)
    if ticket.assignee_id is not None:
        users = users.filter(pk=ticket.assignee_id)
    else:
        users = users.filter(is_staff=True)
    return sorted(users.values_list("email", flat=True))


def register_events() -> None:
    for name in CUSTOMER_EVENTS:
        events.register(name, recipients=_customers, context=_ticket_context, reply_tag=REPLY_TAG)
    for name in STAFF_EVENTS:
        events.register(name, recipients=_staff, context=_ticket_context, reply_tag=REPLY_TAG)
