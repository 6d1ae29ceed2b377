import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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


DOVECOT = Path("/usr/sbin/dovecot")
DOVECOT_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=30)
        client.login(self.user, self.password)
        return client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def dovecot():
    """A real Dovecot IMAP server (Debian's dovecot-imapd, installed by `make test`), run as an
    unprivileged user with a temporary mail store and one passwd-file user."""
    if not DOVECOT.exists():
        pytest.fail("Dovecot is needed for the IMAP tests: run `make test` (it installs it).")
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    as_root = os.geteuid() == 0
    # Dovecot refuses to run its login processes as root: as root, it runs as nobody.
    user = "nobody" if as_root else pwd.getpwuid(os.getuid()).pw_name
    group = "nogroup" if as_root else grp.getgrgid(os.getgid()).gr_name
    port = _free_port()
    server = ImapServer("127.0.0.1", port, "helpdesk", "imap-test-password")
    (root / "passwd").write_text(f"{server.user}:{{PLAIN}}{server.password}::::::\n")
    (root / "dovecot.conf").write_text(
        DOVECOT_CONFIG.format(root=root, user=user, group=group, port=port)
    )
    command = [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")]
    if as_root:
        shutil.chown(root, user, group)
        for path in root.rglob("*"):
            shutil.chown(path, user, group)
        command = ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline or process.poll() is not None:
                    log = root / "dovecot.log"
                    pytest.fail(f"Dovecot did not start: {log.read_text() if log.exists() else ''}")
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


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
