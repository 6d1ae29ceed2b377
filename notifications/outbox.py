"""Queueing e-mails: a `Notification` row written in the caller's transaction, so it exists
exactly when what it tells about was committed, and a task queued after commit to send it.

When the task can't be queued (the broker is down) the request still succeeds and the row waits:
the drain (`notifications.sending.notifications_send_due`, every minute) sends it.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from . import events
from .models import Notification
from .references import dump
from .tasks import send_notification

logger = logging.getLogger(__name__)

# The after-commit task normally sends a notification at once; the drain leaves it alone this long.
DRAIN_GRACE = timedelta(seconds=30)

_suppressed = contextvars.ContextVar("notifications_suppressed", default=False)

# Callbacks of higher apps told of every event queued, in the caller's transaction (the API's
# outgoing webhooks): `listener(event, [(subject, context), ...])`.
Listener = Callable[[str, list[tuple[models.Model | None, Mapping[str, Any]]]], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Register `listener` (from an AppConfig.ready; registering twice is harmless)."""
    if listener not in _listeners:
        _listeners.append(listener)


@contextmanager
def notifications_suppressed() -> Iterator[None]:
    """Queue no notification inside this block (for made-up history such as the demo data)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def notify(event: str, subject: models.Model | None = None, **context) -> Notification | None:
    """Queue the e-mail for `event` about `subject`; it is sent once the transaction commits.

    `context` values are model instances (stored as references and read again when the e-mail is
    sent) or JSON values.
    """
    queued = notify_many(event, [(subject, context)])
    return queued[0] if queued else None


def notify_many(
    event: str, items: Iterable[tuple[models.Model | None, Mapping[str, Any]]]
) -> list[Notification]:
    """Queue one e-mail for `event` per (subject, context), in one statement."""
    events.get(event)
    if _suppressed.get():
        return []
    items = list(items)
    for listener in _listeners:
        listener(event, items)
    now = timezone.now()
    notifications = [
        Notification(
            event=event,
            subject_type=ContentType.objects.get_for_model(subject) if subject else None,
            subject_id=subject.pk if subject else None,
            about=str(subject)[:250] if subject else "",
            context=dump(context),
            created_at=now,
            next_attempt_at=now + DRAIN_GRACE,
        )
        for subject, context in items
    ]
    if not notifications:
        return []
    created = Notification.objects.bulk_create(notifications)
    for notification in created:
        transaction.on_commit(partial(_enqueue, notification.pk))
    return created


def _enqueue(notification_id: int) -> None:
    """Hand the notification to a worker. Never fails the request: the drain is the safety net."""
    try:
        send_notification.delay(notification_id)
    except Exception:
        logger.warning(
            "Notification %s could not be queued (is the broker down?); "
            "the outbox drain will send it.",
            notification_id,
            exc_info=True,
        )
