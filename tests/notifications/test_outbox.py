"""E-mail notifications go through a transactional outbox: written with the change that caused
them, sent after commit by a task, drained when that task never ran, sent once."""

import io
import smtplib
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from notifications.models import Notification
from notifications.outbox import DRAIN_GRACE, notifications_suppressed
from notifications.sending import MAX_ATTEMPTS, notification_send, notifications_send_due
from points.services import points_grant
from tests.factories import AccountFactory, IssueCategoryFactory, StaffUserFactory, account_owner
from tests.processes import celery_publishing_to
from tickets import services
from tickets.notifications import notify

pytestmark = pytest.mark.django_db


class FailingBackend:
    """An SMTP server that refuses everything."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


class SlowBackend:
    """Delivers into the locmem outbox, slowly: long enough for a second sender to try."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        time.sleep(0.5)
        mail.outbox.extend(messages)
        return len(messages)


def file_ticket(account=None, **kwargs):
    account = account or AccountFactory()
    points_grant(account=account, points=100, reason="test balance", actor=None)
    return services.ticket_file(
        account=account,
        filed_by=account_owner(account),
        category=IssueCategoryFactory(),
        subject="Checkout is broken",
        description="The checkout page shows a blank screen.",
        **kwargs,
    )


def command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_filing_writes_the_notification_in_the_same_transaction_and_sends_it_after_commit(
    django_capture_on_commit_callbacks,
):
    staff = StaffUserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = file_ticket()
        notification = Notification.objects.get(ticket=ticket)
        assert notification.event == "ticket_filed"
        assert notification.sent_at is None
        assert mail.outbox == []

    for callback in callbacks:
        callback()

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [staff.email]
    assert mail.outbox[0].subject == f"New ticket #{ticket.pk}: Checkout is broken"
    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert notification.recipients == [staff.email]
    assert notification.attempts == 1


def test_a_rolled_back_change_leaves_no_notification_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    StaffUserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            file_ticket()
            raise RuntimeError("something later in the request failed")

    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_the_email_is_rendered_from_the_rows_the_notification_refers_to(
    django_capture_on_commit_callbacks,
):
    ticket = file_ticket()
    staff = StaffUserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        message = services.ticket_reply(
            ticket=ticket, author=staff, body="Please clear the cache and try again."
        )

    notification = Notification.objects.get(event="staff_replied")
    assert notification.context == {"message": {"$model": "tickets.message", "pk": message.pk}}
    [email] = mail.outbox
    assert email.to == [account_owner(ticket.account).email]
    assert "Please clear the cache and try again." in email.body
    assert f"/tickets/{ticket.pk}/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "Please clear the cache and try again." in html


def test_a_notification_is_sent_once_however_often_it_is_asked_for():
    StaffUserFactory()
    notification = Notification.objects.get(ticket=file_ticket())

    assert notification_send(notification_id=notification.pk) is True
    assert notification_send(notification_id=notification.pk) is False
    assert notifications_send_due(at=timezone.now() + timedelta(days=1)) == 0

    assert len(mail.outbox) == 1


def test_unknown_events_are_refused():
    ticket = file_ticket()
    with pytest.raises(ValueError, match="no_such_event"):
        notify("no_such_event", ticket)


def test_nothing_is_queued_while_notifications_are_suppressed():
    with notifications_suppressed():
        file_ticket()

    assert not Notification.objects.exists()


@override_settings(EMAIL_BACKEND="tests.notifications.test_outbox.FailingBackend")
def test_a_failed_send_is_recorded_and_retried_later_by_the_drain():
    StaffUserFactory()
    notification = Notification.objects.get(ticket=file_ticket())

    assert notification_send(notification_id=notification.pk) is False

    notification.refresh_from_db()
    assert notification.sent_at is None
    assert notification.attempts == 1
    assert "mail server went away" in notification.last_error
    assert notification.next_attempt_at > timezone.now() + timedelta(minutes=1)
    # Not due yet: the drain leaves it alone.
    assert notifications_send_due() == 0

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        assert notifications_send_due(at=notification.next_attempt_at) == 1

    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert notification.attempts == 2
    assert notification.last_error == ""
    assert len(mail.outbox) == 1


@override_settings(EMAIL_BACKEND="tests.notifications.test_outbox.FailingBackend")
def test_after_max_attempts_the_drain_gives_up_until_an_operator_retries():
    StaffUserFactory()
    notification = Notification.objects.get(ticket=file_ticket())
    Notification.objects.filter(pk=notification.pk).update(attempts=MAX_ATTEMPTS)

    assert notifications_send_due(at=timezone.now() + timedelta(days=30)) == 0

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        out, err = command("drain_outbox")
        assert "Sent 0 notifications." in out
        assert f"failed {MAX_ATTEMPTS} times" in err
        out, err = command("drain_outbox", "--retry-failed")

    assert "Retrying 1 failed notifications." in out
    assert "Sent 1 notifications." in out
    assert err == ""
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
@override_settings(EMAIL_BACKEND="tests.notifications.test_outbox.SlowBackend")
def test_two_senders_racing_for_one_notification_send_one_email():
    StaffUserFactory()
    with notifications_suppressed():
        ticket = file_ticket()
    # As if its task had not run yet: the task and the drain now race for it.
    notification = Notification.objects.create(
        event="ticket_filed",
        subject=ticket,
        created_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    results = []

    def send():
        started = time.monotonic()
        try:
            sent = notification_send(notification_id=notification.pk)
            results.append((sent, time.monotonic() - started))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    [(skipped, skipped_after), (sent, sent_after)] = sorted(results)
    assert (skipped, sent) == (False, True)
    # The loser does not wait for the winner's delivery: it skips the locked row.
    assert skipped_after < 0.4 <= sent_after
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_filing_succeeds_and_the_drain_sends_the_email_once(caplog):
    """The broker's URL points at a closed port: queueing the send task fails after commit; the
    request is not failed, and the notification waits in the outbox for the drain."""
    staff = StaffUserFactory()
    with celery_publishing_to("redis://127.0.0.1:1/0"):
        started = time.monotonic()
        ticket = file_ticket()
        elapsed = time.monotonic() - started

    assert elapsed < 5
    notification = Notification.objects.get(ticket=ticket)
    assert notification.sent_at is None
    assert mail.outbox == []
    assert "could not be queued" in caplog.text

    # The drain leaves it alone during the grace period, then sends it, once.
    assert notifications_send_due() == 0
    assert notifications_send_due(at=timezone.now() + DRAIN_GRACE) == 1
    assert notifications_send_due(at=timezone.now() + DRAIN_GRACE) == 0
    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert [email.to for email in mail.outbox] == [[staff.email]]
