"""E-mail ingest: 1,000 replies waiting in a real Dovecot mailbox, taken in by the IMAP poll.

    .venv/bin/python bench/mail_ingest.py [--messages 1000] [--tickets 100]

1. Creates hd_mail, migrates it, makes --tickets tickets (one account and owner each, a
   0-point category, so the ledger is not what is measured) and starts Dovecot (as the tests do,
   `tests/mail/dovecot.py`).
2. Appends --messages replies to the mailbox: the corpus's shapes in turn (Gmail, Outlook
   HTML-only in Windows-1251, Apple Mail with an inline image, Thunderbird ISO-8859-1
   bottom-posted, ISO-2022-JP, German, plain), each from a ticket's owner to that ticket's signed
   reply address with its own Message-ID; every 10th carries a small PDF attachment.
3. In a fresh subprocess that does nothing else, runs `mail.imap.mailbox_poll` until the
   mailbox is empty: wall time, messages/s and peak memory (ru_maxrss) of that process.
4. Verifies: every message taken in exactly once (one accepted `InboundEmail` and one thread
   message per Message-ID), the inbox empty, the processed folder holding them all.

Targets: all in under 60 s, under 200 MB. Exit status 0 when met, 1 otherwise. The database is
dropped at the end (--keep keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage

import common

DB = "hd_mail"
SUPPORT = "support@help.example"
TARGET_SECONDS = 60
TARGET_MEMORY_MB = 200
SHAPES = [
    "gmail_reply.eml",
    "outlook_html_only_cp1251.eml",
    "apple_mail_inline_image.eml",
    "thunderbird_bottom_posted_latin1.eml",
    "iso2022jp_reply.eml",
    "german_reply.eml",
    "plain_reply.eml",
]
PDF = b"%PDF-1.4\n% bench\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n" * 20


def mail_env(server, run_dir: str) -> dict[str, str]:
    return {
        **common.bench_env(DB),
        "HELPDESK_MAIL_SUPPORT_ADDRESS": SUPPORT,
        "HELPDESK_MAIL_IMAP_HOST": server.host,
        "HELPDESK_MAIL_IMAP_PORT": str(server.port),
        "HELPDESK_MAIL_IMAP_TLS": "none",
        "HELPDESK_MAIL_IMAP_USER": server.user,
        "HELPDESK_MAIL_IMAP_PASSWORD": server.password,
        # Notifications are queued as files (no Redis, no worker): what a request would do.
        "CELERY_BROKER_URL": "filesystem://",
        "HELPDESK_RUN_DIR": run_dir,
        "MEDIA_ROOT": os.path.join(run_dir, "media"),
    }


def make_tickets(count: int) -> list[tuple[int, int, str]]:
    """(ticket id, owner id, owner address) of `count` new tickets."""
    from catalog.models import IssueCategory
    from notifications.outbox import notifications_suppressed
    from tests.factories import AccountFactory, account_owner
    from tickets.services import ticket_file

    category = IssueCategory.objects.filter(name="General questions").get()
    made = []
    with notifications_suppressed():
        for _ in range(count):
            account = AccountFactory()
            owner = account_owner(account)
            ticket = ticket_file(
                account=account,
                filed_by=owner,
                category=category,
                subject="Bench ticket",
                description="A ticket the bench replies to.",
            )
            made.append((ticket.pk, owner.pk, owner.email))
    return made


def with_attachment(raw: bytes) -> bytes:
    from email import message_from_bytes, policy

    message = message_from_bytes(raw, policy=policy.default)
    text = message.get_body(("plain", "html")).get_content()
    reply = EmailMessage()
    for name in ("From", "To", "Message-ID", "Date", "Subject", "In-Reply-To", "References"):
        if message[name]:
            reply[name] = message[name]
    reply.set_content(text)
    reply.add_attachment(PDF, maintype="application", subtype="pdf", filename="report.pdf")
    return reply.as_bytes()


def fill_mailbox(server, tickets, count: int) -> list[str]:
    from notifications.envelope import reply_address
    from tests.mail.support import corpus

    client = server.client()
    message_ids = []
    for index in range(count):
        ticket_id, user_id, email = tickets[index % len(tickets)]
        message_id = f"<bench.{index}.{uuid.uuid4().hex}@client.example>"
        raw = corpus(
            SHAPES[index % len(SHAPES)],
            FROM=email,
            TO=reply_address(tag="t", subject_id=ticket_id, user_id=user_id),
            MESSAGE_ID=message_id,
            IN_REPLY_TO=f"<hd.t.{ticket_id}@help.example>",
        )
        if index % 10 == 9:
            raw = with_attachment(raw)
        status, _data = client.append("INBOX", None, None, raw.replace(b"\n", b"\r\n"))
        assert status == "OK", status
        message_ids.append(message_id.lower())
    client.logout()
    return message_ids


def poll_until_empty() -> None:
    """The measured part (run in its own process by `main`)."""
    common.django_setup(DB)
    from mail.imap import mailbox_poll

    started = time.perf_counter()
    handled = 0
    while True:
        result = mailbox_poll(limit=1000)
        handled += result.handled
        if result.handled == 0 and result.failed == 0:
            break
        if result.failed:
            raise SystemExit(f"{result.failed} messages failed")
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"handled": handled, "seconds": seconds, "peak_mb": peak_mb}))


def folder_sizes(server) -> dict[str, int]:
    client = server.client()
    sizes = {}
    for folder in ("INBOX", "processed", "rejected"):
        status, data = client.select(folder, readonly=True)
        sizes[folder] = int(data[0]) if status == "OK" else 0
    client.logout()
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    from tests.mail.dovecot import dovecot_server

    print("Machine:")
    common.print_machine_info()
    common.create_database(DB)
    run_dir = tempfile.mkdtemp(prefix="helpdesk-mail-bench-")
    try:
        with dovecot_server() as server:
            os.environ.update(mail_env(server, run_dir))
            common.django_setup(DB)
            common.migrate()
            tickets = make_tickets(args.tickets)
            started = time.perf_counter()
            message_ids = fill_mailbox(server, tickets, args.messages)
            print(
                f"Mailbox filled: {args.messages} messages in "
                f"{time.perf_counter() - started:.1f} s; {folder_sizes(server)}"
            )
            from django.db import connections

            connections.close_all()
            measured = subprocess.run(
                [sys.executable, __file__, "--poll"],
                env={**os.environ, **mail_env(server, run_dir)},
                capture_output=True,
                text=True,
                check=False,
            )
            if measured.returncode != 0:
                print(measured.stdout, measured.stderr)
                return 1
            figures = json.loads(measured.stdout.strip().splitlines()[-1])
            sizes = folder_sizes(server)
        from django.db.models import Count

        from mail.models import InboundEmail, InboundStatus
        from tickets.models import Message

        rows = InboundEmail.objects.filter(message_key__in=message_ids)
        accepted = rows.filter(status=InboundStatus.ACCEPTED).count()
        messages = Message.objects.filter(
            pk__in=rows.exclude(message=None).values("message")
        ).count()
        per_key = rows.values("message_key").annotate(n=Count("id")).filter(n__gt=1).count()
        exactly_once = (
            rows.count() == accepted == messages == args.messages
            and per_key == 0
            and sizes == {"INBOX": 0, "processed": args.messages, "rejected": 0}
        )
        rate = figures["handled"] / figures["seconds"]
        print(
            f"Ingested {figures['handled']} messages in {figures['seconds']:.1f} s "
            f"({rate:.1f} messages/s), peak memory {figures['peak_mb']:.0f} MB"
        )
        print(
            f"Accepted rows {accepted}, thread messages {messages}, folders {sizes}: "
            f"{'each exactly once' if exactly_once else 'NOT exactly once'}"
        )
        met = (
            exactly_once
            and figures["seconds"] < TARGET_SECONDS
            and figures["peak_mb"] < TARGET_MEMORY_MB
        )
        print(
            f"Target (< {TARGET_SECONDS} s, < {TARGET_MEMORY_MB} MB, exactly once): "
            f"{'MET' if met else 'MISSED'}"
        )
        return 0 if met else 1
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            common.drop_database(DB)


if __name__ == "__main__":
    if "--poll" in sys.argv:
        poll_until_empty()
    else:
        sys.exit(main())
