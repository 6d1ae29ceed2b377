"""The account services' refusals carry stable codes (what the API will answer with) and change
nothing; the selectors read the account of a user and its users."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Membership, MembershipRole
from accounts.selectors import account_for_user, account_members
from accounts.services import (
    AccountError,
    SignupLinkInvalid,
    account_invite_user,
    account_remove_user,
    account_sign_up,
    signup_link_email,
)
from core.errors import HelpDeskError
from tests.factories import PASSWORD, StaffUserFactory, UserFactory
from tests.web import customer, db_state

pytestmark = pytest.mark.django_db


def refusal(call, **kwargs) -> str:
    before = db_state()
    with pytest.raises(AccountError) as refused:
        call(**kwargs)
    assert db_state() == before
    assert isinstance(refused.value, HelpDeskError)
    return refused.value.code


def test_the_main_refusals_have_their_codes():
    account, owner = customer(0, email="owner@example.com")
    other_account, _other_owner = customer(0, email="other@example.com")
    member = UserFactory(email="member@example.com")
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)

    assert (
        refusal(account_sign_up, email="OWNER@example.com", password=PASSWORD, account_name="Again")
        == "address_taken"
    )
    assert (
        refusal(account_invite_user, account=account, email="x@example.com", invited_by=member)
        == "not_owner"
    )
    assert (
        refusal(account_invite_user, account=account, email="other@example.com", invited_by=owner)
        == "address_not_invitable"
    )
    assert (
        refusal(account_invite_user, account=account, email="member@example.com", invited_by=owner)
        == "already_a_user"
    )
    assert (
        refusal(account_invite_user, account=account, email=" ", invited_by=owner)
        == "email_required"
    )
    assert (
        refusal(account_remove_user, account=account, user=owner, removed_by=owner)
        == "owner_not_removable"
    )
    assert (
        refusal(
            account_remove_user,
            account=other_account,
            user=member,
            removed_by=other_account.memberships.get().user,
        )
        == "not_a_user"
    )


@pytest.mark.parametrize("token", ["", "x" * 601, "forged:token:value"])
def test_a_bad_signup_link_is_refused_with_its_code(token):
    with pytest.raises(SignupLinkInvalid) as refused:
        signup_link_email(token)
    assert refused.value.code == "signup_link_invalid"


def test_a_users_account_and_the_accounts_users():
    account, owner = customer(0)
    joined = [UserFactory(), UserFactory()]
    for user in joined:
        Membership.objects.create(account=account, user=user, role=MembershipRole.MEMBER)

    assert account_for_user(owner) == account
    assert account_for_user(joined[1]) == account
    assert account_for_user(StaffUserFactory()) is None
    assert [m.user for m in account_members(account=account)] == [owner, *joined]


def test_a_users_account_is_read_without_a_query_when_loaded_with_the_user(
    django_assert_num_queries,
):
    account, owner = customer(0)
    staff = StaffUserFactory()
    users = get_user_model().objects.select_related("membership__account")
    loaded_owner, loaded_staff = users.get(pk=owner.pk), users.get(pk=staff.pk)
    with django_assert_num_queries(0):
        assert account_for_user(loaded_owner) == account
        assert account_for_user(loaded_staff) is None
