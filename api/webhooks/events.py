"""From the outbox's events to webhook deliveries.

`record_events` is registered with `notifications.outbox.listen` and `record_ledger_events` with
`points.listeners.listen` (api.apps): the lower apps raise their events as they always do and
never import the API. A delivery row is written in the same
transaction as what it tells about; its sending is queued after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from accounts.models import Account
from tickets.models import Ticket

from ..models import WebhookDelivery, WebhookEvent, WebhookSubscription
from .tasks import queue_subscription

# The outbox's event → the webhook event it is.
OUTBOX_EVENTS = {
    "ticket_filed": WebhookEvent.TICKET_CREATED,
    "customer_replied": WebhookEvent.TICKET_REPLIED,
    "staff_replied": WebhookEvent.TICKET_REPLIED,
    "cost_changed": WebhookEvent.TICKET_COST_CHANGED,
    "ticket_resolved": WebhookEvent.TICKET_RESOLVED,
    "points_returned": WebhookEvent.TICKET_RETURNED_AS_BUG,
    "points_expiring": WebhookEvent.POINTS_EXPIRING,
    "points_low": WebhookEvent.BALANCE_LOW,
}


def _data(subject: models.Model | None, context: Mapping[str, Any]) -> dict:
    """What a receiver needs to find the rest through the API: ids and the key facts."""
    if isinstance(subject, Ticket):
        data = {"account": subject.account_id, "ticket": subject.pk, "status": subject.status}
        message = context.get("message")
        if message is not None:
            data["message"] = message.pk
            data["from_staff"] = message.is_from_staff
        change = context.get("cost_change")
        if change is not None:
            data["old_points"] = change.old_points
            data["new_points"] = change.new_points
        if "points" in context:
            data["points"] = context["points"]
        return data
    if isinstance(subject, Account):
        if "threshold" in context:
            return {
                "account": subject.pk,
                "available": context["available"],
                "threshold": context["threshold"],
            }
        lots = context.get("lots") or []
        return {
            "account": subject.pk,
            "lots": [lot.pk for lot in lots],
        }
    return {}


def _deliver(webhook_event: WebhookEvent, items: list[dict]) -> None:
    """One delivery per (event data, subscription to `webhook_event`), sent after commit."""
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(
            is_active=True,
            integration_key__revoked_at=None,
            integration_key__can_read_accounts=True,
        )
        if webhook_event in subscription.events
    ]
    if not subscriptions or not items:
        return
    now = timezone.now()
    deliveries = []
    for data in items:
        for subscription in subscriptions:
            event_id = uuid.uuid4()
            deliveries.append(
                WebhookDelivery(
                    subscription=subscription,
                    event_id=event_id,
                    event=webhook_event,
                    payload={
                        "id": str(event_id),
                        "type": webhook_event.value,
                        "created_at": now.isoformat(),
                        "data": data,
                    },
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    WebhookDelivery.objects.bulk_create(deliveries)
    for subscription in subscriptions:
        transaction.on_commit(partial(queue_subscription, subscription.pk))


def record_events(event: str, items: list[tuple[models.Model | None, Mapping[str, Any]]]) -> None:
    """The outbox's listener (tickets' events, points expiring soon)."""
    webhook_event = OUTBOX_EVENTS.get(event)
    if webhook_event is not None:
        _deliver(webhook_event, [_data(subject, context) for subject, context in items])


def record_ledger_events(event: str, items: list[dict[str, Any]]) -> None:
    """The ledger's listener (points purchased, granted, expired)."""
    _deliver(WebhookEvent(event), items)
