"""The registry of e-mail events: each app registers its own, the outbox knows them by name.

An event says who receives it and what its templates (`emails/<name>_subject.txt`, `.txt`,
`.html`) are given, both decided when the e-mail is sent, from what the rows say then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model

# (subject, the stored context with its row references loaded, the sending time) → the templates'
# context, or None when there is nothing left to say (the e-mail is then not sent).
ContextBuilder = Callable[[Model | None, dict[str, Any], datetime], dict[str, Any] | None]
# (subject, the templates' context) → the addresses it goes to.
RecipientsFinder = Callable[[Model | None, dict[str, Any]], list[str]]
# (subject, the templates' context) → the files attached: (file name, content, MIME type). Made
# when the e-mail is sent, so the outbox stores references, never documents.
AttachmentsMaker = Callable[[Model | None, dict[str, Any]], list[tuple[str, bytes, str]]]


def unchanged_context(subject: Model | None, context: dict[str, Any], at: datetime):
    return context


def no_attachments(subject: Model | None, context: dict[str, Any]) -> list:
    return []


@dataclass(frozen=True)
class Event:
    name: str
    recipients: RecipientsFinder
    context: ContextBuilder = unchanged_context
    attachments: AttachmentsMaker = no_attachments
    # Set for e-mails about a subject that can be answered by e-mail: its tag in the reply address
    # (`notifications.envelope`), e.g. "t" for tickets.
    reply_tag: str = ""


_events: dict[str, Event] = {}


class UnknownEvent(ValueError):
    pass


def register(
    name: str,
    *,
    recipients: RecipientsFinder,
    context: ContextBuilder = unchanged_context,
    attachments: AttachmentsMaker = no_attachments,
    reply_tag: str = "",
) -> Event:
    """Register an e-mail event (once, from the registering app's `ready()`)."""
    if name in _events:
        raise ValueError(f"The notification event {name!r} is already registered.")
    event = _events[name] = Event(name, recipients, context, attachments, reply_tag)
    return event


def get(name: str) -> Event:
    try:
        return _events[name]
    except KeyError:
        raise UnknownEvent(f"Unknown notification event {name!r}") from None


def registered() -> list[str]:
    return sorted(_events)
