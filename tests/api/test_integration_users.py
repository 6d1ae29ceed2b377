"""The vendor's systems add and remove an account's users: the key acts as the staff member who
created it, and the service lets staff with the admin's Membership permissions act as the owner
would. Each change is in the audit trail."""

import threading

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Membership, MembershipRole
from api.services import integration_key_create
from audit.models import AuditEvent, AuditKind
from notifications.models import Notification
from tests.factories import AccountFactory, StaffUserFactory, UserFactory, account_owner
from tests.web import db_state

from .conftest import integration_client
from .support import assert_problem

pytestmark = pytest.mark.django_db


def allowed_staff(*codenames: str):
    staff = StaffUserFactory()
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
    )
    return staff


@pytest.fixture
def shop():
    staff = allowed_staff("add_membership", "delete_membership")
    return integration_client(staff, can_manage_accounts=True)


def users_url(account, user_pk=None) -> str:
    url = f"/api/v1/integration/accounts/{account.pk}/users"
    return url if user_pk is None else f"{url}/{user_pk}"


def test_a_user_is_invited_by_e_mail_and_recorded(shop, django_capture_on_commit_callbacks):
    account = AccountFactory()
    body = {"email": "New.Person@Example.com", "first_name": "New", "last_name": "Person"}
    with django_capture_on_commit_callbacks(execute=True):
        response = shop.post(users_url(account), body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["role"] == MembershipRole.MEMBER
    assert created["invitation_pending"] is True
    membership = Membership.objects.get(account=account, user_id=created["id"])
    assert membership.user.first_name == "New"
    assert Notification.objects.filter(event="account_invitation").count() == 1
    assert [message.to for message in mail.outbox] == [[membership.user.email]]
    event = AuditEvent.objects.get(kind=AuditKind.ACCOUNT_CHANGED)
    assert event.account_id == account.pk
    assert event.changes == {"users_invited": {str(created["id"]): "member"}}
    assert event.actor_id is not None


def test_re_inviting_an_unanswered_invitation_sends_it_again(shop):
    account = AccountFactory()
    first = shop.post(users_url(account), {"email": "again@example.com"}, format="json")
    second = shop.post(users_url(account), {"email": "again@example.com"}, format="json")
    assert second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert Membership.objects.filter(account=account).count() == 2
    assert Notification.objects.filter(event="account_invitation").count() == 2


def test_an_address_that_answered_or_belongs_elsewhere_is_refused(shop):
    account = AccountFactory()
    owner = account_owner(account)
    assert_problem(shop.post(users_url(account), {"email": owner.email}), 409, "already_a_user")
    elsewhere = account_owner(AccountFactory())
    response = shop.post(users_url(account), {"email": elsewhere.email}, format="json")
    body = assert_problem(response, 409, "address_not_invitable")
    assert str(account.pk) not in body["detail"]
    staff = StaffUserFactory()
    assert_problem(
        shop.post(users_url(account), {"email": staff.email}), 409, "address_not_invitable"
    )


def test_a_replayed_invitation_runs_once(shop):
    account = AccountFactory()
    headers = {"HTTP_IDEMPOTENCY_KEY": "invite-1"}
    first = shop.post(users_url(account), {"email": "r@example.com"}, format="json", **headers)
    again = shop.post(users_url(account), {"email": "r@example.com"}, format="json", **headers)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Notification.objects.filter(event="account_invitation").count() == 1
    other = shop.post(users_url(account), {"email": "s@example.com"}, format="json", **headers)
    assert other.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": ""},
        {"email": "not-an-address"},
        {"email": "a" * 250 + "@example.com"},
        {"email": "x" * 100_000},
        {"email": ["a@example.com"]},
        {"email": {"deep": {"deeper": ["a@example.com"]}}},
        {"email": "a@example.com", "first_name": "bad\x00"},
        {"email": "a@example.com", "last_name": "x" * 151},
    ],
)
def test_malformed_invitations_are_400(shop, body):
    account = AccountFactory()
    before = db_state()
    assert_problem(shop.post(users_url(account), body, format="json"), 400, "invalid_request")
    assert db_state() == before


def test_unknown_account_is_404(shop):
    assert_problem(
        shop.post("/api/v1/integration/accounts/999999/users", {"email": "a@b.co"}),
        404,
        "not_found",
    )
    assert_problem(shop.delete("/api/v1/integration/accounts/999999/users/1"), 404, "not_found")


def test_a_user_is_removed_and_recorded(shop):
    account = AccountFactory()
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    response = shop.delete(users_url(account, member.pk))
    assert response.status_code == 204
    assert not Membership.objects.filter(user_id=member.pk).exists()
    event = AuditEvent.objects.get(kind=AuditKind.ACCOUNT_CHANGED)
    assert event.changes == {"users_removed": [str(member.pk)]}
    assert_problem(shop.delete(users_url(account, member.pk)), 404, "not_found")


def test_the_owner_is_not_removable_and_other_accounts_users_are_404(shop):
    account = AccountFactory()
    owner = account_owner(account)
    assert_problem(shop.delete(users_url(account, owner.pk)), 409, "owner_not_removable")
    other = AccountFactory()
    other_member = UserFactory()
    Membership.objects.create(account=other, user=other_member, role=MembershipRole.MEMBER)
    before = db_state()
    assert_problem(shop.delete(users_url(account, other_member.pk)), 404, "not_found")
    assert_problem(shop.delete(users_url(account, account_owner(other).pk)), 404, "not_found")
    assert db_state() == before


def test_without_the_keys_permission_it_is_403():
    staff = allowed_staff("add_membership", "delete_membership")
    client = integration_client(staff, can_read_accounts=True, can_grant_points=True)
    account = AccountFactory()
    before = db_state()
    assert_problem(
        client.post(users_url(account), {"email": "a@example.com"}), 403, "permission_denied"
    )
    assert_problem(
        client.delete(users_url(account, account_owner(account).pk)), 403, "permission_denied"
    )
    assert db_state() == before


@pytest.mark.parametrize(
    "codenames",
    [(), ("add_membership",), ("delete_membership",)],
)
def test_a_key_of_staff_without_the_django_permission_is_403(codenames):
    """The service decides: the key's creator needs accounts.add_membership to invite and
    accounts.delete_membership to remove."""
    client = integration_client(allowed_staff(*codenames), can_manage_accounts=True)
    account = AccountFactory()
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    before = db_state()
    invite = client.post(users_url(account), {"email": "a@example.com"}, format="json")
    remove = client.delete(users_url(account, member.pk))
    if "add_membership" not in codenames:
        assert "accounts.add_membership" in assert_problem(invite, 403, "not_owner")["detail"]
    else:
        assert invite.status_code == 201
    if "delete_membership" not in codenames:
        assert_problem(remove, 403, "not_owner")
        assert Membership.objects.filter(user=member).exists()
    else:
        assert remove.status_code == 204
    if not codenames:
        assert db_state() == before


def test_a_key_of_a_deactivated_staff_member_cannot_manage_users():
    staff = allowed_staff("add_membership", "delete_membership")
    _key, secret = integration_key_create(name="shop", created_by=staff, can_manage_accounts=True)
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post(users_url(AccountFactory()), {"email": "a@example.com"}, format="json")
    assert response.status_code in (401, 403)
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_one_address_make_one_user():
    """Eight requests invite one address at once, without an Idempotency-Key: one user, one
    membership; each request is answered 201 (a resend) or refused, never a 5xx."""
    staff = allowed_staff("add_membership", "delete_membership")
    _key, secret = integration_key_create(name="shop", created_by=staff, can_manage_accounts=True)
    account = AccountFactory()
    barrier = threading.Barrier(8)
    answers = [None] * 8

    def send(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        try:
            connection.ensure_connection()
            barrier.wait(10)
            response = client.post(users_url(account), {"email": "same@example.com"}, format="json")
            answers[index] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Membership.objects.filter(account=account, role=MembershipRole.MEMBER).count() == 1
    statuses = {status for status, _body in answers}
    assert statuses <= {201, 409}
    assert 201 in statuses
    ids = {body["id"] for status, body in answers if status == 201}
    assert len(ids) == 1


@pytest.mark.parametrize("user_pk", ["0", "99999999999999999999", "9" * 500])
def test_huge_or_zero_ids_are_404(shop, user_pk):
    account = AccountFactory()
    assert_problem(shop.delete(f"{users_url(account)}/{user_pk}"), 404, "not_found")
    huge_account = f"/api/v1/integration/accounts/{user_pk}/users"
    assert_problem(shop.post(huge_account, {"email": "a@example.com"}), 404, "not_found")
