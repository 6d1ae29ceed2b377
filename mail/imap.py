"""Polling the support mailbox over IMAP (the HELPDESK_MAIL_IMAP_* settings).

Each message of the folder is fetched without marking it read, taken in (`inbound_ingest`, which
commits its outcome), and only then moved to the "processed" or "rejected" folder. A crash
between the two leaves the message in the folder: the next poll takes it in again, finds its row
and moves it, so nothing is lost and nothing is doubled. Moves are sent a chunk at a time.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

from django.conf import settings

from .models import InboundSource, InboundStatus
from .services import inbound_ingest

logger = logging.getLogger(__name__)

# Messages moved per MOVE command.
MOVE_CHUNK = 50
TIMEOUT_SECONDS = 60
UID_AND_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class MailboxError(Exception):
    pass


@dataclass
class PollResult:
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    failed: int = 0
    moved: dict[str, list[bytes]] = field(default_factory=dict)

    @property
    def handled(self) -> int:
        return self.accepted + self.rejected + self.duplicates


def _connect() -> imaplib.IMAP4:
    host, port = settings.HELPDESK_MAIL_IMAP_HOST, settings.HELPDESK_MAIL_IMAP_PORT
    tls = settings.HELPDESK_MAIL_IMAP_TLS
    context = ssl.create_default_context()
    if tls == "ssl":
        client = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT_SECONDS)
    else:
        client = imaplib.IMAP4(host, port, timeout=TIMEOUT_SECONDS)
        if tls == "starttls":
            client.starttls(ssl_context=context)
        elif tls != "none":
            raise MailboxError(f"HELPDESK_MAIL_IMAP_TLS must be ssl, starttls or none, not {tls!r}")
    client.login(settings.HELPDESK_MAIL_IMAP_USER, settings.HELPDESK_MAIL_IMAP_PASSWORD)
    return client


def _check(response: tuple[str, list], what: str) -> list:
    status, data = response
    if status != "OK":
        raise MailboxError(f"{what} failed: {data!r}"[:500])
    return data


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _move(client: imaplib.IMAP4, uids: list[bytes], folder: str) -> None:
    for start in range(0, len(uids), MOVE_CHUNK):
        uid_set = b",".join(uids[start : start + MOVE_CHUNK]).decode()
        if "MOVE" in client.capabilities:
            _check(client.uid("MOVE", uid_set, _quoted(folder)), "MOVE")
        else:
            _check(client.uid("COPY", uid_set, _quoted(folder)), "COPY")
            _check(client.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
            _check(client.expunge(), "EXPUNGE")


def _sizes(client: imaplib.IMAP4, uids: list[bytes]) -> dict[bytes, int]:
    """The size of each message, in one command."""
    sizes = {}
    if not uids:
        return sizes
    for item in _check(client.uid("FETCH", b",".join(uids).decode(), "(RFC822.SIZE)"), "FETCH"):
        match = UID_AND_SIZE.search(item if isinstance(item, bytes) else b"")
        if match:
            uid, size = (match[1], match[2]) if match[1] else (match[4], match[3])
            sizes[uid] = int(size)
    return sizes


def _fetch(client: imaplib.IMAP4, uid: bytes, size: int) -> tuple[bytes, int]:
    """The message's bytes (only its header when it is over the size limit) and its size."""
    part = "BODY.PEEK[HEADER]" if size > settings.HELPDESK_MAIL_MAX_BYTES else "BODY.PEEK[]"
    data = _check(client.uid("FETCH", uid, f"({part})"), "FETCH")
    raw = next((item[1] for item in data if isinstance(item, tuple)), b"")
    return raw, max(size, len(raw))


def mailbox_poll(*, limit: int | None = None) -> PollResult:
    """Take in the messages waiting in the mailbox (at most `limit`, default
    HELPDESK_MAIL_IMAP_BATCH) and move each to its folder."""
    limit = limit or settings.HELPDESK_MAIL_IMAP_BATCH
    folders = {
        InboundStatus.ACCEPTED: settings.HELPDESK_MAIL_IMAP_PROCESSED_FOLDER,
        InboundStatus.REJECTED: settings.HELPDESK_MAIL_IMAP_REJECTED_FOLDER,
    }
    result = PollResult(moved={folder: [] for folder in folders.values()})
    client = _connect()
    try:
        for folder in folders.values():
            client.create(_quoted(folder))  # "already exists" is fine
        _check(client.select(_quoted(settings.HELPDESK_MAIL_IMAP_FOLDER)), "SELECT")
        uids = _check(client.uid("SEARCH", None, "UNDELETED"), "SEARCH")[0].split()[:limit]
        sizes = _sizes(client, uids)
        for uid in uids:
            raw, size = _fetch(client, uid, sizes.get(uid, 0))
            try:
                ingested = inbound_ingest(raw=raw, source=InboundSource.IMAP, size=size)
            except Exception:
                # Left in the folder for the next poll (and an operator, if it keeps failing).
                logger.exception("Could not take in IMAP message %s", uid)
                result.failed += 1
                continue
            status = ingested.inbound.status
            if not ingested.created:
                result.duplicates += 1
            elif status == InboundStatus.ACCEPTED:
                result.accepted += 1
            else:
                result.rejected += 1
            result.moved[folders[status]].append(uid)
        for folder, moved in result.moved.items():
            _move(client, moved, folder)
        client.close()
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return result
