"""A real Dovecot IMAP server for the tests and the benchmark: Debian's dovecot-imapd, started as
an unprivileged process (as `nobody` when run as root: Dovecot refuses to run its login processes
as root) with a temporary mail store, one passwd-file user and a free port on 127.0.0.1."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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


@contextmanager
def dovecot_server() -> Iterator[ImapServer]:
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    as_root = os.geteuid() == 0
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
            except (OSError, imaplib.IMAP4.error) as error:
                if time.monotonic() > deadline or process.poll() is not None:
                    log = root / "dovecot.log"
                    raise RuntimeError(
                        f"Dovecot did not start: {log.read_text() if log.exists() else ''}"
                    ) from error
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)
