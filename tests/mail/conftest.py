import pytest
from django.test import override_settings

from accounts.models import Membership, MembershipRole
from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.factories import UserFactory, account_owner

from .support import SUPPORT


@pytest.fixture(autouse=True)
def support_address():
    with override_settings(HELPDESK_MAIL_SUPPORT_ADDRESS=f"HelpDesk <{SUPPORT}>"):
        yield SUPPORT


@pytest.fixture
def account():
    account = funded_account(500, name="Jones Hardware Ltd")
    Membership.objects.create(
        account=account,
        user=UserFactory(email="webmaster@jones.example.com"),
        role=MembershipRole.MEMBER,
    )
    return account


@pytest.fixture
def owner(account):
    return account_owner(account)


@pytest.fixture
def ticket(account):
    return file_ticket(account)


@pytest.fixture
def staff():
    return support_staff_user(email="sam@helpdesk.example.com")
