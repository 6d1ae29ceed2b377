import pytest
from rest_framework.test import APIClient

from api.services import api_token_create, integration_key_create
from tests.factories import AccountFactory, StaffUserFactory, account_owner


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def owner(account):
    return account_owner(account)


@pytest.fixture
def token_secret(owner):
    _token, secret = api_token_create(user=owner, name="script")
    return secret


@pytest.fixture
def api(token_secret):
    """A client sending the account owner's personal token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_secret}")
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def staff(db):
    return StaffUserFactory()


def integration_client(staff, **permissions) -> APIClient:
    _key, secret = integration_key_create(name="shop", created_by=staff, **permissions)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client
