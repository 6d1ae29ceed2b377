"""The "API tokens" page: create (secret shown once), list, revoke; and the API reference page
working in a real browser under the site's strict Content-Security-Policy."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from api.models import ApiToken
from api.services import TOKENS_PER_USER, api_token_create
from tests.factories import PASSWORD, AccountFactory, UserFactory, account_owner

pytestmark = pytest.mark.django_db

PAGE = "/accounts/api-tokens/"


def test_the_page_needs_a_customer_login(client):
    assert client.get(PAGE).status_code == 302


def test_creating_shows_the_secret_once_and_it_works(client, owner):
    client.force_login(owner)
    response = client.post(PAGE, {"name": "Monitoring"})
    html = response.content.decode()
    secret = re.search(r'id="new-token-secret">(hdp_[^<]+)<', html).group(1)
    token = ApiToken.objects.get(user=owner)
    assert token.name == "Monitoring"
    assert response["Cache-Control"].count("no-store") == 1
    # Shown once: the list afterwards shows only its start.
    listing = client.get(PAGE).content.decode()
    assert secret not in listing
    assert token.prefix in listing
    api = client_with(secret)
    assert api.get("/api/v1/me").status_code == 200


def client_with(secret):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\x00name"])
def test_a_bad_name_is_refused_at_the_field(client, owner, name):
    client.force_login(owner)
    response = client.post(PAGE, {"name": name})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert "field-invalid" in response.content.decode()


def test_a_user_holds_a_bounded_number_of_tokens(client, owner):
    for number in range(TOKENS_PER_USER):
        api_token_create(user=owner, name=f"t{number}")
    client.force_login(owner)
    response = client.post(PAGE, {"name": "one too many"})
    assert "revoke one first" in response.content.decode()
    assert ApiToken.objects.filter(user=owner).count() == TOKENS_PER_USER


def test_revoking_stops_the_token(client, owner):
    token, secret = api_token_create(user=owner, name="old")
    client.force_login(owner)
    client.post(reverse("api_token_revoke", args=[token.pk]))
    assert client_with(secret).get("/api/v1/me").status_code == 401
    assert "old" not in client.get(PAGE).content.decode().split("Your tokens")[1]


def test_another_users_token_cannot_be_revoked(client, owner):
    other = account_owner(AccountFactory())
    token, secret = api_token_create(user=other, name="theirs")
    client.force_login(owner)
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    assert client.post(reverse("api_token_revoke", args=[2**70])).status_code == 404
    assert client_with(secret).get("/api/v1/me").status_code == 200


def test_the_page_makes_a_bounded_number_of_queries(client, owner, django_assert_max_num_queries):
    for number in range(15):
        api_token_create(user=owner, name=f"t{number}")
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        assert client.get(PAGE).status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_customer_makes_a_token_and_reads_the_reference_in_a_browser(page, screenshot):
    user = UserFactory(password=PASSWORD)
    AccountFactory(owner=user)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(PAGE)
    page.get_by_label("Name").fill("My script")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token-secret")).to_have_text(re.compile(r"^hdp_"))
    expect(page.get_by_role("cell", name="My script", exact=True)).to_be_visible()
    screenshot("api-tokens")

    page.get_by_role("link", name="API reference").click()
    # Swagger UI renders the operations from the schema: its scripts ran under the CSP.
    expect(page.get_by_text("/api/v1/tickets").first).to_be_visible()
    screenshot("api-reference")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_the_account_users_page_links_to_the_tokens(client, owner):
    client.force_login(owner)
    assert f'href="{PAGE}"' in client.get("/accounts/users/").content.decode()
