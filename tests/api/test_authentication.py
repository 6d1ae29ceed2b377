"""Who may call the API: personal tokens, integration keys, the session with CSRF."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, MembershipRole
from accounts.services import account_remove_user
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke
from tests.factories import AccountFactory, TicketFactory, UserFactory

from .conftest import integration_client
from .support import assert_problem

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def test_a_personal_token_acts_as_its_user_for_their_account(api, account, owner):
    response = api.get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == owner.email
    assert body["account"] == {"id": account.pk, "name": account.name}
    assert body["role"] == "owner"
    assert body["balance"] == {
        "available": 0,
        "captured": 0,
        "next_expiry_points": 0,
        "next_expiry_at": None,
    }


def test_the_secret_is_stored_only_hashed_and_last_use_is_recorded(api, owner, token_secret):
    token = ApiToken.objects.get(user=owner)
    assert token_secret not in token.secret_hash
    assert token_secret.startswith(token.prefix)
    assert token.last_used_at is None
    api.get(ME)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_no_credentials_is_401_with_the_scheme_to_use(anonymous):
    response = anonymous.get(ME)
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer hdp_wrong",
        "Bearer hdk_wrong",
        "Bearer something-else",
        "Bearer ",
        "Bearer " + "hdp_" + "a" * 5000,
        "Bearer hdp_\x00nul",
        "Bearer hdp_ünïcode",
    ],
)
def test_a_wrong_huge_or_malformed_token_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_problem(client.get(ME), 401, "authentication_failed")


def test_a_revoked_token_is_refused(api, owner):
    api_token_revoke(token=ApiToken.objects.get(user=owner))
    assert_problem(api.get(ME), 401, "authentication_failed")


def test_an_inactive_users_token_is_refused(api, owner):
    owner.is_active = False
    owner.save()
    assert_problem(api.get(ME), 401, "authentication_failed")


def member_client(account):
    """A client with the personal token of a new (secondary) user of `account`; and the user."""
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    _token, secret = api_token_create(user=member, name="member's script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client, member


def test_a_removed_users_token_is_refused_at_once(account, owner):
    client, member = member_client(account)
    # Filed a ticket: the user can't be deleted, so removal deactivates them (the token stays).
    TicketFactory(account=account, filed_by=member)
    assert client.get(ME).json()["account"]["id"] == account.pk
    account_remove_user(account=account, user=member, removed_by=owner)
    assert_problem(client.get(ME), 401, "authentication_failed")
    assert_problem(client.get("/api/v1/tickets"), 401, "authentication_failed")


def test_a_token_whose_user_lost_their_membership_is_403_at_once(account):
    client, member = member_client(account)
    assert client.get("/api/v1/tickets").status_code == 200
    Membership.objects.filter(user=member).delete()
    assert_problem(client.get("/api/v1/tickets"), 403, "permission_denied")
    assert_problem(client.get("/api/v1/statement"), 403, "permission_denied")


def test_a_token_request_reads_its_user_membership_and_account_in_one_query(
    api, django_assert_num_queries
):
    api.get(ME)  # records the last use, written at most once a minute
    # The credential with its user, membership and account; then the page of tickets.
    with django_assert_num_queries(2):
        assert api.get("/api/v1/tickets").status_code == 200


def test_a_user_without_an_account_is_403(db):
    _token, secret = api_token_create(user=UserFactory(), name="orphan")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert_problem(client.get(ME), 403, "permission_denied")


def test_an_integration_key_cannot_use_the_customer_endpoints(staff):
    client = integration_client(staff, can_read_accounts=True, can_grant_points=True)
    assert_problem(client.get(ME), 403, "permission_denied")


def test_the_session_works_and_unsafe_methods_need_csrf(account, owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(ME).json()["account"]["id"] == account.pk
    # A POST without the CSRF token is refused before anything runs.
    response = client.post("/api/v1/tickets", {}, format="json")
    assert_problem(response, 403, "permission_denied")


def test_last_use_is_written_at_most_once_a_minute(api, owner):
    api.get(ME)
    token = ApiToken.objects.get(user=owner)
    first = token.last_used_at
    api.get(ME)
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    api.get(ME)
    token.refresh_from_db()
    assert token.last_used_at > first


def test_another_accounts_token_sees_only_its_own_account(api, account):
    other = AccountFactory()
    _token, secret = api_token_create(user=other.memberships.get().user, name="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(ME).json()["account"]["id"] == other.pk
