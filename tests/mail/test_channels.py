"""The ways in besides the service itself: the MTA pipe command, concurrent deliveries of one
e-mail, and the admin's read-only record of every e-mail received."""

import io
import subprocess
import threading

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from mail.models import InboundEmail, InboundSource, InboundStatus
from mail.services import inbound_ingest
from tests.factories import StaffUserFactory
from tests.processes import PROJECT_ROOT, PYTHON, database_url_of_this_test, process_env
from tickets.models import Message

from .support import SUPPORT, corpus, new_message_id, ticket_address

pytestmark = pytest.mark.django_db


def receive(raw: bytes) -> str:
    out = io.StringIO()
    call_command("receive_email", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def test_the_pipe_command_takes_one_email_from_standard_input(ticket, owner):
    raw = corpus("gmail_reply.eml", FROM=owner.email, TO=ticket_address(ticket, owner))

    first = receive(raw)
    second = receive(raw)

    inbound = InboundEmail.objects.get()
    assert first == f"received: accepted (reply) #{inbound.pk}\n"
    assert second == f"already received: accepted (reply) #{inbound.pk}\n"
    assert inbound.source == InboundSource.PIPE
    assert Message.objects.filter(ticket=ticket).count() == 2


def test_the_pipe_command_records_an_oversized_email_without_keeping_it(settings, owner):
    settings.HELPDESK_MAIL_MAX_BYTES = 1000
    raw = corpus("plain_reply.eml", FROM=owner.email) + b"x" * 5000
    assert "rejected (too_large)" in receive(raw)
    assert InboundEmail.objects.get().raw_size == 1001, "read one byte past the limit, no more"


@pytest.mark.django_db(transaction=True)
def test_one_email_delivered_twice_at_the_same_time_makes_one_message(ticket, owner):
    raw = corpus(
        "plain_reply.eml",
        FROM=owner.email,
        TO=ticket_address(ticket, owner),
        MESSAGE_ID=new_message_id(),
    )
    results, errors = [], []
    barrier = threading.Barrier(4)

    def deliver(source):
        try:
            barrier.wait()
            results.append(inbound_ingest(raw=raw, source=source).created)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=deliver, args=(source,))
        for source in (InboundSource.IMAP, InboundSource.PIPE, InboundSource.HTTP, "drop")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert InboundEmail.objects.count() == 1
    assert Message.objects.filter(ticket=ticket, body="This is my answer.").count() == 1


def test_the_admin_lists_every_email_read_only_with_its_reason_and_ticket(
    client, ticket, owner, django_assert_max_num_queries
):
    for _ in range(3):
        inbound_ingest(
            raw=corpus("plain_reply.eml", FROM=owner.email, TO=ticket_address(ticket, owner)),
            source=InboundSource.PIPE,
        )
    inbound_ingest(raw=corpus("plain_reply.eml", FROM="x@new.example"), source="pipe")
    client.force_login(StaffUserFactory(is_superuser=True))
    changelist = reverse("admin:mail_inboundemail_changelist")

    with django_assert_max_num_queries(12):
        page = client.get(changelist).content.decode()

    assert page.count(reverse("admin:tickets_ticket_change", args=[ticket.pk])) == 3
    assert "unknown_sender" in page
    rejected = InboundEmail.objects.get(status=InboundStatus.REJECTED)
    detail = client.get(reverse("admin:mail_inboundemail_change", args=[rejected.pk]))
    assert detail.status_code == 200
    assert "The sender is not a user of any account." in detail.content.decode()
    assert client.get(reverse("admin:mail_inboundemail_add")).status_code == 403
    response = client.post(reverse("admin:mail_inboundemail_delete", args=[rejected.pk]))
    assert response.status_code == 403


def test_the_answers_go_to_the_sender_and_say_what_to_do(account, owner, mailoutbox):
    from notifications.models import Notification
    from notifications.sending import notification_send

    inbound_ingest(raw=corpus("new_request_with_attachments.eml", FROM=owner.email), source="pipe")
    inbound_ingest(raw=corpus("plain_reply.eml", FROM="someone@new.example"), source="pipe")
    mailoutbox.clear()
    for notification in Notification.objects.filter(event__startswith="mail_"):
        assert notification_send(notification_id=notification.pk)

    by_subject = {mail.subject: mail for mail in mailoutbox}
    ticket = InboundEmail.objects.get(outcome="new_ticket").ticket
    opened = by_subject[f"We received your request: ticket #{ticket.pk}"]
    assert opened.to == [owner.email]
    assert "waits for a quote" in opened.body
    assert opened.reply_to[0].startswith(f"support+t{ticket.pk}.u{owner.pk}.")
    refused = by_subject[f"Some attachments were not added to ticket #{ticket.pk}"]
    assert "fixer.exe" in refused.body
    unknown = by_subject["We could not file your e-mail"]
    assert unknown.to == ["someone@new.example"]
    assert "/accounts/signup/" in unknown.body
    assert unknown.reply_to == []


@pytest.mark.django_db(transaction=True)
def test_the_pipe_as_an_mta_runs_it_records_the_email_or_asks_to_try_again(ticket, owner):
    """A real `manage.py receive_email` process, as Postfix's pipe runs it."""
    raw = corpus("gmail_reply.eml", FROM=owner.email, TO=ticket_address(ticket, owner))
    command = [PYTHON, str(PROJECT_ROOT / "manage.py"), "receive_email"]
    env = process_env(
        DATABASE_URL=database_url_of_this_test(),
        HELPDESK_MAIL_SUPPORT_ADDRESS=SUPPORT,
        SECRET_KEY=settings.SECRET_KEY,
        CELERY_BROKER_URL="memory://",
    )

    taken = subprocess.run(command, input=raw, env=env, capture_output=True, timeout=120)
    down = subprocess.run(
        command,
        input=raw,
        env={**env, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere"},
        capture_output=True,
        timeout=120,
    )

    assert taken.returncode == 0, taken.stderr.decode()[-2000:]
    # Logs go to standard output too (LOG_FORMAT): the command's own line comes last.
    assert taken.stdout.decode().splitlines()[-1].startswith("received: accepted (reply)")
    assert Message.objects.filter(ticket=ticket).last().body.startswith("Thanks")
    assert down.returncode == 75, "EX_TEMPFAIL: the MTA keeps the e-mail and retries"
    assert b"try again later" in down.stderr
