"""The scheduled jobs: the beat schedule, the tasks and the management commands that cron can
run instead of beat, each calling the same service."""

import io
import json
import subprocess
from datetime import timedelta
from unittest import mock

import kombu.exceptions
import pytest
from celery.exceptions import Retry
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from helpdesk.celery import app as celery_app
from mail import tasks as mail_tasks
from notifications import tasks as notifications_tasks
from notifications.models import Notification
from points import services as ledger
from points import tasks as points_tasks
from points.models import Lot
from tests.factories import AccountFactory, IssueCategoryFactory, StaffUserFactory, account_owner
from tests.processes import PROJECT_ROOT, PYTHON, process_env
from tickets import services as tickets
from tickets import tasks as tickets_tasks
from tickets.models import AccessDetails, Ticket, TicketStatus

EVERY_HOUR = set(range(24))
EVERY_MINUTE = set(range(60))
EVERY_DAY_OF_WEEK = set(range(7))

TASKS = [
    points_tasks.expire_points,
    points_tasks.remind_expiring_points,
    tickets_tasks.close_quiet_tickets,
    tickets_tasks.erase_access_details,
    tickets_tasks.compensate_late_hotrush,
    notifications_tasks.drain_outbox,
    notifications_tasks.send_notification,
    mail_tasks.poll_mail,
]


def entry(name: str) -> dict:
    return settings.CELERY_BEAT_SCHEDULE[name]


def test_the_beat_schedule_runs_each_job_at_its_period():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert set(schedule) == {
        "expire-points",
        "remind-expiring-points",
        "close-quiet-tickets",
        "erase-access-details",
        "compensate-late-hotrush",
        "privacy-retention",
        "drain-outbox",
        "poll-mail",
        "drain-webhooks",
        "forget-idempotency-keys",
    }
    for job in schedule.values():
        assert job["task"] in celery_app.tasks

    hourly_expiry = entry("expire-points")["schedule"]
    assert isinstance(hourly_expiry, crontab)
    assert (hourly_expiry.minute, hourly_expiry.hour) == ({5}, EVERY_HOUR)

    for name in ("remind-expiring-points", "erase-access-details", "privacy-retention"):
        daily = entry(name)["schedule"]
        assert isinstance(daily, crontab)
        assert len(daily.minute) == len(daily.hour) == 1, f"{name} runs once a day"
        assert daily.day_of_week == EVERY_DAY_OF_WEEK

    auto_close = entry("close-quiet-tickets")["schedule"]
    assert (auto_close.minute, auto_close.hour) == ({15}, EVERY_HOUR)

    assert entry("drain-outbox")["schedule"] == timedelta(minutes=1)
    assert entry("compensate-late-hotrush")["schedule"] == timedelta(minutes=1)
    assert entry("drain-webhooks")["schedule"] == timedelta(minutes=1)
    forget = entry("forget-idempotency-keys")["schedule"]
    assert (forget.minute, forget.hour) == ({45}, EVERY_HOUR)


def test_a_run_left_waiting_in_the_queue_past_the_next_one_is_dropped():
    for name, job in settings.CELERY_BEAT_SCHEDULE.items():
        period = job["schedule"]
        if isinstance(period, crontab):
            period = timedelta(days=1) if len(period.hour) == 1 else timedelta(hours=1)
        assert 0 < job["options"]["expires"] < period.total_seconds(), name


def test_the_schedule_follows_the_helpdesk_time_zone_and_the_expiry_interval_can_be_set():
    code = (
        "import json; from helpdesk.celery import app; app.loader.import_default_modules();"
        "expiry = app.conf.beat_schedule['expire-points']['schedule'];"
        "print(json.dumps([app.conf.timezone, expiry.total_seconds()]))"
    )
    result = subprocess.run(
        [PYTHON, "-c", code],
        cwd=PROJECT_ROOT,
        env=process_env(HELPDESK_TIME_ZONE="Europe/Berlin", HELPDESK_EXPIRY_INTERVAL_SECONDS="7"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == ["Europe/Berlin", 7]
    assert celery_app.conf.timezone == settings.TIME_ZONE


def test_tasks_are_acknowledged_late_retried_on_transient_errors_and_time_limited():
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True
    assert celery_app.conf.worker_prefetch_multiplier == 1
    for task in TASKS:
        assert task.acks_late is True, task.name
        assert OperationalError in task.autoretry_for, task.name
        assert kombu.exceptions.OperationalError in task.autoretry_for, task.name
        assert task.retry_backoff and task.max_retries, task.name
        assert 0 < task.soft_time_limit < task.time_limit, task.name


def test_a_database_outage_makes_the_task_retry_and_a_bug_does_not():
    with (
        mock.patch.object(ledger, "lots_expire_due", side_effect=OperationalError("db down")),
        pytest.raises(Retry),
    ):
        points_tasks.expire_points.apply()
    with (
        mock.patch.object(ledger, "lots_expire_due", side_effect=ValueError("a bug")),
        pytest.raises(ValueError),
    ):
        points_tasks.expire_points.apply()


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def resolved_ticket(*, resolved_ago: timedelta) -> Ticket:
    account = AccountFactory()
    filed_at = timezone.now() - resolved_ago - timedelta(days=1)
    ledger.points_grant(
        account=account,
        points=100,
        reason="test balance",
        actor=None,
        at=filed_at - timedelta(days=1),
    )
    ticket = tickets.ticket_file(
        account=account,
        filed_by=account_owner(account),
        category=IssueCategoryFactory(),
        subject="Shipping costs are wrong",
        description="Shipping is charged twice.",
        at=filed_at,
    )
    tickets.access_details_set(
        ticket=ticket, actor=account_owner(account), host="shop.example", login="a", password="b"
    )
    staff = StaffUserFactory()
    return tickets.ticket_resolve(ticket=ticket, actor=staff, at=timezone.now() - resolved_ago)


@pytest.mark.django_db
def test_quiet_resolved_tickets_are_closed_by_the_task_and_by_the_command():
    quiet = [resolved_ticket(resolved_ago=timedelta(days=6)) for _ in range(2)]
    recent = resolved_ticket(resolved_ago=timedelta(days=1))

    assert tickets_tasks.close_quiet_tickets.delay().get() == 2
    assert run("close_quiet_tickets") == "Closed 0 tickets resolved and quiet for 5 days."

    statuses = dict(Ticket.objects.values_list("id", "status"))
    assert [statuses[ticket.id] for ticket in quiet] == [TicketStatus.CLOSED] * 2
    assert statuses[recent.id] == TicketStatus.RESOLVED


@pytest.mark.django_db
def test_access_details_are_erased_90_days_after_close_by_the_task_and_by_the_command():
    old = resolved_ticket(resolved_ago=timedelta(days=100))
    tickets.tickets_close_quiet(at=timezone.now() - timedelta(days=92))
    recent = resolved_ticket(resolved_ago=timedelta(days=10))
    tickets.tickets_close_quiet()

    assert tickets_tasks.erase_access_details.delay().get() == 1
    assert run("erase_access_details") == (
        "Erased the access details of 0 tickets closed more than 90 days ago."
    )
    details = {d.ticket_id: d for d in AccessDetails.objects.all()}
    assert details[old.id].erased_at is not None and details[old.id].ciphertext is None
    assert details[recent.id].erased_at is None


@pytest.mark.django_db
def test_due_lots_are_expired_by_the_task_and_by_the_command():
    account = AccountFactory()
    now = timezone.now()
    lots = [
        ledger.points_grant(
            account=account,
            points=10,
            reason="goodwill",
            actor=None,
            at=now - timedelta(days=30),
            expires_at=now - timedelta(days=n + 1),
        )
        for n in range(2)
    ]

    assert points_tasks.expire_points.delay().get() == {"lots": 2, "points": 20}
    assert run("expire_points") == "Expired 0 lots (0 points)."
    assert (
        Lot.objects.filter(id__in=[lot.id for lot in lots], expired_at__isnull=False).count() == 2
    )


@pytest.mark.django_db
def test_the_outbox_is_drained_by_the_task_and_by_the_command():
    staff = StaffUserFactory()
    account = AccountFactory()
    ticket = tickets.ticket_file(
        account=account,
        filed_by=account_owner(account),
        category=IssueCategoryFactory(points=0),
        subject="A question",
        description="How do I export orders?",
    )
    # Filed inside the test's transaction: its after-commit task never ran.
    Notification.objects.update(next_attempt_at=timezone.now())

    assert notifications_tasks.drain_outbox.delay().get() == 1
    assert run("drain_outbox") == "Sent 0 notifications."
    assert [email.to for email in mail.outbox] == [[staff.email]]
    assert Notification.objects.get(ticket=ticket).sent_at is not None
