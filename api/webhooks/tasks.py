"""Sending webhooks in the background: a subscription's deliveries right after the commit that
made them, and the drain (every minute, CELERY_BEAT_SCHEDULE) for retries and whatever that
missed."""

import logging

from celery import shared_task

from core.jobs import JOB_OPTIONS

from . import sending

logger = logging.getLogger(__name__)


@shared_task(**JOB_OPTIONS, soft_time_limit=240, time_limit=300)
def send_subscription_deliveries(subscription_id: int) -> int:
    return sending.subscription_send_due(subscription_id=subscription_id)


@shared_task(**JOB_OPTIONS, soft_time_limit=240, time_limit=300)
def drain_webhooks() -> int:
    return sum(
        sending.subscription_send_due(subscription_id=subscription_id)
        for subscription_id in sending.subscriptions_with_due_deliveries()
    )


def queue_subscription(subscription_id: int) -> None:
    """After commit: send now; with the broker down, the drain sends them later."""
    try:
        send_subscription_deliveries.delay(subscription_id)
    except Exception:
        logger.warning(
            "Webhook deliveries of subscription %s could not be queued; the drain sends them.",
            subscription_id,
            exc_info=True,
        )
