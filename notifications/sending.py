"""Sending queued e-mails, once each: right after commit (the task) or later (the drain).

Each recipient gets a copy of their own (its Message-ID and signed reply address name them, see
`notifications.envelope`), all sent over one connection. Sending locks the row, so an e-mail goes
out once even when the task and the drain race; the one case of a second copy is a mail server
that accepted the message while the database then failed to record it. A failure to render or
deliver is recorded on the row and retried with a growing delay, up to MAX_ATTEMPTS; then an
operator retries it after fixing the cause.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from . import envelope, events
from .models import Notification
from .references import load

logger = logging.getLogger(__name__)

# After this many failed sends a notification is left for an operator (its last_error says why).
MAX_ATTEMPTS = 10
RETRY_DELAY_CAP = timedelta(hours=6)


def _messages(notification: Notification, at: datetime) -> list[EmailMultiAlternatives]:
    """One e-mail per recipient (each with its own Message-ID and reply address), or none when
    its event has nothing left to say or nobody to say it to."""
    event = events.get(notification.event)
    subject = notification.subject
    stored = {name: load(value) for name, value in notification.context.items()}
    context = event.context(subject, stored, at)
    if context is None:
        return []
    to = event.recipients(subject, context)
    if not to:
        return []
    name = notification.event
    replyable = bool(event.reply_tag) and subject is not None
    context = {**context, "reply_marker": envelope.REPLY_MARKER if replyable else ""}
    subject_line = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    body = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    user_ids = _user_ids(to) if replyable else {}
    attachments = list(event.attachments(subject, context))
    messages = []
    for address in to:
        headers = {
            "Message-ID": envelope.message_id(notification_id=notification.pk, recipient=address),
            "Auto-Submitted": "auto-generated",
            # Outlook and Exchange send no out-of-office or read receipts to these.
            "X-Auto-Response-Suppress": "All",
        }
        if replyable:
            thread = envelope.thread_id(tag=event.reply_tag, subject_id=notification.subject_id)
            headers["In-Reply-To"] = headers["References"] = thread
        user_id = user_ids.get(address.strip().lower())
        reply_to = (
            [
                envelope.reply_address(
                    tag=event.reply_tag, subject_id=notification.subject_id, user_id=user_id
                )
            ]
            if user_id is not None
            else None
        )
        message = EmailMultiAlternatives(
            subject=subject_line, body=body, to=[address], reply_to=reply_to, headers=headers
        )
        message.attach_alternative(html, "text/html")
        for filename, content, mimetype in attachments:
            message.attach(filename, content, mimetype)
        messages.append(message)
    return messages


def _user_ids(addresses: list[str]) -> dict[str, int]:
    """The active users behind the addresses (their reply addresses name them)."""
    normalized = {address.strip().lower() for address in addresses}
    users = get_user_model().objects.filter(email__in=normalized, is_active=True)
    return {email: pk for pk, email in users.values_list("pk", "email")}


def _retry_delay(attempts: int) -> timedelta:
    return min(timedelta(minutes=2**attempts), RETRY_DELAY_CAP)


def notification_send(*, notification_id: int) -> bool:
    """Send one notification; False if it was already sent, is being sent, or failed.

    The row stays locked while the message goes out, so a concurrent sender skips it. Database
    errors propagate (the Celery task retries them).
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
            messages = _messages(notification, at)
            if messages:
                # One connection for every copy (the SMTP backend opens and closes it).
                get_connection().send_messages(messages)
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
        notification.recipients = [message.to[0] for message in messages]
        notification.last_error = ""
        notification.save(update_fields=["attempts", "sent_at", "recipients", "last_error"])
    return True


def notifications_retry_failed() -> int:
    """Give notifications that failed MAX_ATTEMPTS times a fresh start (after fixing the cause)."""
    return Notification.objects.filter(sent_at__isnull=True, attempts__gte=MAX_ATTEMPTS).update(
        attempts=0, next_attempt_at=timezone.now()
    )


def notifications_given_up() -> int:
    """How many notifications failed MAX_ATTEMPTS times and wait for an operator."""
    return Notification.objects.filter(sent_at__isnull=True, attempts__gte=MAX_ATTEMPTS).count()


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


# The most failed recipients one notification records (a bounce names one or a few).
MAX_FAILED_RECIPIENTS = 50


@transaction.atomic
def notification_mark_undeliverable(
    *, notification_id: int, address: str, status: str, at: datetime | None = None
) -> bool:
    """Record that the e-mail could not be delivered to `address` (a delivery-status report).

    Only a recipient it was sent to is recorded, once; False when nothing was recorded.
    """
    notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
    address = address.strip().lower()
    if notification is None or address not in [r.lower() for r in notification.recipients]:
        return False
    failed = notification.failed_recipients
    if any(entry["address"] == address for entry in failed) or len(failed) >= MAX_FAILED_RECIPIENTS:
        return False
    at = at or timezone.now()
    notification.failed_recipients = [
        *failed,
        {"address": address, "status": status[:20], "at": at.isoformat()},
    ]
    notification.last_error = f"Undeliverable to {address} ({status[:20]})"[:2000]
    notification.save(update_fields=["failed_recipients", "last_error"])
    logger.warning("Notification %s bounced for %s (%s)", notification.pk, address, status)
    return True
