"""/metrics: Prometheus text behind a bearer token: request latency and the business figures."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from points.models import Lot, LotKind
from points.services import hold_capture, points_grant
from tests.factories import AccountFactory, TicketFactory
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, token=TOKEN):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def value(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in the metrics"
    return float(match.group(1))


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert scrape(client, "").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer wrong",
        f"bearer {TOKEN}",
        f"Bearer {TOKEN}x",
        TOKEN,
        "Bearer " + "x" * 100_000,
    ],
    ids=["none", "empty", "wrong", "lowercase", "longer", "no-scheme", "huge"],
)
def test_metrics_refuse_any_other_authorization(client, token, authorization):
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401
    assert b"helpdesk_" not in response.content


def test_metrics_refuse_posts(client, token):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_request_latency_is_recorded_by_view_never_by_path(client, token):
    client.get("/healthz")
    client.get("/tickets/999999999/")  # a redirect to log in: its view, not its path
    client.generic("BREW", "/healthz")

    text = scrape(client).content.decode()

    assert (
        value(
            text,
            "helpdesk_request_duration_seconds_count",
            '{method="GET",status="2xx",view="healthz"}',
        )
        >= 1
    )
    assert 'view="tickets:detail"' in text
    assert "999999999" not in text
    assert 'method="other"' in text and "BREW" not in text


def test_business_figures(client, token):
    now = timezone.now()
    account = AccountFactory()
    # The outbox: two unsent (the oldest an hour old), one sent.
    for created, sent in [(now - timedelta(hours=1), None), (now, None), (now, now)]:
        Notification.objects.create(
            event="x", created_at=created, next_attempt_at=now, sent_at=sent
        )
    # Lots: one due but not recorded as expired, one expired and recorded, one current.
    lot = dict(account=account, kind=LotKind.GRANT, points=5, acquired_at=now - timedelta(days=9))
    Lot.objects.create(**lot, remaining=5, expires_at=now - timedelta(days=1))
    Lot.objects.create(**lot, remaining=0, expires_at=now - timedelta(days=2), expired_at=now)
    Lot.objects.create(**lot, remaining=5, expires_at=now + timedelta(days=9))
    # Tickets: one past its first-response target, one not yet due, one answered, one resolved.
    TicketFactory(account=account, first_response_due_at=now - timedelta(minutes=5))
    TicketFactory(account=account, first_response_due_at=now + timedelta(hours=1))
    TicketFactory(
        account=account, first_response_due_at=now - timedelta(hours=1), first_response_at=now
    )
    TicketFactory(
        account=account,
        status=TicketStatus.RESOLVED,
        first_response_due_at=now - timedelta(hours=1),
    )
    points_grant(account=account, points=50, reason="r", actor=None)
    hold_capture(ticket=TicketFactory(account=account), points=10)

    text = scrape(client).content.decode()

    assert value(text, "helpdesk_outbox_backlog") == 2
    assert 3600 <= value(text, "helpdesk_outbox_oldest_unsent_age_seconds") < 3700
    assert value(text, "helpdesk_lots_due_not_expired") == 1
    assert value(text, "helpdesk_tickets_first_response_overdue") == 1
    assert value(text, "helpdesk_ledger_entries_total") >= 2  # the grant and the capture
    assert value(text, "helpdesk_ledger_holds_total") >= 1


def test_the_business_figures_take_a_bounded_number_of_queries(
    client, token, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        assert scrape(client).status_code == 200
