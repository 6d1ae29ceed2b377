"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1: signed as our payment webhook
verifies, sent after commit, in order per subscription, retried with backoff, given up, re-sent
from the admin."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from api.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from api.services import (
    integration_key_create,
    integration_key_revoke,
    webhook_subscription_create,
)
from api.webhooks.tasks import drain_webhooks
from core.errors import HelpDeskError
from points.payments import SIGNATURE_HEADER, webhook_verify
from points.services import (
    balance_alert_set,
    lots_expire_due,
    points_grant,
    points_purchase,
)
from tests.factories import IssueCategoryFactory
from tickets.services import ticket_file, ticket_reply

from .conftest import integration_client
from .support import assert_problem

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server in this process: records every request; answers the next queued status
    (200 when none is queued)."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(body) for _headers, body in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


@pytest.fixture
def subscription(receiver, staff):
    key, _secret = integration_key_create(name="shop", created_by=staff, can_read_accounts=True)
    return webhook_subscription_create(
        integration_key=key,
        url=receiver.url,
        events=[WebhookEvent.TICKET_CREATED, WebhookEvent.TICKET_REPLIED],
    )


@pytest.fixture
def funded(account):
    points_grant(account=account, points=500, reason="test", actor=None)
    return account


def file_ticket(account, owner, commit):
    with commit(execute=True):
        return ticket_file(
            account=account,
            filed_by=owner,
            category=IssueCategoryFactory(points=10),
            subject="Broken",
            description="It broke.",
        )


def test_a_filed_ticket_is_posted_signed_after_commit(
    receiver, subscription, funded, owner, django_capture_on_commit_callbacks
):
    ticket = file_ticket(funded, owner, django_capture_on_commit_callbacks)
    [(headers, body)] = receiver.requests
    with override_settings(PAYMENT_WEBHOOK_SECRET=subscription.secret):
        webhook_verify(body=body, header=headers[SIGNATURE_HEADER])
    event = json.loads(body)
    assert event["type"] == "ticket.created"
    assert event["data"] == {"account": funded.pk, "ticket": ticket.pk, "status": "open"}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert str(delivery.event_id) == event["id"]


def test_a_wrong_secret_does_not_verify(
    receiver, subscription, funded, owner, django_capture_on_commit_callbacks
):
    file_ticket(funded, owner, django_capture_on_commit_callbacks)
    [(headers, body)] = receiver.requests
    with override_settings(PAYMENT_WEBHOOK_SECRET="another secret"), pytest.raises(HelpDeskError):
        webhook_verify(body=body, header=headers[SIGNATURE_HEADER])


def test_nothing_is_sent_for_a_rolled_back_operation(receiver, subscription, account, owner):
    with pytest.raises(HelpDeskError):
        ticket_file(  # no points: refused, rolled back
            account=account,
            filed_by=owner,
            category=IssueCategoryFactory(points=10),
            subject="Broken",
            description="It broke.",
        )
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_failures_are_retried_with_backoff_and_order_is_kept(
    receiver, subscription, funded, owner, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    ticket = file_ticket(funded, owner, django_capture_on_commit_callbacks)
    first = WebhookDelivery.objects.get()
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert first.last_response == "try later"
    # A later event waits behind the failed one: the receiver never sees them out of order.
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, author=owner, body="More details")
    assert len(receiver.requests) == 1
    drain_webhooks()  # the retry is not due yet
    assert len(receiver.requests) == 1
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert drain_webhooks() == 2
    assert [e["type"] for e in receiver.events()] == [
        "ticket.created",
        "ticket.created",
        "ticket.replied",
    ]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_an_unreachable_receiver_is_given_up_then_resent_from_the_admin(
    receiver,
    subscription,
    funded,
    owner,
    settings,
    client,
    staff,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [503, 503, 503]
    file_ticket(funded, owner, django_capture_on_commit_callbacks)
    moment = timezone.now()
    for wait in (31, 62):
        moment += timedelta(seconds=wait)
        with time_machine.travel(moment):
            drain_webhooks()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    page = client.get("/admin/api/webhookdelivery/")
    assert "ticket.created" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/api/webhookdelivery/",
            {"action": "resend", "_selected_action": [delivery.pk]},
        )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 4


def test_unsubscribed_events_and_revoked_keys_get_nothing(
    receiver, subscription, funded, owner, django_capture_on_commit_callbacks
):
    subscription.events = [WebhookEvent.TICKET_RESOLVED]
    subscription.save()
    file_ticket(funded, owner, django_capture_on_commit_callbacks)
    subscription.events = [WebhookEvent.TICKET_CREATED]
    subscription.save()
    integration_key_revoke(key=subscription.integration_key)
    file_ticket(funded, owner, django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_a_subscription_needs_known_events(staff):
    key, _secret = integration_key_create(name="k", created_by=staff, can_read_accounts=True)
    for events in ([], ["ticket.exploded"]):
        with pytest.raises(HelpDeskError):
            webhook_subscription_create(integration_key=key, url="http://127.0.0.1/", events=events)


def test_the_delivery_list_makes_a_bounded_number_of_queries(
    receiver,
    subscription,
    funded,
    owner,
    client,
    staff,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    for _ in range(5):
        file_ticket(funded, owner, django_capture_on_commit_callbacks)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    with django_assert_max_num_queries(12):
        assert client.get("/admin/api/webhookdelivery/").status_code == 200


def test_ledger_events_are_delivered(receiver, staff, account, django_capture_on_commit_callbacks):
    key, _secret = integration_key_create(name="books", created_by=staff, can_read_accounts=True)
    webhook_subscription_create(
        integration_key=key,
        url=receiver.url,
        events=[
            WebhookEvent.POINTS_GRANTED,
            WebhookEvent.POINTS_PURCHASED,
            WebhookEvent.POINTS_EXPIRED,
        ],
    )
    soon = timezone.now() + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        lot = points_grant(account=account, points=30, reason="promo", actor=None, expires_at=soon)
    with django_capture_on_commit_callbacks(execute=True):
        points_purchase(account=account, points=100, payment_reference="pay_1")
    later = soon + timedelta(minutes=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        lots_expire_due(as_of=later)
    events = receiver.events()
    assert [e["type"] for e in events] == ["points.granted", "points.purchased", "points.expired"]
    assert events[0]["data"] == {"account": account.pk, "lot": lot.pk, "points": 30, "order": None}
    assert events[2]["data"] == {"account": account.pk, "lot": lot.pk, "points": 30}


def test_a_balance_falling_below_its_alert_threshold_is_delivered_once(
    receiver, staff, account, owner, django_capture_on_commit_callbacks
):
    key, _secret = integration_key_create(name="crm", created_by=staff, can_read_accounts=True)
    webhook_subscription_create(
        integration_key=key, url=receiver.url, events=[WebhookEvent.BALANCE_LOW]
    )
    with django_capture_on_commit_callbacks(execute=True):
        points_grant(account=account, points=30, reason="promo", actor=None)
        balance_alert_set(account=account, actor=owner, threshold=25, at=timezone.now())
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            ticket_file(
                account=account,
                filed_by=owner,
                category=IssueCategoryFactory(points=4),
                subject="Broken",
                description="It broke.",
            )
    assert [(e["type"], e["data"]) for e in receiver.events()] == [
        ("balance.low", {"account": account.pk, "available": 22, "threshold": 25})
    ]


def test_an_integration_subscribes_through_the_api_and_receives(
    receiver, staff, funded, owner, django_capture_on_commit_callbacks
):
    shop = integration_client(staff, can_read_accounts=True)
    response = shop.post(
        "/api/v1/integration/webhooks",
        {"url": receiver.url, "events": ["ticket.created"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    listed = shop.get("/api/v1/integration/webhooks").json()
    assert [s["id"] for s in listed] == [created["id"]]
    assert "secret" not in listed[0]
    file_ticket(funded, owner, django_capture_on_commit_callbacks)
    [(headers, body)] = receiver.requests
    with override_settings(PAYMENT_WEBHOOK_SECRET=created["secret"]):
        webhook_verify(body=body, header=headers[SIGNATURE_HEADER])
    assert shop.delete(f"/api/v1/integration/webhooks/{created['id']}").status_code == 204
    file_ticket(funded, owner, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    assert shop.get("/api/v1/integration/webhooks").json() == []


def test_subscriptions_need_read_permission_and_are_per_key(staff, receiver):
    writer = integration_client(staff, can_grant_points=True)
    body = {"url": receiver.url, "events": ["ticket.created"]}
    response = writer.post("/api/v1/integration/webhooks", body, format="json")
    assert_problem(response, 403, "permission_denied")
    reader = integration_client(staff, can_read_accounts=True)
    other = integration_client(staff, can_read_accounts=True)
    created = reader.post("/api/v1/integration/webhooks", body, format="json").json()
    response = other.delete(f"/api/v1/integration/webhooks/{created['id']}")
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://example.com/x", "events": []},
        {"url": "http://example.com/x", "events": ["ticket.exploded"]},
        {"url": "http://example.com/" + "x" * 500, "events": ["ticket.created"]},
        {"url": "http://example.com/x", "events": "ticket.created"},
    ],
)
def test_invalid_subscriptions_are_400(staff, body):
    shop = integration_client(staff, can_read_accounts=True)
    response = shop.post("/api/v1/integration/webhooks", body, format="json")
    assert_problem(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://10.0.0.5/x",
        "http://[::1]/x",
        "http://169.254.169.254/x",
        "ftp://example.com/x",
    ],
)
def test_private_addresses_are_refused_unless_allowed(staff, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    shop = integration_client(staff, can_read_accounts=True)
    response = shop.post(
        "/api/v1/integration/webhooks", {"url": url, "events": ["ticket.created"]}, format="json"
    )
    assert_problem(response, 422, "invalid_url")


def test_a_url_that_turned_private_is_not_posted(
    receiver, subscription, funded, owner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    file_ticket(funded, owner, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert delivery.last_response.startswith("not sent:")
    assert delivery.status == DeliveryStatus.PENDING
