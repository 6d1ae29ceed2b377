"""Notifications about a ticket thread in every mail client and can be answered: checked on the
wire, as a real SMTP server (aiosmtpd, in the test process) receives them."""

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from accounts.models import Membership, MembershipRole
from notifications import envelope
from notifications.models import Notification
from notifications.sending import notification_send
from points.services import points_grant
from tests.factories import (
    AccountFactory,
    IssueCategoryFactory,
    StaffUserFactory,
    UserFactory,
    account_owner,
)
from tickets import services

pytestmark = pytest.mark.django_db


class Collector:
    """An SMTP handler that keeps what it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, smtp_envelope):
        self.envelopes.append(smtp_envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    handler = Collector()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            HELPDESK_MAIL_SUPPORT_ADDRESS="HelpDesk <support@help.example>",
        ):
            yield handler
    finally:
        controller.stop()


def received(handler):
    """(envelope recipients, parsed message) of every e-mail the server received."""
    return [
        (env.rcpt_tos, message_from_bytes(env.content, policy=policy.default))
        for env in handler.envelopes
    ]


def send_all():
    for pk in Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        assert notification_send(notification_id=pk)


def a_ticket():
    account = AccountFactory()
    points_grant(account=account, points=100, reason="test balance", actor=None)
    Membership.objects.create(
        account=account,
        user=UserFactory(email="webmaster@customer.example"),
        role=MembershipRole.MEMBER,
    )
    return services.ticket_file(
        account=account,
        filed_by=account_owner(account),
        category=IssueCategoryFactory(),
        subject="Checkout is broken",
        description="The checkout page shows a blank screen.",
    )


def test_each_recipient_gets_a_threaded_copy_with_a_signed_reply_address(smtp_server):
    staff = StaffUserFactory(email="agent@help.example")
    ticket = a_ticket()
    send_all()  # ticket_filed, to staff
    services.ticket_reply(ticket=ticket, author=staff, body="Please clear the cache.")
    send_all()  # staff_replied, to both users of the account

    mails = received(smtp_server)
    assert len(mails) == 3
    thread = f"<hd.t.{ticket.pk}@help.example>"
    message_ids = set()
    for rcpt_tos, message in mails:
        [recipient] = rcpt_tos
        user = type(staff).objects.get(email=recipient)
        assert message["To"] == recipient
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["In-Reply-To"] == thread
        assert message["References"] == thread
        assert message["Message-ID"].endswith("@help.example>")
        message_ids.add(message["Message-ID"])
        reply_to = message["Reply-To"]
        assert reply_to.startswith(f"support+t{ticket.pk}.u{user.pk}.")
        assert reply_to.endswith("@help.example")
        parsed = envelope.reply_address_parse(reply_to)
        assert parsed == envelope.ReplyAddress(tag="t", subject_id=ticket.pk, user_id=user.pk)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert text.startswith(envelope.REPLY_MARKER)
        assert envelope.REPLY_MARKER in html
    assert len(message_ids) == 3, "every copy has its own Message-ID"
    assert all(envelope.own_message_id(mid) for mid in message_ids)


@override_settings(HELPDESK_MAIL_SUPPORT_ADDRESS="support@help.example")
def test_a_tampered_reply_address_does_not_verify():
    address = envelope.reply_address(tag="t", subject_id=12, user_id=34)
    assert envelope.reply_address_parse(address.upper()) is not None, "case does not matter"
    local, domain = address.split("@")
    signature = local.rsplit(".", 1)[1]
    forged_signature = ("0" if signature[0] != "0" else "1") + signature[1:]
    for forged in [
        address.replace("t12.", "t13."),
        address.replace(".u34.", ".u35."),
        f"{local.rsplit('.', 1)[0]}.{forged_signature}@{domain}",
        f"{local}@other.example",
        address.replace("support+", "sales+"),
        "support@help.example",
        "support+t12.u34@help.example",
        "support+" + "9" * 500 + "@help.example",
        "",
    ]:
        assert envelope.reply_address_parse(forged) is None, forged


@override_settings(HELPDESK_MAIL_SUPPORT_ADDRESS="support@help.example")
def test_message_ids_of_ours_are_recognised_and_lead_back_to_the_outbox_row():
    mid = envelope.message_id(notification_id=77, recipient="a@b.example")
    assert envelope.notification_of_message_id(mid) == 77
    assert envelope.own_message_id("<hd.t.5@help.example>") == ("t", "5")
    assert envelope.own_message_id("<hd.n.77.abc@elsewhere.example>") is None
    assert envelope.own_message_id("<CAF=abc@mail.gmail.com>") is None
    assert envelope.notification_of_message_id("<hd.t.5@help.example>") is None


def test_emails_without_a_ticket_carry_no_reply_address(smtp_server):
    """The invitation is about an account, not a thread: loop protection but no Reply-To."""
    from accounts.services import account_invite_user

    account = AccountFactory()
    account_invite_user(
        account=account, invited_by=account_owner(account), email="new@customer.example"
    )
    send_all()
    [(_rcpt, message)] = received(smtp_server)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Reply-To"] is None
    assert message["In-Reply-To"] is None
    assert envelope.REPLY_MARKER not in message.get_body(("plain",)).get_content()
