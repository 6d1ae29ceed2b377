"""Sending e-mails in the background: one right after the commit that queued it, and the drain
(every minute, see CELERY_BEAT_SCHEDULE) for whatever that missed."""

from celery import shared_task

from core.jobs import JOB_OPTIONS

from . import sending


@shared_task(**JOB_OPTIONS, soft_time_limit=60, time_limit=90)
def send_notification(notification_id: int) -> bool:
    """Send one outbox notification (queued after the commit that wrote it)."""
    return sending.notification_send(notification_id=notification_id)


@shared_task(**JOB_OPTIONS, soft_time_limit=240, time_limit=300)
def drain_outbox() -> int:
    """Send notifications whose task never ran or failed (`drain_outbox`)."""
    return sending.notifications_send_due()
