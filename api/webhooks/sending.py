"""Posting deliveries: signed, in order per subscription, retried with backoff.

A subscription's deliveries go out oldest first, one at a time (its row is locked while one is
sent): a receiver sees events in the order they happened. A delivery that is not answered with a
2xx is tried again after 30 s, 1 min, 2 min… (doubling, at most 6 h apart); after
WEBHOOK_MAX_ATTEMPTS it is given up (failed) and the next one goes. Staff can re-send any
delivery from the admin.

The signature is the one our payment webhook verifies (`points.payments.webhook_signature`):
`X-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from points.payments import SIGNATURE_HEADER, webhook_signature

from ..models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from .addresses import url_refusal

RESPONSE_KEPT_CHARS = 2000
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)


def _post(*, url: str, body: bytes, secret: str) -> tuple[int | None, str]:
    """(HTTP status or None, the start of the answer or the error)."""
    # Checked again at each attempt: the name may resolve elsewhere than when subscribed.
    refusal = url_refusal(url)
    if refusal:
        return None, f"not sent: {refusal}"
    timestamp = int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "HelpDesk-Webhooks/1",
            SIGNATURE_HEADER: f"t={timestamp},v1="
            + webhook_signature(body=body, timestamp=timestamp, secret=secret),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as answer:
            return answer.status, answer.read(RESPONSE_KEPT_CHARS).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(RESPONSE_KEPT_CHARS).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(error)[:RESPONSE_KEPT_CHARS]


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def subscription_send_due(*, subscription_id: int) -> int:
    """Send the subscription's due deliveries, oldest first, stopping at the first that fails
    (it waits for its retry, and the later ones wait behind it). Returns how many were sent."""
    sent = 0
    while True:
        with transaction.atomic():
            subscription = (
                WebhookSubscription.objects.select_for_update(skip_locked=True)
                .filter(pk=subscription_id)
                .first()
            )
            if subscription is None:  # gone, or another worker is sending its deliveries
                return sent
            delivery = (
                WebhookDelivery.objects.filter(
                    subscription=subscription, status=DeliveryStatus.PENDING
                )
                .order_by("id")
                .first()
            )
            now = timezone.now()
            if delivery is None or delivery.next_attempt_at > now:
                return sent
            code, answer = _post(
                url=subscription.url, body=delivery_body(delivery), secret=subscription.secret
            )
            delivery.attempts += 1
            delivery.last_status_code = code
            delivery.last_response = answer
            delivery.last_attempt_at = now
            if code is not None and 200 <= code < 300:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = timezone.now()
                delivery.next_attempt_at = None
            elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = now + _backoff(delivery.attempts)
            delivery.save()
            if delivery.status == DeliveryStatus.PENDING:
                return sent
            sent += 1


def subscriptions_with_due_deliveries() -> list[int]:
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .values_list("subscription_id", flat=True)
        .distinct()
    )
