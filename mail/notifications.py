"""The e-mails the channel answers with, registered with the outbox. Each goes to the address the
e-mail came from (`to` in the context), never to automated mail (routing never answers it).

Answers about a ticket are about the ticket: they thread with it and carry its reply address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.urls import reverse

from notifications import events
from notifications.outbox import notify
from tickets.notifications import REPLY_TAG

# About a ticket: it was opened by e-mail; the e-mail was not posted (closed ticket, refusal);
# some attachments were refused (the text was posted).
TICKET_EVENTS = ("mail_ticket_opened", "mail_not_posted", "mail_attachments_refused")
# About the e-mail itself: a sender we don't know.
SENDER_EVENTS = ("mail_unknown_sender",)


def _absolute(path: str) -> str:
    return settings.HELPDESK_BASE_URL.rstrip("/") + path


def _context(subject: Model | None, context: dict[str, Any], at: datetime) -> dict[str, Any]:
    context = {
        **context,
        "new_ticket_url": _absolute(reverse("tickets:new")),
        "signup_url": _absolute(reverse("signup")),
    }
    if subject is not None and subject._meta.label_lower == "tickets.ticket":
        context.update(ticket=subject, ticket_url=_absolute(subject.get_absolute_url()))
    return context


def _sender(subject: Model | None, context: dict[str, Any]) -> list[str]:
    return [context["to"]]


def answer(event: str, subject: Model, *, to: str, **context) -> None:
    """Queue the answer `event` to `to` (sent after commit)."""
    notify(event, subject, to=to, **context)


def register_events() -> None:
    for name in TICKET_EVENTS:
        events.register(name, recipients=_sender, context=_context, reply_tag=REPLY_TAG)
    for name in SENDER_EVENTS:
        events.register(name, recipients=_sender, context=_context)
