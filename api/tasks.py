"""The API's Celery tasks (found by the worker's autodiscovery): the outgoing webhooks."""

from .webhooks.tasks import drain_webhooks, send_subscription_deliveries

__all__ = ["drain_webhooks", "send_subscription_deliveries"]
