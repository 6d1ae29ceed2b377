"""The expiry job's process killed in the middle of a run (SIGKILL while a batch waits for an
account's lock), then run again: exactly the due lots are expired, each once, and the ledger
checks clean."""

import io
import signal
import subprocess
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from points.models import Entry, EntryKind, Lot
from points.services import hold_capture, points_grant
from tests.factories import AccountFactory, TicketFactory
from tests.processes import PROJECT_ROOT, PYTHON, database_url_of_this_test, process_env, wait_for


def grant(account, points, *, expires_in: timedelta) -> Lot:
    now = timezone.now()
    return points_grant(
        account=account,
        points=points,
        reason="goodwill",
        actor=None,
        at=now - timedelta(days=400),
        expires_at=now + expires_in,
    )


def assert_ledger_consistent() -> None:
    out = io.StringIO()
    call_command("check_ledger", stdout=out, stderr=out)
    assert out.getvalue().strip() == "Ledger is consistent.", out.getvalue()


def expire_entries() -> list[tuple[int, int]]:
    return sorted(Entry.objects.filter(kind=EntryKind.EXPIRE).values_list("lot_id", "amount"))


@pytest.mark.django_db(transaction=True)
def test_the_expiry_job_killed_mid_run_and_run_again_expires_each_due_lot_once():
    first, second = AccountFactory(), AccountFactory()
    # In expiry order with batches of 2: batch 1 is the first account's two lots, batches 2 and 3
    # the second account's three (one of them partly held for a ticket).
    first_batch = [
        grant(first, 10, expires_in=timedelta(days=-5)),
        grant(first, 20, expires_in=timedelta(days=-4)),
    ]
    later_batches = [
        grant(second, 30, expires_in=timedelta(days=-3)),
        grant(second, 40, expires_in=timedelta(days=-2)),
        grant(second, 50, expires_in=timedelta(days=-1)),
    ]
    not_due = [
        grant(first, 60, expires_in=timedelta(days=30)),
        grant(second, 70, expires_in=timedelta(days=30)),
    ]
    # 35 of the 50 were captured for a ticket before that lot expired (the soonest-expiring lot
    # then): held points don't expire; the job expires the 15 unheld.
    hold_capture(
        ticket=TicketFactory(account=second), points=35, at=timezone.now() - timedelta(hours=36)
    )
    held_lot = later_batches[2]
    held_lot.refresh_from_db()
    assert held_lot.remaining == 15

    # Another transaction holds the second account's lock: the job commits its first batch,
    # then waits in its second, where it is killed.
    blocker = psycopg.connect(database_url_of_this_test(), autocommit=False)
    try:
        blocker.execute("SELECT id FROM accounts_account WHERE id = %s FOR UPDATE", [second.pk])
        job = subprocess.Popen(
            [PYTHON, "manage.py", "expire_points", "--batch-size", "2"],
            cwd=PROJECT_ROOT,
            env=process_env(DATABASE_URL=database_url_of_this_test()),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

        def waiting_in_second_batch():
            """the first batch is committed and the job waits for the second account's lock"""
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                waiting = cursor.fetchone()[0]
            return len(expire_entries()) == 2 and waiting == 1

        try:
            wait_for(waiting_in_second_batch, timeout=30)
        finally:
            job.send_signal(signal.SIGKILL)
            output = job.communicate(timeout=10)[0].decode()
        assert job.returncode == -signal.SIGKILL, output
    finally:
        blocker.rollback()
        blocker.close()

    assert expire_entries() == [(first_batch[0].pk, 10), (first_batch[1].pk, 20)]
    assert set(Lot.objects.filter(expired_at__isnull=False).values_list("id", flat=True)) == {
        lot.pk for lot in first_batch
    }
    assert_ledger_consistent()

    rerun = subprocess.run(
        [PYTHON, "manage.py", "expire_points", "--batch-size", "2"],
        cwd=PROJECT_ROOT,
        env=process_env(DATABASE_URL=database_url_of_this_test()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.strip() == "Expired 3 lots (85 points)."

    due = first_batch + later_batches
    assert expire_entries() == sorted(
        [(lot.pk, amount) for lot, amount in zip(due, [10, 20, 30, 40, 15], strict=True)]
    )
    expired = set(Lot.objects.filter(expired_at__isnull=False).values_list("id", flat=True))
    assert expired == {lot.pk for lot in due}
    assert not expired & {lot.pk for lot in not_due}
    assert_ledger_consistent()
    connection.close()
