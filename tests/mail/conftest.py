import pytest
from django.test import override_settings

from accounts.models import Membership, MembershipRole
from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.factories import UserFactory, account_owner

from .dovecot import DOVECOT, dovecot_server
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


@pytest.fixture(scope="session")
def dovecot():
    """A real Dovecot IMAP server (Debian's dovecot-imapd, installed by `make test`)."""
    if not DOVECOT.exists():
        pytest.fail("Dovecot is needed for the IMAP tests: run `make test` (it installs it).")
    with dovecot_server() as server:
        yield server


@pytest.fixture
def imap(dovecot, settings):
    """The Dovecot mailbox, emptied, and the HelpDesk configured to poll it."""
    client = dovecot.client()
    for line in client.list()[1]:
        folder = line.decode().rsplit(' "/" ', 1)[1].strip('"')
        status, data = client.select(f'"{folder}"')
        if status == "OK" and int(data[0]):
            client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            client.expunge()
    client.logout()
    settings.HELPDESK_MAIL_IMAP_HOST = dovecot.host
    settings.HELPDESK_MAIL_IMAP_PORT = dovecot.port
    settings.HELPDESK_MAIL_IMAP_TLS = "none"
    settings.HELPDESK_MAIL_IMAP_USER = dovecot.user
    settings.HELPDESK_MAIL_IMAP_PASSWORD = dovecot.password
    settings.HELPDESK_MAIL_IMAP_FOLDER = "INBOX"
    return dovecot
