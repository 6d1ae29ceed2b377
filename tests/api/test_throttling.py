"""Requests are throttled per token, per key and per anonymous client: 429 with Retry-After."""

import pytest
from rest_framework.test import APIClient

from api.services import api_token_create

from .conftest import integration_client
from .support import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"credential": "3/min", "anonymous": "2/min"},
    }


def test_a_token_over_its_rate_gets_429_with_retry_after(low_rates, api, owner):
    for _ in range(3):
        assert api.get("/api/v1/me").status_code == 200
    response = api.get("/api/v1/me")
    assert_problem(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    # Another token of the same user has its own allowance.
    _token, secret = api_token_create(user=owner, name="second")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert other.get("/api/v1/me").status_code == 200


def test_keys_are_throttled_apart_from_tokens(low_rates, api, staff, account):
    for _ in range(4):
        api.get("/api/v1/me")
    shop = integration_client(staff, can_read_accounts=True)
    assert shop.get(f"/api/v1/integration/accounts/{account.pk}").status_code == 200


# Anonymous requests reach only the schema: the endpoints refuse them (401) before counting, and
# a token's 256 random bits are not worth guessing.
SCHEMA = "/api/schema/"


def test_anonymous_clients_are_throttled_by_address(low_rates, anonymous):
    for _ in range(2):
        assert anonymous.get(SCHEMA).status_code == 200
    assert_problem(anonymous.get(SCHEMA), 429, "throttled")
    elsewhere = APIClient(REMOTE_ADDR="192.0.2.7")
    assert elsewhere.get(SCHEMA).status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_limit(low_rates, anonymous):
    for number in range(3):
        response = anonymous.get(SCHEMA, HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
    assert_problem(response, 429, "throttled")
