"""E-mail notifications, through a transactional outbox.

`notify(event, ticket, **context)` writes a `Notification` row in the caller's transaction, so a
notification exists exactly when what it tells about was committed. After commit, a Celery task
sends it. When the task can't be queued (the broker is down), the request still succeeds and the
row waits: the outbox drain (`notifications_send_due`, a beat task every minute and the
`drain_outbox` command) sends every row still unsent after a short grace period, and retries
failed sends with a growing delay. Sending locks the row, so an e-mail goes out once even when the
task and the drain race; the one case of a second copy is a mail server that accepted the message
while the database then failed to record it.

Customer events go to every user of the ticket's account; staff events go to the assignee, or to
every active staff member while the ticket is unassigned; account events (not about one ticket)
go to every user of the account.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import User

from .models import Notification

logger = logging.getLogger(__name__)

CUSTOMER_EVENTS = {
    "staff_replied",
    "cost_changed",
    "quote_set",
    "ticket_resolved",
    "points_returned",
    "reconsideration_decided",
    "points_needed",
}
STAFF_EVENTS = {"ticket_filed", "customer_replied", "reconsideration_requested"}
# About an account rather than one ticket.
ACCOUNT_EVENTS = {"points_expiring"}

# The after-commit task normally sends a notification at once; the drain leaves it alone this long.
DRAIN_GRACE = timedelta(seconds=30)
# After this many failed sends a notification is left for an operator (its last_error says why).
MAX_ATTEMPTS = 10
RETRY_DELAY_CAP = timedelta(hours=6)

_suppressed = contextvars.ContextVar("notifications_suppressed", default=False)


def recipients(event: str, ticket=None, *, account_id: int | None = None) -> list[str]:
    if event in CUSTOMER_EVENTS or event in ACCOUNT_EVENTS:
        account_id = ticket.account_id if ticket is not None else account_id
        users = User.objects.filter(membership__account_id=account_id, is_active=True)
    elif ticket.assignee_id is not None:
        users = User.objects.filter(pk=ticket.assignee_id, is_active=True)
    else:
        users = User.objects.filter(is_staff=True, is_active=True)
    return sorted(users.values_list("email", flat=True))


# --- Queueing ---------------------------------------------------------------------------------


@contextmanager
def notifications_suppressed() -> Iterator[None]:
    """Queue no notification inside this block (for made-up history such as the demo data)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def notify(event: str, ticket, **context) -> Notification | None:
    """Queue the e-mail for `event` about `ticket`; it is sent once the transaction commits.

    `context` values are model instances (stored as references and read again when the e-mail is
    sent) or JSON values.
    """
    if event not in CUSTOMER_EVENTS | STAFF_EVENTS:
        raise ValueError(f"Unknown notification event {event!r}")
    queued = _queue(
        [
            Notification(
                event=event, account_id=ticket.account_id, ticket=ticket, context=_dump(context)
            )
        ]
    )
    return queued[0] if queued else None


def notify_accounts(event: str, contexts: Mapping[int, Mapping[str, Any]]) -> list[Notification]:
    """Queue one e-mail for `event` to each account: {account id: its context}."""
    if event not in ACCOUNT_EVENTS:
        raise ValueError(f"Unknown account notification event {event!r}")
    return _queue(
        [
            Notification(event=event, account_id=account_id, context=_dump(context))
            for account_id, context in contexts.items()
        ]
    )


def _queue(notifications: list[Notification]) -> list[Notification]:
    if _suppressed.get() or not notifications:
        return []
    now = timezone.now()
    for notification in notifications:
        notification.created_at = now
        notification.next_attempt_at = now + DRAIN_GRACE
    created = Notification.objects.bulk_create(notifications)
    for notification in created:
        transaction.on_commit(partial(_enqueue, notification.pk))
    return created


def _enqueue(notification_id: int) -> None:
    """Hand the notification to a worker. Never fails the request: the drain is the safety net."""
    from .tasks import send_notification

    try:
        send_notification.delay(notification_id)
    except Exception:
        logger.warning(
            "Notification %s could not be queued (is the broker down?); "
            "the outbox drain will send it.",
            notification_id,
            exc_info=True,
        )


def _dump(context: Mapping[str, Any]) -> dict[str, Any]:
    """JSON for the outbox: model instances become references to their rows."""
    dumped = {}
    for name, value in context.items():
        if isinstance(value, models.Model):
            value = {"$model": value._meta.label_lower, "pk": value.pk}
        elif isinstance(value, list | tuple) and value and isinstance(value[0], models.Model):
            value = {"$model": value[0]._meta.label_lower, "pks": [item.pk for item in value]}
        dumped[name] = value
    return dumped


def _load(value: Any) -> Any:
    if not (isinstance(value, dict) and "$model" in value):
        return value
    manager = apps.get_model(value["$model"])._base_manager
    if "pks" in value:
        rows = manager.in_bulk(value["pks"])
        return [rows[pk] for pk in value["pks"] if pk in rows]
    return manager.get(pk=value["pk"])


# --- Sending ----------------------------------------------------------------------------------


def _base_url() -> str:
    return settings.HELPDESK_BASE_URL.rstrip("/")


def _points_expiring_context(context: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """Only what still expires: points spent or already expired meanwhile are not mentioned."""
    lots = [lot for lot in context["lots"] if lot.remaining > 0 and lot.expires_at > at]
    if not lots:
        return None
    return {
        **context,
        "lots": sorted(lots, key=lambda lot: (lot.expires_at, lot.pk)),
        "points": sum(lot.remaining for lot in lots),
        "points_url": _base_url() + reverse("points:overview"),
    }


# Per event: the final context from the stored one, or None when there is nothing left to say.
_CONTEXT_HOOKS = {"points_expiring": _points_expiring_context}


def _message(notification: Notification, at: datetime) -> EmailMultiAlternatives | None:
    ticket = notification.ticket
    to = recipients(notification.event, ticket, account_id=notification.account_id)
    if not to:
        return None
    context: dict[str, Any] = {name: _load(value) for name, value in notification.context.items()}
    context["account"] = notification.account
    if ticket is not None:
        context.update(ticket=ticket, ticket_url=_base_url() + ticket.get_absolute_url())
    hook = _CONTEXT_HOOKS.get(notification.event)
    if hook is not None:
        context = hook(context, at)
        if context is None:
            return None
    event = notification.event
    message = EmailMultiAlternatives(
        subject=" ".join(render_to_string(f"emails/{event}_subject.txt", context).split()),
        body=render_to_string(f"emails/{event}.txt", context),
        to=to,
    )
    message.attach_alternative(render_to_string(f"emails/{event}.html", context), "text/html")
    return message


def _retry_delay(attempts: int) -> timedelta:
    return min(timedelta(minutes=2**attempts), RETRY_DELAY_CAP)


def notification_send(*, notification_id: int) -> bool:
    """Send one notification; False if it was already sent, is being sent, or failed.

    The row stays locked while the message goes out, so a concurrent sender skips it. A failure
    to render or deliver is recorded on the row and retried later by the drain; database errors
    propagate (the Celery task retries them).
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, sent_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        at = timezone.now()
        notification.attempts += 1
        try:
            message = _message(notification, at)
            if message is not None:
                message.send()
        except DatabaseError:
            raise
        except Exception as error:
            notification.last_error = f"{type(error).__name__}: {error}"[:2000]
            notification.next_attempt_at = at + _retry_delay(notification.attempts)
            notification.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            log = logger.error if notification.attempts >= MAX_ATTEMPTS else logger.warning
            log(
                "Notification %s (%s) failed, attempt %s of %s",
                notification.pk,
                notification.event,
                notification.attempts,
                MAX_ATTEMPTS,
                exc_info=True,
            )
            return False
        notification.sent_at = at
        notification.recipients = list(message.to) if message is not None else []
        notification.last_error = ""
        notification.save(update_fields=["attempts", "sent_at", "recipients", "last_error"])
    return True


def notifications_retry_failed() -> int:
    """Give notifications that failed MAX_ATTEMPTS times a fresh start (after fixing the cause)."""
    return Notification.objects.filter(sent_at__isnull=True, attempts__gte=MAX_ATTEMPTS).update(
        attempts=0, next_attempt_at=timezone.now()
    )


def notifications_send_due(*, at: datetime | None = None, limit: int = 1000) -> int:
    """The outbox drain: send notifications still unsent whose next attempt is due.

    Returns how many were sent. Safe to run concurrently with itself and with the send task.
    """
    at = at or timezone.now()
    due = list(
        Notification.objects.filter(
            sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, next_attempt_at__lte=at
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(notification_send(notification_id=pk) for pk in due)
