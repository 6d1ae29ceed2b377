"""Security of the customer pages: CSRF on every form, and login rate limiting."""

import pytest
from django.test import Client

from points.models import PointPackage
from tests.factories import PASSWORD, UserFactory
from tests.html import find_all, parse
from tests.web import category, customer, db_state
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_every_form_of_the_customer_pages_carries_a_csrf_token(client):
    account, user = customer(100)
    PointPackage.objects.create(name="Starter", points=100, price=100)
    ticket = services.ticket_file(
        account=account,
        filed_by=user,
        category=category("Incident solving"),
        subject="Blank page",
        description="Nothing shows.",
        is_urgent=True,
    )
    client.force_login(user)
    pages = [
        "/tickets/new/",
        f"/tickets/{ticket.pk}/",
        f"/tickets/{ticket.pk}/cancel/",
        "/communication-center/support-points/buy/",
        "/accounts/users/",
    ]
    for url in pages:
        root = parse(client.get(url).content)
        forms = [f for f in find_all(root, "form") if dict(f.attributes).get("method") == "post"]
        assert forms, url
        for form in forms:
            tokens = find_all(form, "input", name="csrfmiddlewaretoken")
            assert len(tokens) == 1, (url, dict(form.attributes).get("action"))


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(csrf_client):
    account, user = customer(100)
    package = PointPackage.objects.create(name="Starter", points=100, price=100)
    ticket = services.ticket_file(
        account=account,
        filed_by=user,
        category=category("Incident solving"),
        subject="Blank page",
        description="Nothing shows.",
    )
    csrf_client.force_login(user)
    before = db_state()

    posts = {
        "/tickets/new/": {
            "category": category("Incident solving").pk,
            "subject": "x",
            "description": "y",
        },
        f"/tickets/{ticket.pk}/reply/": {"body": "Hello"},
        f"/tickets/{ticket.pk}/cancel/": {},
        "/communication-center/support-points/buy/": {"package": package.pk},
        "/accounts/users/": {"email": "someone@example.com"},
    }
    for url, data in posts.items():
        assert csrf_client.post(url, data).status_code == 403, url
    assert db_state() == before


def test_login_is_locked_after_five_failures_even_with_the_right_password(client):
    UserFactory(email="pat@example.com")

    for _ in range(5):
        client.post("/accounts/login/", {"username": "pat@example.com", "password": "guess"})
        assert "_auth_user_id" not in client.session
    locked = client.post("/accounts/login/", {"username": "pat@example.com", "password": PASSWORD})

    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_before_the_limit_works(client):
    UserFactory(email="pat@example.com")
    for _ in range(4):
        client.post("/accounts/login/", {"username": "pat@example.com", "password": "guess"})

    response = client.post(
        "/accounts/login/", {"username": "pat@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
