"""The beat job polls a real Dovecot mailbox: each message is taken in once and moved to the
"processed" or "rejected" folder; a poll that dies half-way loses and doubles nothing."""

import imaplib
from unittest import mock

import pytest

from mail import imap as imap_source
from mail.imap import mailbox_poll
from mail.models import InboundEmail, InboundSource, InboundStatus
from mail.tasks import poll_mail
from tickets.models import Message

from .support import corpus, ticket_address

pytestmark = pytest.mark.django_db


def deliver(server, *messages: bytes) -> None:
    client = server.client()
    for raw in messages:
        status, _data = client.append("INBOX", None, None, raw.replace(b"\n", b"\r\n"))
        assert status == "OK"
    client.logout()


def folder_sizes(server) -> dict[str, int]:
    client = server.client()
    sizes = {}
    for folder in ("INBOX", "processed", "rejected"):
        status, data = client.select(folder, readonly=True)
        sizes[folder] = int(data[0]) if status == "OK" else 0
    client.logout()
    return sizes


def test_the_poll_takes_in_each_message_and_files_it_by_its_outcome(imap, ticket, owner):
    reply = corpus("gmail_reply.eml", FROM=owner.email, TO=ticket_address(ticket, owner))
    unknown = corpus("plain_reply.eml", FROM="someone@new.example")
    bounce_of_nothing = corpus("auto_reply_out_of_office.eml", FROM="a@b.example")
    deliver(imap, reply, unknown, bounce_of_nothing)

    result = poll_mail.delay().get()

    assert result == {"imap": 3}
    assert folder_sizes(imap) == {"INBOX": 0, "processed": 1, "rejected": 2}
    rows = {row.outcome: row for row in InboundEmail.objects.all()}
    assert set(rows) == {"reply", "unknown_sender", "automated"}
    assert all(row.source == InboundSource.IMAP for row in rows.values())
    message = rows["reply"].message
    assert message.body == "Thanks – clearing the cache fixed the checkout page. Grüße!"


def test_a_poll_that_dies_half_way_loses_and_doubles_nothing(imap, ticket, owner):
    replies = [
        corpus("plain_reply.eml", FROM=owner.email, TO=ticket_address(ticket, owner))
        for _ in range(4)
    ]
    deliver(imap, *replies)
    real_ingest = imap_source.inbound_ingest
    calls = []

    def crash_on_the_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise ConnectionResetError("the worker was killed")
        return real_ingest(**kwargs)

    with mock.patch.object(imap_source, "inbound_ingest", crash_on_the_third):
        first = mailbox_poll()
    assert (first.accepted, first.failed) == (3, 1)
    assert folder_sizes(imap)["INBOX"] == 1, "the failed one waits for the next poll"

    second = mailbox_poll()
    assert (second.accepted, second.duplicates) == (1, 0)
    assert folder_sizes(imap) == {"INBOX": 0, "processed": 4, "rejected": 0}
    assert Message.objects.filter(ticket=ticket, body="This is my answer.").count() == 4


def test_a_message_fetched_again_after_a_crash_before_its_move_is_not_doubled(imap, ticket, owner):
    deliver(imap, corpus("plain_reply.eml", FROM=owner.email, TO=ticket_address(ticket, owner)))
    with mock.patch.object(imap_source, "_move", side_effect=OSError("connection lost")):
        with pytest.raises(OSError):
            mailbox_poll()
    assert folder_sizes(imap)["INBOX"] == 1

    result = mailbox_poll()

    assert (result.accepted, result.duplicates) == (0, 1)
    assert folder_sizes(imap) == {"INBOX": 0, "processed": 1, "rejected": 0}
    assert Message.objects.filter(ticket=ticket, body="This is my answer.").count() == 1


def test_an_oversized_message_is_rejected_from_its_header_alone(imap, settings, owner):
    settings.HELPDESK_MAIL_MAX_BYTES = 2000
    deliver(imap, corpus("plain_reply.eml", FROM=owner.email) + b"x" * 10_000)

    mailbox_poll()

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "too_large")
    assert inbound.raw_size > 10_000
    assert inbound.sender == owner.email
    assert folder_sizes(imap)["rejected"] == 1


def test_a_wrong_password_fails_the_poll_and_moves_nothing(imap, settings, owner):
    deliver(imap, corpus("plain_reply.eml", FROM=owner.email))
    settings.HELPDESK_MAIL_IMAP_PASSWORD = "wrong"
    with pytest.raises(imaplib.IMAP4.error):
        mailbox_poll()
    assert folder_sizes(imap)["INBOX"] == 1
    assert not InboundEmail.objects.exists()
