"""The signed inbound endpoint (a mail service's inbound routing posts raw MIME) and the embedded
run's drop folder: the same service behind both."""

import time

import pytest
from django.urls import reverse

from mail.drop import drop_folder_poll
from mail.models import InboundEmail, InboundSource, InboundStatus
from mail.signing import inbound_signature
from tickets.models import Message

from .support import corpus, ticket_address

pytestmark = pytest.mark.django_db

SECRET = "inbound-test-secret"
URL = "/mail/inbound"


@pytest.fixture(autouse=True)
def inbound_secret(settings):
    settings.HELPDESK_MAIL_INBOUND_SECRET = SECRET


def signed(body: bytes, *, timestamp: int | None = None, secret: str = SECRET) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = inbound_signature(body=body, timestamp=timestamp, secret=secret)
    return {"HTTP_X_SIGNATURE": f"t={timestamp},v1={signature}"}


def post(client, body: bytes, **headers):
    return client.generic("POST", URL, body, content_type="message/rfc822", **headers)


def test_a_signed_message_is_taken_in_once_however_often_it_is_posted(client, ticket, owner):
    assert reverse("mail:inbound") == URL
    raw = corpus("outlook_html_only_cp1251.eml", FROM=owner.email, TO=ticket_address(ticket, owner))

    first = post(client, raw, **signed(raw))
    again = post(client, raw, **signed(raw))

    assert first.status_code == again.status_code == 200
    inbound = InboundEmail.objects.get()
    assert first.json() == {
        "id": inbound.pk,
        "status": "accepted",
        "outcome": "reply",
        "duplicate": False,
    }
    assert again.json()["duplicate"] is True
    assert inbound.source == InboundSource.HTTP
    assert Message.objects.filter(ticket=ticket).last().body.startswith("Спасибо")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_SIGNATURE": "garbage"},
        {"HTTP_X_SIGNATURE": "t=1,v1=" + "0" * 64},
        {"HTTP_X_SIGNATURE": "t=" + "9" * 5000},
        {"HTTP_X_SIGNATURE": ",".join(["v1=" + "a" * 64] * 2000)},
    ],
)
def test_an_unsigned_or_badly_signed_message_is_refused(client, headers, owner):
    raw = corpus("plain_reply.eml", FROM=owner.email)
    response = post(client, raw, **headers)
    assert response.status_code == 401
    assert not InboundEmail.objects.exists()


def test_a_replayed_or_tampered_or_foreign_signature_is_refused(client, owner):
    raw = corpus("plain_reply.eml", FROM=owner.email)
    old = int(time.time()) - 3600
    assert post(client, raw, **signed(raw, timestamp=old)).status_code == 401
    assert post(client, raw + b"tampered", **signed(raw)).status_code == 401
    assert post(client, raw, **signed(raw, secret="another")).status_code == 401
    assert not InboundEmail.objects.exists()


def test_an_oversized_body_is_refused_unread(client, settings, owner):
    settings.HELPDESK_MAIL_MAX_BYTES = 5000
    raw = corpus("plain_reply.eml", FROM=owner.email) + b"x" * 10_000
    assert post(client, raw, **signed(raw)).status_code == 413
    assert not InboundEmail.objects.exists()


def test_the_endpoint_is_off_without_a_secret_and_takes_only_post(client, settings):
    assert client.get(URL).status_code == 405
    settings.HELPDESK_MAIL_INBOUND_SECRET = ""
    raw = b"From: a@b.example\n\nhi"
    assert post(client, raw, **signed(raw, secret="")).status_code == 404


def test_a_dropped_eml_file_is_taken_in_and_moved_by_its_outcome(tmp_path, settings, ticket, owner):
    incoming = tmp_path / "mail" / "incoming"
    incoming.mkdir(parents=True)
    settings.HELPDESK_MAIL_DROP_DIR = str(incoming)
    reply = corpus("german_reply.eml", FROM=owner.email, TO=ticket_address(ticket, owner))
    (incoming / "reply.eml").write_bytes(reply)
    (incoming / "spam.eml").write_bytes(corpus("plain_reply.eml", FROM="x@unknown.example"))
    (incoming / "notes.txt").write_text("not an e-mail file: left alone")

    result = drop_folder_poll()

    assert (result.accepted, result.rejected) == (1, 1)
    assert sorted(path.name for path in incoming.iterdir()) == ["notes.txt"]
    assert (tmp_path / "mail" / "processed" / "reply.eml").read_bytes() == reply
    assert (tmp_path / "mail" / "rejected" / "spam.eml").exists()
    assert Message.objects.filter(ticket=ticket).last().body == "Danke, jetzt funktioniert es."

    # The same file dropped again (copied back by hand) is recognised.
    (incoming / "reply-again.eml").write_bytes(reply)
    assert drop_folder_poll().duplicates == 1
    assert InboundEmail.objects.filter(status=InboundStatus.ACCEPTED).count() == 1


def test_the_beat_job_reads_the_drop_folder_when_no_mailbox_is_configured(
    tmp_path, settings, account, owner
):
    """What `make run` does: DEBUG sets the drop folder, no IMAP host is configured."""
    from mail.tasks import poll_mail

    settings.HELPDESK_MAIL_IMAP_HOST = ""
    settings.HELPDESK_MAIL_DROP_DIR = str(tmp_path / "incoming")
    assert poll_mail.delay().get() == {"drop": 0}, "the folder is created when missing"
    (tmp_path / "incoming" / "request.eml").write_bytes(
        corpus("forwarded_to_support.eml", FROM=owner.email)
    )

    assert poll_mail.delay().get() == {"drop": 1}
    assert InboundEmail.objects.get().outcome == "new_ticket"
