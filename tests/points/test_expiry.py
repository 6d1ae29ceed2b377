"""The expiry job (`lots_expire_due` and `manage.py expire_points`): it records what time did."""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction

import points.services
from points.models import Entry, EntryKind, HoldStatus, Lot
from points.selectors import points_available
from points.services import ExpiryResult, LedgerError, hold_release, hold_settle, lots_expire_due
from tests.factories import AccountFactory
from tests.points.support import (
    MICROSECOND,
    T0,
    assert_ledger_consistent,
    capture,
    days,
    grant,
    ledger_state,
)

AS_OF = T0 + days(100)
JOB_TIME = AS_OF + days(1)  # when the job runs: a day after the lots were due


def expire(**kwargs) -> ExpiryResult:
    job_time = max(JOB_TIME, kwargs.get("as_of") or JOB_TIME)
    with time_machine.travel(job_time, tick=False):
        return lots_expire_due(**kwargs)


def expiry_outcome() -> dict:
    """What the job recorded: each lot's remaining and expiry mark, and the expire entries."""
    return {
        "lots": {
            lot_id: (remaining, expired_at)
            for lot_id, remaining, expired_at in Lot.objects.values_list(
                "id", "remaining", "expired_at"
            )
        },
        "entries": sorted(
            Entry.objects.filter(kind=EntryKind.EXPIRE).values_list(
                "lot_id", "amount", "created_at", "account_id", "reason", "actor"
            )
        ),
    }


@pytest.fixture
def lots(db):
    """Due and not-yet-due lots on two accounts, some with held or deducted points.

    Returns (due lots with the points the job must expire from each, lots not due).
    """
    first, second = AccountFactory(), AccountFactory()
    fully_used = grant(first, 30, expires_at=AS_OF - days(60))
    long_ago = grant(first, 100, expires_at=AS_OF - days(50))
    just_before = grant(first, 7, expires_at=AS_OF - MICROSECOND)
    not_yet = grant(first, 11, expires_at=AS_OF + MICROSECOND)
    used = capture(first, 30, at=T0)  # all of fully_used, the soonest-expiring lot of `first`
    hold_settle(ticket=used.ticket, at=T0)
    partly_held = grant(second, 20, expires_at=AS_OF - days(1))
    exactly = grant(second, 9, expires_at=AS_OF)
    later = grant(second, 13, expires_at=AS_OF + days(10))
    hold = capture(second, 15, at=T0)  # from partly_held, the soonest-expiring lot of `second`
    due = {fully_used: 0, long_ago: 100, just_before: 7, exactly: 9, partly_held: 5}
    assert hold.amount == 15
    return due, [not_yet, later]


def test_the_job_expires_exactly_the_due_lots(lots):
    due, not_due = lots

    result = expire(as_of=AS_OF)

    assert result == ExpiryResult(lots=5, points=100 + 7 + 9 + 5)
    outcome = expiry_outcome()
    for lot in due:
        assert outcome["lots"][lot.id] == (0, JOB_TIME)
    for lot in not_due:
        assert outcome["lots"][lot.id] == (lot.points, None)
    # One entry per lot for its unheld remainder; none for the lot with nothing left.
    assert outcome["entries"] == sorted(
        (lot.id, points, JOB_TIME, lot.account_id, "", None)
        for lot, points in due.items()
        if points
    )
    assert_ledger_consistent()


def test_a_lot_with_nothing_left_is_marked_expired_without_an_entry(db):
    account = AccountFactory()
    lot = grant(account, 10, expires_at=AS_OF - days(1))
    capture(account, 10, at=T0)

    assert expire(as_of=AS_OF) == ExpiryResult(lots=1, points=0)

    assert Lot.objects.get(pk=lot.pk).expired_at == JOB_TIME
    assert not Entry.objects.filter(kind=EntryKind.EXPIRE).exists()
    assert_ledger_consistent()


def test_held_points_survive_the_job_and_come_back_as_a_return_lot(db):
    account = AccountFactory()
    lot = grant(account, 10, expires_at=AS_OF - days(1))
    hold = capture(account, 6, at=T0)
    expire(as_of=AS_OF)

    released = hold_release(ticket=hold.ticket, reason="cancelled", at=AS_OF)

    assert released.status == HoldStatus.RELEASED
    assert points_available(account=account, at=AS_OF) == 6
    assert Lot.objects.get(source_lot=lot).points == 6
    assert_ledger_consistent()


def test_running_the_job_twice_expires_nothing_more(lots):
    expire(as_of=AS_OF)
    before = ledger_state()

    assert expire(as_of=AS_OF) == ExpiryResult()
    assert expire(as_of=AS_OF - days(30)) == ExpiryResult()

    assert ledger_state() == before


def test_a_later_run_expires_only_what_became_due_since(lots):
    due, (not_yet, later) = lots
    expire(as_of=AS_OF)

    assert expire(as_of=AS_OF + MICROSECOND) == ExpiryResult(lots=1, points=11)
    assert expire(as_of=AS_OF + days(10)) == ExpiryResult(lots=1, points=13)
    assert Entry.objects.filter(kind=EntryKind.EXPIRE).count() == len(due) - 1 + 2
    assert_ledger_consistent()


@pytest.fixture
def ten_lots(db):
    """Ten due lots on three accounts, four of them expiring at the same instant."""
    accounts = [AccountFactory() for _ in range(3)]
    same = AS_OF - days(3)
    expiries = [same, same, same, same] + [AS_OF - days(n) for n in (1, 2, 4, 5, 6, 7)]
    made = [grant(accounts[n % 3], 10 + n, expires_at=expiry) for n, expiry in enumerate(expiries)]
    capture(accounts[0], 5, at=T0)
    grant(accounts[1], 50, expires_at=AS_OF + days(1))
    return made


@pytest.mark.parametrize("batch_size", [1, 3, 4, 9, 10, 11, None])
def test_batches_of_any_size_give_the_same_result(ten_lots, batch_size):
    totals: list[ExpiryResult] = []

    result = expire(as_of=AS_OF, batch_size=batch_size, on_batch=totals.append)

    points = sum(lot.points for lot in ten_lots) - 5
    assert result == ExpiryResult(lots=10, points=points)
    assert totals[-1] == result
    size = batch_size or 5000
    assert [total.lots for total in totals] == [
        min(n * size, 10) for n in range(1, -(-10 // size) + 1)
    ]
    outcome = expiry_outcome()
    assert all(outcome["lots"][lot.id] == (0, JOB_TIME) for lot in ten_lots)
    assert sorted(lot_id for lot_id, *_ in outcome["entries"]) == sorted(lot.id for lot in ten_lots)
    assert sum(amount for _lot, amount, *_ in outcome["entries"]) == points
    assert Lot.objects.filter(expired_at__isnull=True).count() == 1
    assert_ledger_consistent()


def test_dry_run_reports_and_changes_nothing(lots):
    before = ledger_state()

    assert expire(as_of=AS_OF, dry_run=True) == ExpiryResult(lots=5, points=121)

    assert ledger_state() == before
    assert expire(as_of=AS_OF) == ExpiryResult(lots=5, points=121)
    assert expire(as_of=AS_OF, dry_run=True) == ExpiryResult()


# --- The management command -----------------------------------------------------------------------


def expire_points(*args) -> str:
    out = io.StringIO()
    with time_machine.travel(JOB_TIME, tick=False):
        call_command("expire_points", *args, stdout=out, stderr=out, no_color=True)
    return out.getvalue()


@pytest.fixture
def thousands(db):
    account = AccountFactory()
    grant(account, 1200, expires_at=AS_OF - days(1))
    grant(account, 34, expires_at=AS_OF)
    grant(account, 5, expires_at=AS_OF + days(1))


def test_command_dry_run_says_what_would_expire(thousands):
    before = ledger_state()

    output = expire_points("--as-of", AS_OF.isoformat(), "--dry-run")

    assert output == "Would expire 2 lots (1,234 points).\n"
    assert ledger_state() == before


def test_command_expires_and_says_so(thousands):
    output = expire_points("--as-of", AS_OF.isoformat(), "--batch-size", "1")

    assert output == "Expired 2 lots (1,234 points).\n"
    assert Lot.objects.filter(expired_at=JOB_TIME).count() == 2
    assert expire_points("--as-of", AS_OF.isoformat()) == "Expired 0 lots (0 points).\n"
    assert_ledger_consistent()


def test_command_defaults_to_now(thousands):
    # JOB_TIME is a day after AS_OF: the third lot is due too.
    assert expire_points() == "Expired 3 lots (1,239 points).\n"


def test_command_reads_a_naive_as_of_in_the_helpdesk_time_zone(db, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    account = AccountFactory()
    grant(account, 8, at=T0, expires_at=datetime(2027, 6, 1, tzinfo=ZoneInfo("Europe/Berlin")))

    assert expire_points("--as-of", "2027-05-31T23:59", "--dry-run").startswith("Would expire 0")
    # 22:00 UTC is already midnight in Berlin (summer time).
    assert expire_points("--as-of", "2027-06-01T00:00", "--dry-run").startswith("Would expire 1")
    assert expire_points("--as-of", "2027-05-31T22:00:00+00:00").startswith("Expired 1 lots")
    assert Lot.objects.get().expired_at is not None
    assert datetime(2027, 5, 31, 22, tzinfo=UTC) == Lot.objects.get().expires_at


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "yesterday"], "not a date and time"),
        (["--as-of", "2027-13-01T00:00"], "as-of"),
        (["--batch-size", "0"], "at least 1"),
        (["--batch-size", "many"], "batch-size"),
    ],
)
def test_command_refuses_bad_arguments(thousands, args, message):
    before = ledger_state()

    with pytest.raises(CommandError, match=message):
        expire_points(*args)

    assert ledger_state() == before


# --- Crash and resume -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_mid_way_resumes_and_expires_every_lot_exactly_once(ten_lots, monkeypatch):
    original = points.services.expiry._expire_batch
    calls = []

    def crash_in_second_batch(batch, *, at):
        calls.append(at)
        if len(calls) == 2:
            # Killed after doing the work, before committing it.
            with transaction.atomic():
                original(batch, at=at)
                raise RuntimeError("worker killed")
        return original(batch, at=at)

    monkeypatch.setattr(points.services.expiry, "_expire_batch", crash_in_second_batch)
    with pytest.raises(RuntimeError, match="worker killed"):
        expire(as_of=AS_OF, batch_size=3)
    assert Lot.objects.filter(expired_at__isnull=False).count() == 3
    assert Entry.objects.filter(kind=EntryKind.EXPIRE).count() == 3

    monkeypatch.setattr(points.services.expiry, "_expire_batch", original)
    resumed = expire(as_of=AS_OF, batch_size=3)

    assert resumed.lots == 7
    due_ids = sorted(lot.id for lot in ten_lots)
    assert sorted(Lot.objects.filter(expired_at__isnull=False).values_list("id", flat=True)) == (
        due_ids
    )
    assert (
        sorted(Entry.objects.filter(kind=EntryKind.EXPIRE).values_list("lot_id", flat=True))
        == due_ids
    )
    assert expire(as_of=AS_OF) == ExpiryResult()
    assert_ledger_consistent()


def test_the_job_refuses_to_expire_lots_ahead_of_time(lots):
    before = ledger_state()

    with time_machine.travel(AS_OF, tick=False), pytest.raises(LedgerError, match="ahead of time"):
        lots_expire_due(as_of=AS_OF + days(30))
    with time_machine.travel(AS_OF, tick=False), pytest.raises(CommandError, match="ahead of time"):
        call_command(
            "expire_points", "--as-of", (AS_OF + days(30)).isoformat(), stdout=io.StringIO()
        )

    assert ledger_state() == before
    with time_machine.travel(AS_OF, tick=False):
        assert lots_expire_due(as_of=AS_OF + days(30), dry_run=True).lots > 0
