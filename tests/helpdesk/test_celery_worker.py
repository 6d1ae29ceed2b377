"""A real Celery worker, started by the test against the real Redis, runs the HelpDesk's tasks
end to end: the expiry job and the notification sent after a ticket is filed."""

import signal
import subprocess
import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from notifications.models import Notification
from points.models import Entry, EntryKind, Lot
from points.services import points_grant
from points.tasks import expire_points
from tests.factories import AccountFactory, IssueCategoryFactory, StaffUserFactory, account_owner
from tests.processes import (
    PROJECT_ROOT,
    PYTHON,
    celery_publishing_to,
    database_url_of_this_test,
    process_env,
    wait_for,
)
from tickets import services as tickets

# A Redis database of its own; each test run also has its own queue in it, so workers of test
# runs going on at the same time never take each other's tasks.
BROKER_URL = "redis://127.0.0.1:6379/14"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A worker process on the production settings, using the test database and a queue of its
    own; e-mails go to files in the folder it yields."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    tmp_path = tmp_path_factory.mktemp("worker")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = (tmp_path / "worker.log").open("w+")
    with django_db_blocker.unblock():
        database_url = database_url_of_this_test()
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "--app=helpdesk",
            "worker",
            "--pool=solo",
            f"--queues={queue}",
            f"--hostname={queue}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=PROJECT_ROOT,
        env=process_env(
            DATABASE_URL=database_url,
            CONN_MAX_AGE="0",
            CELERY_BROKER_URL=BROKER_URL,
            EMAIL_URL=f"filemail:///{mail_dir}",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with celery_publishing_to(BROKER_URL, queue=queue):
            yield mail_dir
    finally:
        process.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        output = log.read()
        log.close()
        client = redis.Redis.from_url(BROKER_URL)
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output


@pytest.fixture
def worker(worker_process):
    """The worker, with e-mails of earlier tests cleared away."""
    for sent in worker_process.iterdir():
        sent.unlink()
    return worker_process


def test_the_worker_runs_the_expiry_task(worker):
    account = AccountFactory()
    now = timezone.now()
    due = points_grant(
        account=account,
        points=40,
        reason="goodwill",
        actor=None,
        at=now - timedelta(days=10),
        expires_at=now - timedelta(minutes=1),
    )
    not_due = points_grant(account=account, points=60, reason="goodwill", actor=None)

    expire_points.delay()

    def expired():
        """the due lot's expiry is recorded"""
        return Lot.objects.filter(pk=due.pk, expired_at__isnull=False).exists()

    wait_for(expired, timeout=30)
    assert list(Entry.objects.filter(kind=EntryKind.EXPIRE).values_list("lot_id", "amount")) == [
        (due.pk, 40)
    ]
    not_due.refresh_from_db()
    assert (not_due.remaining, not_due.expired_at) == (60, None)


def test_the_worker_sends_the_notification_of_a_filed_ticket(worker):
    staff = StaffUserFactory()
    account = AccountFactory()
    points_grant(account=account, points=100, reason="balance", actor=None)

    ticket = tickets.ticket_file(
        account=account,
        filed_by=account_owner(account),
        category=IssueCategoryFactory(points=40),
        subject="Orders are not exported",
        description="The export button does nothing.",
    )

    notification = Notification.objects.get(ticket=ticket)

    def sent():
        """the worker recorded the notification as sent"""
        notification.refresh_from_db()
        return notification.sent_at

    wait_for(sent, timeout=30)
    assert notification.recipients == [staff.email]
    [mail_file] = worker.iterdir()
    email = mail_file.read_text()
    assert f"To: {staff.email}" in email
    assert f"Subject: New ticket #{ticket.pk}: Orders are not exported" in email
