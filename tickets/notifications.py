"""E-mail notifications about tickets, sent after the transaction that caused them commits.

Customer events go to every user of the ticket's account; staff events go to the assignee, or to
every active staff member while the ticket is unassigned.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from helpdesk.models import User

CUSTOMER_EVENTS = {
    "staff_replied",
    "cost_changed",
    "quote_set",
    "ticket_resolved",
    "points_returned",
    "reconsideration_decided",
}
STAFF_EVENTS = {"ticket_filed", "customer_replied", "reconsideration_requested"}


def recipients(event: str, ticket) -> list[str]:
    if event in CUSTOMER_EVENTS:
        users = User.objects.filter(membership__account_id=ticket.account_id, is_active=True)
    elif ticket.assignee_id is not None:
        users = User.objects.filter(pk=ticket.assignee_id, is_active=True)
    else:
        users = User.objects.filter(is_staff=True, is_active=True)
    return sorted(users.values_list("email", flat=True))


def notify(event: str, ticket, **context) -> None:
    """Queue the e-mail for `event` once the current transaction commits."""
    if event not in CUSTOMER_EVENTS | STAFF_EVENTS:
        raise ValueError(f"Unknown notification event {event!r}")
    transaction.on_commit(lambda: send(event, ticket, **context))


def send(event: str, ticket, **context) -> int:
    to = recipients(event, ticket)
    if not to:
        return 0
    context = {
        "ticket": ticket,
        "ticket_url": settings.HELPDESK_BASE_URL.rstrip("/") + ticket.get_absolute_url(),
        **context,
    }
    subject = render_to_string(f"emails/{event}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{event}.txt", context),
        to=to,
    )
    message.attach_alternative(render_to_string(f"emails/{event}.html", context), "text/html")
    return message.send()
