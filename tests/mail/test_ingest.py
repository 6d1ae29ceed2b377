"""One raw e-mail in, through `inbound_ingest`: replies join their thread (quotes and signatures
cut, whatever the client and charset), new mail from a customer opens a ticket waiting for a
quote, and everything else is refused with a reason, answered at most politely and never to a
machine."""

import pytest
from django.utils import timezone

from mail.models import InboundEmail, InboundSource, InboundStatus
from mail.services import inbound_ingest
from notifications.models import Notification
from points.models import Hold
from tests.factories import AccountFactory, account_owner
from tickets.models import Message, Ticket, TicketStatus

from .support import SUPPORT, corpus, new_message_id, ticket_address

pytestmark = pytest.mark.django_db


def ingest(raw: bytes):
    return inbound_ingest(raw=raw, source=InboundSource.PIPE).inbound


def answers(event: str) -> list[Notification]:
    return list(Notification.objects.filter(event=event))


def reply_from(user, ticket, name="plain_reply.eml", **values):
    return corpus(name, FROM=f"Pat <{user.email}>", TO=ticket_address(ticket, user), **values)


REPLIES = [
    ("gmail_reply.eml", "Thanks – clearing the cache fixed the checkout page. Grüße!"),
    ("outlook_html_only_cp1251.eml", "Спасибо, всё работает.\nВопрос закрыт."),
    ("apple_mail_inline_image.eml", "It works now, see the screenshot."),
    ("thunderbird_bottom_posted_latin1.eml", "Merci, ça marche très bien maintenant."),
    ("iso2022jp_reply.eml", "ありがとうございます。解決しました。"),
    ("german_reply.eml", "Danke, jetzt funktioniert es."),
    ("plain_reply.eml", "This is my answer."),
]


@pytest.mark.parametrize(("name", "expected"), REPLIES)
def test_a_customer_reply_joins_the_thread_without_quotes_or_signature(
    name, expected, ticket, owner
):
    inbound = ingest(reply_from(owner, ticket, name))

    assert (inbound.status, inbound.outcome) == (InboundStatus.ACCEPTED, "reply")
    message = Message.objects.filter(ticket=ticket).last()
    assert inbound.message == message
    assert inbound.ticket == ticket
    assert message.author == owner
    assert not message.is_from_staff and not message.is_internal
    assert message.body == expected
    assert "<script" not in message.body_html
    assert answers("customer_replied"), "staff are told, as for a reply on the web"


def test_inline_images_are_attached_like_uploads(ticket, owner):
    ingest(reply_from(owner, ticket, "apple_mail_inline_image.eml"))
    message = Message.objects.filter(ticket=ticket).last()
    [attachment] = message.attachments.all()
    assert attachment.name == "screenshot.png"
    assert attachment.content_type == "image/png"


def test_another_user_of_the_account_may_answer_with_their_own_address(ticket, account):
    webmaster = account.memberships.get(user__email="webmaster@jones.example.com").user
    raw = corpus(
        "plain_reply.eml",
        FROM=webmaster.email,
        TO=ticket_address(ticket, account_owner(account)),
    )
    inbound = ingest(raw)
    assert inbound.outcome == "reply"
    assert inbound.message.author == webmaster


def test_a_staff_reply_is_public_and_is_the_first_response(ticket, staff):
    inbound = ingest(reply_from(staff, ticket))

    assert inbound.outcome == "staff_reply"
    message = inbound.message
    assert message.is_from_staff and not message.is_internal
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert answers("staff_replied")


def test_a_reply_to_a_resolved_ticket_within_the_window_reopens_it(ticket, owner):
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.RESOLVED, resolved_at=timezone.now()
    )
    inbound = ingest(reply_from(owner, ticket))
    assert inbound.outcome == "reply"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS


def test_a_reply_to_a_closed_ticket_is_answered_with_a_link_to_file_a_new_one(ticket, owner):
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.CLOSED, resolved_at=timezone.now(), closed_at=timezone.now()
    )
    before = Message.objects.count()

    inbound = ingest(reply_from(owner, ticket))

    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "ticket_ended")
    assert Message.objects.count() == before
    [answer] = answers("mail_not_posted")
    assert answer.context["to"] == owner.email
    assert answer.subject == ticket


def test_a_new_email_from_a_customer_opens_a_ticket_waiting_for_a_quote(account, owner):
    raw = corpus("new_request_with_attachments.eml", FROM=f"Pat <{owner.email}>", TO=SUPPORT)

    inbound = ingest(raw)

    assert (inbound.status, inbound.outcome) == (InboundStatus.ACCEPTED, "new_ticket")
    ticket = inbound.ticket
    assert ticket.account == account and ticket.filed_by == owner
    assert ticket.subject == "Cannot log in to the store admin"
    assert ticket.status == TicketStatus.AWAITING_QUOTE
    assert not Hold.objects.filter(ticket=ticket).exists(), "nothing is captured"
    description = ticket.messages.get()
    assert description.body.startswith("Since this morning the admin login")
    assert [a.name for a in description.attachments.all()] == ["error-log.pdf"]
    [opened] = answers("mail_ticket_opened")
    assert opened.subject == ticket and opened.context["to"] == owner.email
    [refused] = answers("mail_attachments_refused")
    assert "fixer.exe" in refused.context["refusals"][0]
    assert "fixer.exe" in inbound.reason


def test_a_forwarded_email_keeps_what_was_forwarded(account, owner):
    inbound = ingest(corpus("forwarded_to_support.eml", FROM=owner.email))
    body = inbound.ticket.messages.get().body
    assert body.startswith("Our payment provider sends this since yesterday")


@pytest.mark.parametrize(
    "name", ["auto_reply_out_of_office.eml", "precedence_bulk.eml", "x_autoreply.eml"]
)
def test_automated_mail_is_never_answered_nor_posted(name, ticket, owner):
    before = Message.objects.count()
    inbound = ingest(reply_from(owner, ticket, name))
    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "automated")
    assert Message.objects.count() == before
    assert not Notification.objects.filter(event__startswith="mail_").exists()


def test_mail_from_the_mailer_daemon_or_carrying_our_own_message_id_is_a_loop(ticket, owner):
    for raw in [
        corpus(
            "plain_reply.eml", FROM="MAILER-DAEMON@mx.example", TO=ticket_address(ticket, owner)
        ),
        reply_from(owner, ticket, MESSAGE_ID=f"<hd.n.99.abcdef12@{SUPPORT.split('@')[1]}>"),
    ]:
        assert ingest(raw).outcome == "automated"
    assert not Notification.objects.filter(event__startswith="mail_").exists()


def test_a_bounce_marks_the_outbox_row_failed_for_that_recipient(ticket, owner):
    notification = Notification.objects.get(event="ticket_filed")
    Notification.objects.filter(pk=notification.pk).update(
        sent_at=timezone.now(), recipients=[owner.email, "other@jones.example.com"]
    )
    from notifications.envelope import message_id

    original = message_id(notification_id=notification.pk, recipient=owner.email)
    raw = corpus("dsn_bounce.eml", FAILED=owner.email, ORIGINAL=original)

    inbound = ingest(raw)

    assert (inbound.status, inbound.outcome) == (InboundStatus.ACCEPTED, "bounce")
    notification.refresh_from_db()
    assert [entry["address"] for entry in notification.failed_recipients] == [owner.email]
    assert notification.failed_recipients[0]["status"] == "5.1.1"
    assert owner.email in notification.last_error
    # The same report again records nothing more.
    assert ingest(corpus("dsn_bounce.eml", FAILED=owner.email, ORIGINAL=original)).outcome == (
        "bounce_unmatched"
    )


def test_a_bounce_about_mail_that_is_not_ours_changes_nothing(owner):
    raw = corpus("dsn_bounce.eml", FAILED=owner.email, ORIGINAL="<abc@elsewhere.example>")
    assert ingest(raw).outcome == "bounce_unmatched"


def test_a_reply_from_someone_the_address_was_not_issued_to_is_rejected(ticket, owner, caplog):
    stranger = account_owner(AccountFactory())
    raw = corpus(
        "plain_reply.eml", FROM=f"Pat <{stranger.email}>", TO=ticket_address(ticket, owner)
    )
    before = Message.objects.count()

    inbound = ingest(raw)

    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "sender_mismatch")
    assert inbound.ticket == ticket and inbound.message is None
    assert Message.objects.count() == before
    assert "Rejected a reply" in caplog.text
    assert not Notification.objects.filter(event__startswith="mail_").exists()


def test_a_reply_address_with_a_bad_signature_is_rejected(ticket, owner):
    address = ticket_address(ticket, owner)
    local, domain = address.split("@")
    forged = local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + domain
    inbound = ingest(corpus("plain_reply.eml", FROM=owner.email, TO=forged))
    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "bad_signature")
    another_ticket = forged.replace(f"+t{ticket.pk}.", f"+t{ticket.pk + 1}.")
    assert ingest(corpus("plain_reply.eml", FROM=owner.email, TO=another_ticket)).outcome == (
        "bad_signature"
    )


def test_a_failed_authentication_result_is_honoured(ticket, owner):
    inbound = ingest(reply_from(owner, ticket, "auth_results_fail.eml"))
    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "auth_failed")


def test_an_unknown_sender_is_answered_once_a_day_and_no_ticket_is_made():
    tickets_before = Ticket.objects.count()
    first = ingest(corpus("plain_reply.eml", FROM="Someone <someone@new.example>"))
    second = ingest(corpus("plain_reply.eml", FROM="someone@NEW.example"))

    assert first.outcome == second.outcome == "unknown_sender"
    assert (first.answered, second.answered) == (True, False)
    [answer] = answers("mail_unknown_sender")
    assert answer.context["to"] == "someone@new.example"
    assert Ticket.objects.count() == tickets_before


def test_the_same_email_delivered_twice_makes_one_message(ticket, owner):
    raw = reply_from(owner, ticket, MESSAGE_ID=new_message_id())
    first = inbound_ingest(raw=raw, source=InboundSource.IMAP)
    second = inbound_ingest(raw=raw, source=InboundSource.PIPE)

    assert (first.created, second.created) == (True, False)
    assert first.inbound.pk == second.inbound.pk
    assert Message.objects.filter(ticket=ticket, author=owner).count() == 2  # filing + reply
    assert InboundEmail.objects.count() == 1


def test_an_email_without_message_id_is_recognised_by_its_bytes(ticket, owner):
    raw = reply_from(owner, ticket).replace(b"Message-ID:", b"X-Old-Message-ID:", 1)
    assert inbound_ingest(raw=raw, source=InboundSource.PIPE).created
    assert not inbound_ingest(raw=raw, source=InboundSource.PIPE).created
    assert InboundEmail.objects.get().message_key.startswith("sha256:")


def test_a_30_mb_email_is_rejected_unread(ticket, owner, settings):
    head = reply_from(owner, ticket)
    raw = head + b"\n" + b"A" * (30 * 1024 * 1024)
    before = Message.objects.count()

    inbound = ingest(raw)

    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "too_large")
    assert inbound.raw_size == len(raw)
    assert inbound.sender == owner.email
    assert Message.objects.count() == before


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff" * 1000,
        b"not an e-mail at all",
        b"From: nobody\n\nno address",
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n\n"
        + b"--x\nContent-Type: multipart/mixed; boundary=x\n\n" * 2000,
        b"From: a@b.example\nSubject: " + b"=?utf-8?q?" + b"=FF" * 5000 + b"?=\n\nhi",
        b"From: " + b"a" * 10000 + b"@b.example\n\nhi",
    ],
)
def test_malformed_mail_is_rejected_and_recorded(raw):
    inbound = ingest(raw)
    assert inbound.status == InboundStatus.REJECTED
    assert inbound.outcome in ("malformed", "unknown_sender")


def test_staff_without_the_permission_to_reply_cannot_reply_by_email(ticket):
    from tests.factories import StaffUserFactory

    bystander = StaffUserFactory(email="intern@helpdesk.example.com")
    inbound = ingest(reply_from(bystander, ticket))
    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "sender_mismatch")


def test_too_many_attachments_keep_the_first_and_name_the_others(ticket, owner, settings):
    from email.message import EmailMessage

    settings.HELPDESK_ATTACHMENT_MAX_COUNT = 2
    message = EmailMessage()
    message["From"] = owner.email
    message["To"] = ticket_address(ticket, owner)
    message["Message-ID"] = new_message_id()
    message.set_content("Three logs attached.")
    for number in range(3):
        message.add_attachment(
            b"log line\n", maintype="text", subtype="plain", filename=f"log{number}.txt"
        )

    inbound = ingest(message.as_bytes())

    assert inbound.outcome == "reply"
    assert [a.name for a in inbound.message.attachments.all()] == ["log0.txt", "log1.txt"]
    [refused] = answers("mail_attachments_refused")
    assert "log2.txt" in refused.context["refusals"][0]


def test_a_message_of_thousands_of_parts_is_refused_as_malformed(owner):
    parts = b"".join(
        b"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
        b'filename="f%d.pdf"\n\n%%PDF-1\n' % number
        for number in range(2000)
    )
    raw = (
        (
            f"From: {owner.email}\nTo: {SUPPORT}\nMessage-ID: {new_message_id()}\n"
            "Content-Type: multipart/mixed; boundary=b\n\n"
        ).encode()
        + parts
        + b"--b--\n"
    )
    inbound = ingest(raw)
    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "malformed")
    assert "too many MIME parts" in inbound.reason
    assert not Ticket.objects.filter(filed_by=owner).exists()


def test_a_user_removed_from_the_account_can_no_longer_answer_its_tickets(ticket, account):
    from accounts.services import account_remove_user

    webmaster = account.memberships.get(user__email="webmaster@jones.example.com").user
    raw = reply_from(webmaster, ticket)  # an address issued to them while they were a user
    account_remove_user(account=account, user=webmaster, removed_by=account_owner(account))

    inbound = ingest(raw)

    assert (inbound.status, inbound.outcome) == (InboundStatus.REJECTED, "sender_mismatch")


def test_control_characters_in_the_subject_and_text_are_dropped_not_refused(account, owner):
    raw = (
        f"From: {owner.email}\nTo: {SUPPORT}\nMessage-ID: {new_message_id()}\n"
        "Subject: =?utf-8?q?Broken=00_=1Bcheckout?=\nContent-Type: text/plain; charset=utf-8\n\n"
        "The page\x00 shows \x1b[31mred\x0c text.\n"
    ).encode()
    inbound = ingest(raw)
    assert inbound.outcome == "new_ticket"
    assert inbound.ticket.subject == "Broken checkout"
    assert inbound.ticket.messages.get().body == "The page shows [31mred text."
