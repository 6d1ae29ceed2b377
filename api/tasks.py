"""The API's Celery tasks (found by the worker's autodiscovery): forgetting old idempotency keys,
and the outgoing webhooks (api.webhooks.tasks)."""

from celery import shared_task

from core.jobs import JOB_OPTIONS

from .idempotency import idempotency_records_forget
from .webhooks.tasks import drain_webhooks, send_subscription_deliveries

__all__ = ["drain_webhooks", "forget_idempotency_keys", "send_subscription_deliveries"]


@shared_task(**JOB_OPTIONS, soft_time_limit=240, time_limit=300)
def forget_idempotency_keys() -> int:
    return idempotency_records_forget()
