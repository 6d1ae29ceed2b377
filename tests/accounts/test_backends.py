"""Signing in and the signed-in user: the password checked once, the user read with their account,
and sessions signed in before AccountUserBackend still valid."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import Client

from accounts.models import Membership
from helpdesk.models import User
from tests.factories import PASSWORD, UserFactory
from tests.html import parse, text
from tests.web import count_queries, customer

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def test_signing_in_records_the_account_user_backend(client):
    _account, user = customer()
    response = client.post(LOGIN, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.AccountUserBackend"


def test_a_wrong_password_is_refused_and_hashed_once(client, monkeypatch):
    _account, user = customer()
    checks = []
    check_password = User.check_password
    monkeypatch.setattr(
        User, "check_password", lambda self, raw: checks.append(raw) or check_password(self, raw)
    )
    response = client.post(LOGIN, {"username": user.email, "password": "not the password"})
    assert response.status_code == 200
    assert "Please enter a correct e-mail address and password" in text(parse(response.content))
    assert checks == ["not the password"]
    assert "_auth_user_id" not in client.session


def test_the_account_comes_with_the_user_in_one_query(client):
    _account, user = customer()
    client.force_login(user)
    with_backend = count_queries(client, "/tickets/")
    old = Client()
    old.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert old.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    # A session signed in before the backend existed still works, with one query more.
    assert old.get("/tickets/").status_code == 200
    assert count_queries(old, "/tickets/") == with_backend + 1


def test_a_user_removed_from_the_account_loses_it_on_the_next_request(client):
    account, user = customer()
    client.force_login(user)
    assert client.get("/tickets/").status_code == 200
    Membership.objects.filter(account=account, user=user).delete()
    response = client.get("/tickets/")
    assert response.status_code == 403


def test_a_deactivated_user_is_signed_out_on_the_next_request(client):
    user = UserFactory()
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/tickets/").status_code == 302
