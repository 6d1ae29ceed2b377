"""The vendor's systems through integration keys: explicit permissions, find-or-create of a
buyer's account, grants that never happen twice, adjustments, reads of any account."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import IntegrationKey
from api.services import integration_key_revoke
from notifications.models import Notification
from points.models import Entry, EntryKind
from points.selectors import points_available
from tests.factories import AccountFactory, StaffUserFactory, TicketFactory
from tests.web import db_state

from .conftest import integration_client
from .support import assert_problem

pytestmark = pytest.mark.django_db

ALL = {"can_read_accounts": True, "can_manage_accounts": True, "can_grant_points": True}


@pytest.fixture
def shop(staff):
    return integration_client(staff, **ALL)


def test_find_or_create_makes_an_account_and_invites_its_owner(
    shop, django_capture_on_commit_callbacks
):
    body = {"shop_customer_id": "cus_1", "email": "Buyer@Example.com", "name": "Buyer Ltd"}
    with django_capture_on_commit_callbacks(execute=True):
        response = shop.post("/api/v1/integration/accounts", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["shop_customer_id"] == "cus_1"
    assert created["owner_email"].lower() == "buyer@example.com"
    assert created["balance"]["available"] == 0
    assert Notification.objects.filter(event="account_invitation").count() == 1
    # Found again by the shop's id, or by the owner's address.
    again = shop.post("/api/v1/integration/accounts", body, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]
    by_email = shop.post(
        "/api/v1/integration/accounts", {"email": "buyer@example.com"}, format="json"
    )
    assert by_email.json()["id"] == created["id"]
    assert len(mail.outbox) <= 1


def test_an_address_of_a_secondary_user_or_staff_is_refused(shop):
    staff = StaffUserFactory()
    response = shop.post("/api/v1/integration/accounts", {"email": staff.email}, format="json")
    assert_problem(response, 409, "address_taken")


def test_an_address_already_tied_to_another_shop_id_is_409(shop):
    shop.post("/api/v1/integration/accounts", {"shop_customer_id": "a", "email": "x@example.com"})
    response = shop.post(
        "/api/v1/integration/accounts",
        {"shop_customer_id": "b", "email": "x@example.com"},
        format="json",
    )
    assert_problem(response, 409, "shop_customer_conflict")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "not-an-address"},
        {"email": "a@example.com", "shop_customer_id": "x" * 101},
        {"email": "a@example.com", "name": "bad\x00"},
        {"email": ["a@example.com"]},
    ],
)
def test_invalid_account_requests_are_400(shop, body):
    before = db_state()
    response = shop.post("/api/v1/integration/accounts", body, format="json")
    assert_problem(response, 400, "invalid_request")
    assert db_state() == before


def test_a_grant_retried_after_a_timeout_never_grants_twice(shop, staff):
    account = AccountFactory()
    url = f"/api/v1/integration/accounts/{account.pk}/grants"
    body = {"points": 500, "reason": "License #A-17 sold"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "license-A-17"}
    first = shop.post(url, body, format="json", **headers)
    again = shop.post(url, body, format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert points_available(account=account) == 500
    entry = Entry.objects.get(account=account)
    assert (entry.kind, entry.actor, entry.reason) == (EntryKind.GRANT, staff, body["reason"])


def test_grants_with_expiry_and_their_refusals(shop, settings):
    account = AccountFactory()
    url = f"/api/v1/integration/accounts/{account.pk}/grants"
    soon = (timezone.now() + timedelta(days=30)).isoformat()
    response = shop.post(url, {"points": 5, "reason": "promo", "expires_at": soon}, format="json")
    assert response.json()["balance"]["next_expiry_points"] == 5
    assert_problem(
        shop.post(url, {"points": 5, "reason": " "}, format="json"), 400, "invalid_request"
    )
    too_many = {"points": settings.HELPDESK_MAX_POINTS_PER_OPERATION + 1, "reason": "slip"}
    assert_problem(shop.post(url, too_many, format="json"), 422, "invalid_amount")
    past = {"points": 5, "reason": "x", "expires_at": "2000-01-01T00:00:00Z"}
    assert_problem(shop.post(url, past, format="json"), 422, "invalid_expiry")
    for points in (0, -1, 2**70, "1e3", 1.5, True):
        response = shop.post(url, {"points": points, "reason": "x"}, format="json")
        assert_problem(response, 400, "invalid_request")
    assert_problem(
        shop.post("/api/v1/integration/accounts/999999/grants", {"points": 1, "reason": "x"}),
        404,
        "not_found",
    )


def test_adjustments_take_and_give(shop):
    account = AccountFactory()
    shop.post(f"/api/v1/integration/accounts/{account.pk}/grants", {"points": 50, "reason": "x"})
    url = f"/api/v1/integration/accounts/{account.pk}/adjustments"
    response = shop.post(url, {"points": -20, "reason": "refunded license"}, format="json")
    assert response.status_code == 201
    assert points_available(account=account) == 30
    body = assert_problem(
        shop.post(url, {"points": -100, "reason": "too much"}, format="json"),
        409,
        "insufficient_points",
    )
    assert body["missing"] == 70


def test_reads_of_any_account(shop):
    account = AccountFactory()
    TicketFactory(account=account)
    shop.post(f"/api/v1/integration/accounts/{account.pk}/grants", {"points": 7, "reason": "x"})
    assert (
        shop.get(f"/api/v1/integration/accounts/{account.pk}").json()["balance"]["available"] == 7
    )
    statement = shop.get(f"/api/v1/integration/accounts/{account.pk}/statement").json()
    assert [e["amount"] for e in statement["results"]] == [7]
    tickets = shop.get(f"/api/v1/integration/accounts/{account.pk}/tickets").json()
    assert len(tickets["results"]) == 1
    assert_problem(shop.get("/api/v1/integration/accounts/999999/tickets"), 404, "not_found")


@pytest.mark.parametrize(
    "permission, method, path",
    [
        ("can_manage_accounts", "post", "/api/v1/integration/accounts"),
        ("can_grant_points", "post", "/api/v1/integration/accounts/{id}/grants"),
        ("can_grant_points", "post", "/api/v1/integration/accounts/{id}/adjustments"),
        ("can_read_accounts", "get", "/api/v1/integration/accounts/{id}"),
        ("can_read_accounts", "get", "/api/v1/integration/accounts/{id}/statement"),
        ("can_read_accounts", "get", "/api/v1/integration/accounts/{id}/tickets"),
    ],
)
def test_each_endpoint_needs_its_permission(staff, permission, method, path):
    account = AccountFactory()
    others = {name: True for name in ALL if name != permission}
    client = integration_client(staff, **others)
    url = path.format(id=account.pk)
    body = {"points": 5, "reason": "x", "email": "a@example.com"}
    before = db_state()
    assert_problem(getattr(client, method)(url, body, format="json"), 403, "permission_denied")
    assert db_state() == before


def test_customers_tokens_cannot_use_integration_endpoints(api, account):
    assert_problem(api.get(f"/api/v1/integration/accounts/{account.pk}"), 403, "permission_denied")
    response = api.post(
        f"/api/v1/integration/accounts/{account.pk}/grants", {"points": 5, "reason": "x"}
    )
    assert_problem(response, 403, "permission_denied")
    assert points_available(account=account) == 0


def test_a_revoked_key_is_refused_and_use_is_recorded(shop):
    key = IntegrationKey.objects.get()
    shop.get(f"/api/v1/integration/accounts/{AccountFactory().pk}")
    key.refresh_from_db()
    assert key.last_used_at is not None
    integration_key_revoke(key=key)
    assert_problem(shop.get("/api/v1/integration/accounts/1"), 401, "authentication_failed")


def test_staff_create_a_key_in_the_admin_and_see_its_secret_once(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.post(
        "/admin/api/integrationkey/add/",
        {"name": "Shop", "can_grant_points": "on"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    secret = html.split('id="integration-key-secret">')[1].split("<")[0]
    key = IntegrationKey.objects.get()
    assert (key.name, key.can_grant_points, key.can_read_accounts) == ("Shop", True, False)
    assert key.created_by == staff
    assert secret not in client.get(f"/admin/api/integrationkey/{key.pk}/change/").content.decode()
    shop = APIClient()
    shop.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    account = AccountFactory()
    grant = shop.post(
        f"/api/v1/integration/accounts/{account.pk}/grants", {"points": 1, "reason": "x"}
    )
    assert grant.status_code == 201
