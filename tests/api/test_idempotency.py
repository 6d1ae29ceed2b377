"""`Idempotency-Key`: a retry replays the first answer, another body is 422, concurrent retries
run once (real transactions on PostgreSQL), keys are kept at least 24 hours."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from api.services import api_token_create
from api.tasks import forget_idempotency_keys
from points.models import Order
from points.selectors import points_available
from points.services import points_grant
from tests.factories import AccountFactory, IssueCategoryFactory, PointPackageFactory, account_owner
from tests.web import png
from tickets.models import Ticket

from .support import assert_problem


def ticket_body(category):
    return {"category": category.pk, "subject": "Broken", "description": "It broke."}


@pytest.fixture
def funded(account):
    points_grant(account=account, points=100, reason="test", actor=None)
    return account


@pytest.mark.django_db
def test_a_retry_replays_the_first_answer_and_files_once(api, funded):
    category = IssueCategoryFactory(points=40)
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42-ticket"}
    first = api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
    again = api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1
    assert points_available(account=funded) == 60


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(api, funded):
    category = IssueCategoryFactory(points=40)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k1"}
    api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
    other = {**ticket_body(category), "subject": "Something else"}
    response = api.post("/api/v1/tickets", other, format="json", **headers)
    assert_problem(response, 422, "idempotency_key_reused")
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_is_replayed_too_and_other_paths_are_another_request(api, funded):
    category = IssueCategoryFactory(points=400)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k2"}
    first = api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
    assert_problem(first, 409, "insufficient_points")
    # Points arrive meanwhile: the retry with the same key still answers what the first did.
    points_grant(account=funded, points=1000, reason="test", actor=None)
    again = api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
    assert_problem(again, 409, "insufficient_points")
    assert again["Idempotent-Replayed"] == "true"
    response = api.post("/api/v1/orders", {"package": 1}, format="json", **headers)
    assert_problem(response, 422, "idempotency_key_reused")


@pytest.mark.django_db
def test_keys_are_per_credential(api, funded):
    category = IssueCategoryFactory(points=10)
    other_account = AccountFactory()
    points_grant(account=other_account, points=100, reason="test", actor=None)
    _token, secret = api_token_create(user=account_owner(other_account), name="x")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    headers = {"HTTP_IDEMPOTENCY_KEY": "same-key"}
    api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
    response = other.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Ticket.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "naïve", "tab\there"])
def test_a_malformed_key_is_400(api, funded, key):
    category = IssueCategoryFactory(points=10)
    response = api.post(
        "/api/v1/tickets", ticket_body(category), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert_problem(response, 400, "invalid_idempotency_key")
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_multipart_files_count_in_the_body(api, funded):
    category = IssueCategoryFactory(points=10)
    headers = {"HTTP_IDEMPOTENCY_KEY": "files"}
    data = {**ticket_body(category), "attachments": [png()]}
    assert api.post("/api/v1/tickets", data, format="multipart", **headers).status_code == 201
    data = {**ticket_body(category), "attachments": [png("other-name.png")]}
    response = api.post("/api/v1/tickets", data, format="multipart", **headers)
    assert_problem(response, 422, "idempotency_key_reused")


@pytest.mark.django_db
def test_keys_are_kept_a_day_then_may_be_reused(api, funded, settings):
    category = IssueCategoryFactory(points=10)
    headers = {"HTTP_IDEMPOTENCY_KEY": "daily"}
    api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        again = api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
        assert again["Idempotent-Replayed"] == "true"
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        later = api.post("/api/v1/tickets", ticket_body(category), format="json", **headers)
        assert "Idempotent-Replayed" not in later
    assert Ticket.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_once(account, token_secret):
    """Eight clients send the same order with one key at once: one order, one lot; every
    client gets the same answer."""
    package = PointPackageFactory(points=250, price="240.00")
    barrier = threading.Barrier(8)
    answers = [None] * 8

    def send(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_secret}")
        try:
            connection.ensure_connection()
            barrier.wait(10)
            response = client.post(
                "/api/v1/orders",
                {"package": package.pk},
                format="json",
                HTTP_IDEMPOTENCY_KEY="shop-retry",
            )
            answers[index] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Order.objects.count() == 1
    assert points_available(account=account) == 250
    assert {status for status, _body in answers} == {201}
    assert len({body["id"] for _status, body in answers}) == 1


@pytest.mark.django_db
def test_the_hourly_job_forgets_keys_past_the_window(api, funded):
    category = IssueCategoryFactory(points=10)
    api.post("/api/v1/tickets", ticket_body(category), format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert forget_idempotency_keys() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert forget_idempotency_keys() == 1
    assert not IdempotencyRecord.objects.exists()
