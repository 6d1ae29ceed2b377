"""The customer's reads: prices, the statement, lots, tickets; scoped to the token's account."""

import base64
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from points.services import points_grant
from security.models import UserSession
from tests.factories import (
    AccountFactory,
    IssueCategoryFactory,
    PointPackageFactory,
    StaffUserFactory,
    TicketFactory,
)
from tickets.models import Message, TicketStatus
from tickets.services import ticket_file

from .support import assert_problem

pytestmark = pytest.mark.django_db


def grant(account, points, **kwargs):
    return points_grant(account=account, points=points, reason="goodwill", actor=None, **kwargs)


def test_me_shows_the_balance(api, account):
    soon = timezone.now() + timedelta(days=30)
    grant(account, 100, expires_at=soon)
    grant(account, 50)
    ticket_file(
        account=account,
        filed_by=account.memberships.get().user,
        category=IssueCategoryFactory(points=40),
        subject="Broken",
        description="It is broken.",
    )
    balance = api.get("/api/v1/me").json()["balance"]
    assert balance["available"] == 110
    assert balance["captured"] == 40
    assert balance["next_expiry_points"] == 60
    assert balance["next_expiry_at"] is not None


def test_categories_list_active_ones_with_prices(api):
    category = IssueCategoryFactory(points=40)
    IssueCategoryFactory(is_active=False, name="Retired")
    body = api.get("/api/v1/categories").json()
    mine = next(c for c in body if c["id"] == category.pk)
    assert mine["capture_points"] == 40
    assert mine["pricing_kind"] == "fixed"
    assert "Retired" not in {c["name"] for c in body}


def test_packages_on_sale(api):
    package = PointPackageFactory(points=250, price="240.00")
    PointPackageFactory(is_active=False)
    body = api.get("/api/v1/packages").json()
    assert [p["id"] for p in body] == [package.pk]
    assert body[0]["price"] == "240.00"
    assert body[0]["price_per_point"] == "0.9600"


def test_statement_is_cursor_paginated_newest_first(api, account):
    for points in range(1, 6):
        grant(account, points)
    first = api.get("/api/v1/statement?page_size=2").json()
    assert [e["amount"] for e in first["results"]] == [5, 4]
    assert first["results"][0]["available_change"] == 5
    second = api.get(first["next"]).json()
    assert [e["amount"] for e in second["results"]] == [3, 2]


def test_statement_filters_by_kind_and_date(api, account):
    grant(account, 7)
    body = api.get("/api/v1/statement", {"kind": "grant"}).json()
    assert [e["amount"] for e in body["results"]] == [7]
    assert api.get("/api/v1/statement", {"kind": "purchase"}).json()["results"] == []
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    assert api.get("/api/v1/statement", {"since": later}).json()["results"] == []
    assert len(api.get("/api/v1/statement", {"until": later}).json()["results"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        {"kind": "nonsense"},
        {"since": "yesterday"},
        {"until": "9999-99-99"},
        {"since": "2020-01-01T25:00:00"},
        {"kind": "x" * 100_000},
    ],
)
def test_bad_statement_filters_are_400_problems(api, query):
    body = assert_problem(api.get("/api/v1/statement", query), 400, "invalid_request")
    assert set(body["errors"]) <= {"kind", "since", "until"}


@pytest.mark.parametrize("url", ["/api/v1/statement", "/api/v1/tickets", "/api/v1/lots"])
@pytest.mark.parametrize(
    "cursor", ["p=not-a-date", "p=2020-01-01&r=1&o=99999999999999999999", "o=-5", "p=\x00", "%%%"]
)
def test_a_forged_cursor_is_a_404_or_a_page_never_a_500(api, account, url, cursor):
    grant(account, 1)
    TicketFactory(account=account)
    encoded = base64.b64encode(cursor.encode()).decode() if cursor != "%%%" else cursor
    response = api.get(url, {"cursor": encoded})
    if response.status_code != 200:
        assert_problem(response, 404, "not_found")


def test_a_huge_page_size_is_capped(api, account):
    grant(account, 1)
    assert api.get("/api/v1/statement", {"page_size": 10**30}).status_code == 200


def test_lots_soonest_expiry_first(api, account):
    late = grant(account, 10)
    soon = grant(account, 20, expires_at=timezone.now() + timedelta(days=3))
    body = api.get("/api/v1/lots").json()
    assert [lot["id"] for lot in body["results"]] == [soon.pk, late.pk]
    assert body["results"][0]["remaining"] == 20


def test_tickets_list_and_filters(api, account):
    open_ticket = TicketFactory(account=account, subject="Checkout fails")
    TicketFactory(account=account, subject="Old", status=TicketStatus.CLOSED)
    TicketFactory(subject="Someone else's")
    body = api.get("/api/v1/tickets").json()
    assert {t["subject"] for t in body["results"]} == {"Checkout fails", "Old"}
    body = api.get("/api/v1/tickets", {"hide_closed": "true"}).json()
    assert [t["id"] for t in body["results"]] == [open_ticket.pk]
    body = api.get("/api/v1/tickets", {"q": "checkout"}).json()
    assert [t["id"] for t in body["results"]] == [open_ticket.pk]
    body = api.get("/api/v1/tickets", {"status": "active"}).json()
    assert [t["id"] for t in body["results"]] == [open_ticket.pk]
    assert_problem(api.get("/api/v1/tickets", {"status": "bogus"}), 400, "invalid_request")
    assert_problem(api.get("/api/v1/tickets", {"q": "x" * 201}), 400, "invalid_request")


def test_ticket_detail_hides_internal_notes(api, account):
    ticket = TicketFactory(account=account)
    staff_message = Message.objects.create(
        ticket=ticket,
        author=StaffUserFactory(),
        body="secret note",
        is_internal=True,
        is_from_staff=True,
        created_at=timezone.now(),
    )
    body = api.get(f"/api/v1/tickets/{ticket.pk}").json()
    assert body["id"] == ticket.pk
    assert staff_message.pk not in {m["id"] for m in body["messages"]}
    assert body["actions"]["cancel"] in (True, False)
    assert set(body["actions"]) >= {"reply", "cancel", "accept_quote", "rate"}


def test_another_accounts_ticket_is_404(api):
    other = TicketFactory(account=AccountFactory())
    assert_problem(api.get(f"/api/v1/tickets/{other.pk}"), 404, "not_found")
    assert_problem(api.get("/api/v1/tickets/99999999"), 404, "not_found")


def test_an_id_out_of_range_is_404_not_500(api):
    assert api.get(f"/api/v1/tickets/{2**70}").status_code == 404


def test_reads_make_a_bounded_number_of_queries(api, account, django_assert_max_num_queries):
    for _ in range(30):
        TicketFactory(account=account)
        grant(account, 3)
    for url in ("/api/v1/tickets", "/api/v1/statement", "/api/v1/lots", "/api/v1/me"):
        with django_assert_max_num_queries(8):
            assert api.get(url).status_code == 200


def test_a_token_request_opens_no_session(api, account):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert not UserSession.objects.exists()
    assert not Session.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/tickets/abc", "/api/v2/me", "/api/"])
def test_unknown_api_paths_are_404_problems(api, path):
    assert_problem(api.get(path), 404, "not_found")
    assert_problem(api.post(path, {}, format="json"), 404, "not_found")
