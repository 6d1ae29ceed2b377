"""The customer's writes: filing with capture, the thread with attachments, ticket actions and
orders; each through the web's services, with their refusals as problems."""

import pytest
from rest_framework.test import APIClient

from points.models import Order, OrderStatus
from points.selectors import points_available
from points.services import points_grant
from tests.factories import (
    AccountFactory,
    IssueCategoryFactory,
    PointPackageFactory,
    TicketFactory,
    account_owner,
)
from tests.web import PNG, db_state, png, stored_files, text_file
from tickets.models import Message, Ticket
from tickets.services import ticket_file

from .support import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def category():
    return IssueCategoryFactory(points=40)


@pytest.fixture
def funded(account):
    points_grant(account=account, points=100, reason="test", actor=None)
    return account


def ticket_body(category, **extra):
    body = {"category": category.pk, "subject": "Checkout fails", "description": "500 on pay."}
    return {**body, **extra}


def test_filing_captures_the_price_like_the_web(api, funded, category):
    response = api.post("/api/v1/tickets", ticket_body(category), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/tickets/{body['id']}"
    assert body["hold"]["amount"] == 40
    assert body["status"] == "open"
    assert points_available(account=funded) == 60


def test_hotrush_doubles_and_a_short_balance_is_409_with_what_is_missing(api, funded, category):
    before = db_state()
    response = api.post("/api/v1/tickets", ticket_body(category, is_urgent=True), format="json")
    assert response.status_code == 201
    assert points_available(account=funded) == 20
    before = db_state()
    body = assert_problem(
        api.post("/api/v1/tickets", ticket_body(category), format="json"),
        409,
        "insufficient_points",
    )
    assert (body["required"], body["available"], body["missing"]) == (40, 20, 20)
    assert db_state() == before


@pytest.mark.parametrize(
    "change",
    [
        {"category": 0},
        {"category": 2**70},
        {"category": "1; drop table"},
        {"category": None},
        {"subject": ""},
        {"subject": "x" * 201},
        {"subject": "nul\x00here"},
        {"description": "x" * 50_001},
        {"is_urgent": "perhaps"},
        {"subject": ["a", "b"]},
        {"subject": {"deep": {"er": 1}}},
    ],
)
def test_invalid_tickets_are_400_and_change_nothing(api, funded, category, change):
    before = db_state()
    body = assert_problem(
        api.post("/api/v1/tickets", {**ticket_body(category), **change}, format="json"),
        400,
        "invalid_request",
    )
    assert set(body["errors"]) <= {"category", "subject", "description", "is_urgent"}
    assert db_state() == before


def test_an_inactive_or_unknown_category_is_refused(api, funded):
    retired = IssueCategoryFactory(is_active=False)
    response = api.post("/api/v1/tickets", ticket_body(retired), format="json")
    assert_problem(response, 400, "invalid_request")


def test_a_malformed_or_deep_json_body_is_400(api, funded):
    for raw in ("{", "[" * 10_000 + "]" * 10_000, '{"subject": NaN}', "\xff"):
        response = api.post("/api/v1/tickets", raw, content_type="application/json")
        assert response.status_code == 400, raw[:20]
        assert response["Content-Type"] == "application/problem+json"


def test_filing_with_attachments_multipart(api, funded, category):
    data = {**ticket_body(category), "attachments": [png(), text_file()]}
    response = api.post("/api/v1/tickets", data, format="multipart")
    assert response.status_code == 201, response.content
    attachments = response.json()["messages"][0]["attachments"]
    assert [a["name"] for a in attachments] == ["screenshot.png", "error.log"]
    download = api.get(attachments[0]["url"])
    assert b"".join(download.streaming_content) == PNG


def test_a_file_whose_content_is_not_its_type_is_422_and_nothing_is_kept(api, funded, category):
    before, files = db_state(), stored_files()
    fake = text_file("photo.png", b"MZ\x90\x00 not a png")
    data = {**ticket_body(category), "attachments": [fake]}
    response = api.post("/api/v1/tickets", data, format="multipart")
    assert_problem(response, 422, "attachment_rejected")
    assert db_state() == before
    assert stored_files() == files


def test_too_many_files_are_refused(api, funded, category, settings):
    settings.HELPDESK_ATTACHMENT_MAX_COUNT = 2
    data = {**ticket_body(category), "attachments": [png(), png(), png()]}
    assert_problem(api.post("/api/v1/tickets", data, format="multipart"), 400, "invalid_request")


def test_messages_list_and_reply(api, funded, category, owner):
    ticket = ticket_file(
        account=funded, filed_by=owner, category=category, subject="S", description="first"
    )
    url = f"/api/v1/tickets/{ticket.pk}/messages"
    response = api.post(url, {"body": "More details", "attachments": [png()]}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["attachments"][0]["name"] == "screenshot.png"
    bodies = [m["body"] for m in api.get(url).json()]
    assert bodies == ["first", "More details"]
    assert_problem(api.post(url, {"body": ""}, format="json"), 400, "invalid_request")


def test_another_accounts_ticket_is_404_for_every_write(api, funded):
    other = TicketFactory(account=AccountFactory())
    before = db_state()
    for path, body in [
        ("messages", {"body": "hi"}),
        ("cancel", {}),
        ("remove-urgency", {}),
        ("accept-quote", {}),
        ("decline-quote", {}),
        ("reconsider", {"message": "too dear"}),
        ("rate", {"score": 5}),
    ]:
        response = api.post(f"/api/v1/tickets/{other.pk}/{path}", body, format="json")
        assert_problem(response, 404, "not_found")
    assert db_state() == before
    assert Message.objects.filter(ticket=other).count() == 0


def test_cancel_returns_the_points_and_a_second_cancel_is_409(api, funded, category, owner):
    ticket = ticket_file(
        account=funded, filed_by=owner, category=category, subject="S", description="d"
    )
    response = api.post(f"/api/v1/tickets/{ticket.pk}/cancel", format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert points_available(account=funded) == 100
    again = api.post(f"/api/v1/tickets/{ticket.pk}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "ticket_not_active"


def test_rating_an_open_ticket_is_refused_with_the_policys_code(api, funded, category, owner):
    ticket = ticket_file(
        account=funded, filed_by=owner, category=category, subject="S", description="d"
    )
    response = api.post(f"/api/v1/tickets/{ticket.pk}/rate", {"score": 5}, format="json")
    assert_problem(response, 409, "ticket_not_resolved")
    response = api.post(f"/api/v1/tickets/{ticket.pk}/rate", {"score": 9}, format="json")
    assert_problem(response, 400, "invalid_request")


def test_quote_actions_without_a_quote_are_409(api, funded, category, owner):
    ticket = ticket_file(
        account=funded, filed_by=owner, category=category, subject="S", description="d"
    )
    for action in ("accept-quote", "decline-quote"):
        response = api.post(f"/api/v1/tickets/{ticket.pk}/{action}")
        assert response.status_code == 409
        assert response.json()["code"] in {"no_pending_quote", "transition_not_allowed"}


def test_dropping_hotrush_returns_the_surcharge(api, funded, category, owner):
    ticket = ticket_file(
        account=funded,
        filed_by=owner,
        category=category,
        subject="S",
        description="d",
        is_urgent=True,
    )
    assert points_available(account=funded) == 20
    response = api.post(f"/api/v1/tickets/{ticket.pk}/remove-urgency")
    assert response.status_code == 200, response.content
    assert response.json()["is_urgent"] is False
    assert points_available(account=funded) == 60


def test_ordering_a_package_pays_through_the_configured_backend(api, account):
    package = PointPackageFactory(points=250, price="240.00")
    response = api.post("/api/v1/orders", {"package": package.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == OrderStatus.PAID  # the demo backend of the tests pays at once
    assert body["payment"]["backend"] == "demo"
    assert points_available(account=account) == 250
    assert api.get("/api/v1/orders").json()["results"][0]["id"] == body["id"]
    assert api.get(f"/api/v1/orders/{body['id']}").json()["points"] == 250


def test_orders_of_another_account_and_packages_not_on_sale(api, account):
    other_account = AccountFactory()
    package = PointPackageFactory()
    other_order = Order.objects.create(
        account=other_account,
        package=package,
        points=package.points,
        price=package.price,
        currency="USD",
        payment_backend="manual",
        created_by=account_owner(other_account),
    )
    assert_problem(api.get(f"/api/v1/orders/{other_order.pk}"), 404, "not_found")
    retired = PointPackageFactory(is_active=False)
    response = api.post("/api/v1/orders", {"package": retired.pk}, format="json")
    assert_problem(response, 400, "invalid_request")


def test_the_session_can_write_with_its_csrf_token(account, owner, category):
    points_grant(account=account, points=100, reason="test", actor=None)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    refused = client.post("/api/v1/tickets", ticket_body(category), format="json")
    assert_problem(refused, 403, "permission_denied")
    assert not Ticket.objects.exists()
    client.get("/accounts/api-tokens/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/tickets", ticket_body(category), format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201
