"""The outbox moved from `tickets` to `notifications` with every row (tested from the schema
before the move, with rows in it), and a ticket waiting for points keeps waiting."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notifications.models import Notification
from notifications.outbox import notify
from tests.admin_support import file_ticket, funded_account, support_staff_user
from tickets.admin_selectors import waiting_for_points
from tickets.models import Ticket, TicketStatus
from tickets.services import ticket_wait_for_points

pytestmark = pytest.mark.django_db

BEFORE = [("tickets", "0009_account_in_accounts_app")]


def migrate(targets):
    # Rows written in the test's transaction leave foreign-key checks pending, and PostgreSQL
    # alters no table with checks pending: run them now.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor.loader.project_state(targets).apps if targets else None


def test_every_row_of_the_old_outbox_is_copied_and_a_wait_for_points_is_kept():
    staff = support_staff_user()
    waiting = file_ticket(funded_account(100), subject="Needs more points")
    ticket_wait_for_points(ticket=waiting, points=5000, reason="Deeper debugging", actor=staff)
    other = file_ticket(funded_account(100), subject="Other ticket")
    Notification.objects.all().delete()
    start = waiting.created_at

    old = migrate(BEFORE)
    OldNotification = old.get_model("tickets", "Notification")
    common = {"created_at": start, "next_attempt_at": start}
    sent = OldNotification.objects.create(
        event="ticket_filed",
        account_id=other.account_id,
        ticket_id=other.pk,
        context={"note": "x"},
        sent_at=start + timedelta(seconds=5),
        attempts=1,
        recipients=["staff@example.com"],
        **common,
    )
    failed = OldNotification.objects.create(
        event="points_expiring",
        account_id=waiting.account_id,
        context={"lots": {"$model": "points.lot", "pks": [1]}},
        attempts=3,
        last_error="SMTPServerDisconnected: gone",
        **common,
    )
    asked = OldNotification.objects.create(
        event="points_needed",
        account_id=waiting.account_id,
        ticket_id=waiting.pk,
        context={"points": 5000},
        created_at=start + timedelta(minutes=1),
        next_attempt_at=start,
    )
    old.get_model("tickets", "Ticket").objects.filter(pk=waiting.pk).update(
        status=TicketStatus.WAITING_FOR_CUSTOMER
    )

    migrate(None)

    copied = {n.pk: n for n in Notification.objects.all()}
    assert set(copied) == {sent.pk, failed.pk, asked.pk}
    assert copied[sent.pk].subject == other
    assert copied[sent.pk].about == f"#{other.pk} Other ticket"
    assert (copied[sent.pk].sent_at, copied[sent.pk].recipients) == (
        sent.sent_at,
        ["staff@example.com"],
    )
    assert copied[failed.pk].subject == waiting.account
    assert (copied[failed.pk].attempts, copied[failed.pk].last_error) == (
        3,
        "SMTPServerDisconnected: gone",
    )
    assert copied[failed.pk].context == {"lots": {"$model": "points.lot", "pks": [1]}}
    assert copied[asked.pk].subject == waiting
    waiting.refresh_from_db()
    assert waiting.points_requested_at == asked.created_at
    assert list(Ticket.objects.filter(waiting_for_points())) == [waiting]
    # New e-mails are numbered after the copied ones.
    new = notify("staff_replied", other)
    assert new.pk > max(copied)
