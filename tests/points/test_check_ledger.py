"""`manage.py check_ledger`: silent approval of a healthy ledger, and every broken invariant named.

Corruption is done with raw SQL (as a faulty migration or a manual fix in psql would do it), on
rows the services wrote; where a database constraint already forbids the corruption, the test
drops that constraint inside its own transaction (rolled back at the end of the test).
"""

import io

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from points.models import EntryKind, Hold, HoldAllocation, Lot
from points.services import (
    hold_capture,
    hold_change,
    hold_refund,
    hold_release,
    hold_settle,
    order_create,
    order_mark_paid,
    points_adjust,
    points_purchase,
)
from tests.factories import AccountFactory, PointPackageFactory, account_owner
from tests.points.support import T0, capture, days, expire_at, grant, new_ticket

pytestmark = pytest.mark.django_db

NOW = T0 + days(10)  # when check_ledger runs


def check_ledger() -> tuple[int, list[str], str]:
    """(exit status, lines printed on stdout, stderr) of `manage.py check_ledger` at NOW."""
    out, err = io.StringIO(), io.StringIO()
    status = 0
    with time_machine.travel(NOW, tick=False):
        try:
            call_command("check_ledger", stdout=out, stderr=err, no_color=True)
        except SystemExit as exit:
            status = exit.code
    return status, out.getvalue().splitlines(), err.getvalue()


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def drop_constraint(table: str, name: str) -> None:
    """Drop a CHECK constraint for the rest of the test (its transaction is rolled back).

    Django's foreign keys are deferred: their pending checks must run before ALTER TABLE.
    """
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")


def assert_violations(expected: list[str]) -> None:
    status, lines, err = check_ledger()
    assert lines == expected
    assert err == f"{len(expected)} ledger violation(s) found.\n"
    assert status == 1


def test_a_healthy_ledger_after_a_mix_of_operations_is_consistent():
    account, other = AccountFactory(), AccountFactory()
    owner = account_owner(account)
    points_purchase(account=account, points=500, payment_reference="PAY-1", actor=owner, at=T0)
    points_purchase(account=account, points=500, payment_reference="PAY-1", actor=owner, at=T0)
    order = order_create(
        account=other, package=PointPackageFactory(points=300), backend="manual", actor=owner
    )
    order_mark_paid(order=order, payment_reference="BANK-1", at=T0)
    short = grant(account, 50, expires_at=T0 + days(2))
    grant(other, 20, expires_at=T0 + days(3))
    held_past_expiry = capture(account, 70, at=T0)  # all of `short` and 20 purchased
    settled = capture(account, 100, at=T0)
    zero = capture(account, 0, at=T0)
    released = capture(other, 40, at=T0)
    hold_change(ticket=settled.ticket, points=120, reason="more work", actor=None, at=T0)
    hold_change(ticket=released.ticket, points=30, reason="less work", actor=None, at=T0)
    hold_settle(ticket=settled.ticket, at=T0 + days(1))
    hold_settle(ticket=zero.ticket, at=T0 + days(1))
    hold_refund(ticket=settled.ticket, points=20, reason="bug", actor=None, at=T0 + days(1))
    points_adjust(account=account, points=-5, reason="typo", actor=None, at=T0 + days(1))
    points_adjust(account=other, points=15, reason="phone order", actor=None, at=T0 + days(1))
    expire_at(T0 + days(4))
    hold_release(ticket=released.ticket, reason="cancelled", at=T0 + days(5))
    hold_change(ticket=held_past_expiry.ticket, points=10, reason="less", actor=None, at=NOW)
    hold_settle(ticket=held_past_expiry.ticket, at=NOW)
    hold_refund(ticket=held_past_expiry.ticket, reason="bug", actor=None, at=NOW)
    # Returned after expiry: other's grant (release), then `short` twice (lowered, refunded).
    assert Lot.objects.filter(kind="return").count() == 3
    assert short.id in Lot.objects.filter(kind="return").values_list("source_lot", flat=True)

    assert check_ledger() == (0, ["Ledger is consistent."], "")


@pytest.fixture
def ledger(account):
    """One lot of 100 points with 40 held for an open ticket, and a 0-point hold."""
    lot = grant(account, 100, expires_at=T0 + days(300))
    hold = capture(account, 40, at=T0)
    zero = capture(account, 0, at=T0)
    assert check_ledger() == (0, ["Ledger is consistent."], "")
    return account.id, lot.id, hold.id, zero.id


SUM = "points = remaining + held + deducted + expired + reissued + debited + refunded"


# --- Invariant 1: 0 ≤ remaining ≤ points ----------------------------------------------------------


def test_invariant_1_remaining_above_the_lot_points(ledger):
    account, lot, _hold, _zero = ledger
    drop_constraint("points_lot", "lot_remaining_within_points")
    sql("UPDATE points_lot SET remaining = points + 1 WHERE id = %s", [lot])

    assert_violations(
        [
            f"account {account}: lot {lot} remaining within 0..100: expected 0..100, found 101",
            f"account {account}: lot {lot} remaining vs journal: expected 60, found 101",
            f"account {account}: lot {lot} {SUM}: expected 100, found 141",
            f"account {account}: available balance (unexpired lots) vs journal: "
            "expected 60, found 101",
        ]
    )


def test_invariant_1_negative_remaining(ledger):
    account, lot, _hold, _zero = ledger
    drop_constraint("points_lot", "lot_remaining_within_points")
    sql("UPDATE points_lot SET remaining = -1 WHERE id = %s", [lot])

    assert_violations(
        [
            f"account {account}: lot {lot} remaining within 0..100: expected 0..100, found -1",
            f"account {account}: lot {lot} remaining vs journal: expected 60, found -1",
            f"account {account}: lot {lot} {SUM}: expected 100, found 39",
            f"account {account}: available balance (unexpired lots) vs journal: "
            "expected 60, found -1",
        ]
    )


# --- Invariant 2: every point of a lot is in exactly one bucket -----------------------------------


def test_invariant_2_remaining_lowered_behind_the_journal(ledger):
    account, lot, _hold, _zero = ledger
    sql("UPDATE points_lot SET remaining = remaining - 1 WHERE id = %s", [lot])

    assert_violations(
        [
            f"account {account}: lot {lot} remaining vs journal: expected 60, found 59",
            f"account {account}: lot {lot} {SUM}: expected 100, found 99",
            f"account {account}: available balance (unexpired lots) vs journal: "
            "expected 60, found 59",
        ]
    )


def test_invariant_2_allocation_raised_behind_the_journal(ledger):
    account, lot, hold, _zero = ledger
    sql("UPDATE points_holdallocation SET amount = amount + 1 WHERE hold_id = %s", [hold])

    assert_violations(
        [
            f"account {account}: lot {lot} held for open tickets vs journal: expected 40, found 41",
            f"account {account}: lot {lot} {SUM}: expected 100, found 101",
            f"account {account}: hold {hold} amount = Σ allocations: expected 41, found 40",
        ]
    )


def test_invariant_2_deducted_points_changed_behind_the_journal(ledger):
    account, lot, hold, _zero = ledger
    hold_settle(ticket=Hold.objects.get(pk=hold).ticket, at=T0)
    sql("UPDATE points_holdallocation SET amount = amount - 3 WHERE hold_id = %s", [hold])

    assert_violations(
        [
            f"account {account}: lot {lot} deducted for resolved tickets vs journal: "
            "expected 40, found 37",
            f"account {account}: lot {lot} {SUM}: expected 100, found 97",
            f"account {account}: hold {hold} amount = Σ allocations: expected 37, found 40",
        ]
    )


def test_invariant_2_a_lot_expired_twice(ledger, account):
    account_id = account.id
    short = grant(account, 10, expires_at=T0 + days(1))
    expire_at(T0 + days(1))
    sql(
        "INSERT INTO points_entry (account_id, kind, amount, lot_id, reason, created_at) "
        "SELECT account_id, kind, amount, lot_id, reason, created_at FROM points_entry "
        "WHERE lot_id = %s AND kind = %s",
        [short.id, EntryKind.EXPIRE],
    )

    # The lot has expired by NOW: it is no longer part of the available balance.
    assert_violations(
        [
            f"account {account_id}: lot {short.id} expiry entries: expected at most 1, found 2",
            f"account {account_id}: lot {short.id} remaining vs journal: expected -10, found 0",
            f"account {account_id}: lot {short.id} {SUM}: expected 10, found 20",
        ]
    )


def test_invariant_2_a_lot_without_the_entry_that_created_it(ledger, account):
    account_id, _lot, _hold, _zero = ledger
    orphan = Lot.objects.create(
        account=account,
        kind="grant",
        points=10,
        remaining=10,
        acquired_at=T0,
        expires_at=T0 + days(400),
    )

    assert_violations(
        [
            f"account {account_id}: lot {orphan.id} (entries, points) that created it: "
            "expected (1, 10), found (0, 0)",
            f"account {account_id}: lot {orphan.id} remaining vs journal: expected 0, found 10",
            f"account {account_id}: available balance (unexpired lots) vs journal: "
            "expected 60, found 70",
        ]
    )


# --- Invariant 3: available balance = unexpired remaining = the journal ---------------------------


def test_invariant_3_an_entry_without_its_change_of_points(ledger):
    account, lot, _hold, _zero = ledger
    sql(
        "INSERT INTO points_entry (account_id, kind, amount, lot_id, reason, created_at) "
        "VALUES (%s, %s, 5, %s, 'lost update', %s)",
        [account, EntryKind.ADJUSTMENT_DEBIT, lot, T0],
    )

    assert_violations(
        [
            f"account {account}: lot {lot} remaining vs journal: expected 55, found 60",
            f"account {account}: lot {lot} {SUM}: expected 100, found 105",
            f"account {account}: available balance (unexpired lots) vs journal: "
            "expected 55, found 60",
        ]
    )


def test_invariant_3_balances_are_counted_on_unexpired_lots_only(ledger, account):
    account_id = account.id
    short = grant(account, 10, expires_at=T0 + days(1))
    # Not yet recorded by the job, yet expired at NOW: out of the balance on both sides.
    sql("UPDATE points_lot SET remaining = 4 WHERE id = %s", [short.id])

    assert_violations(
        [
            f"account {account_id}: lot {short.id} remaining vs journal: expected 10, found 4",
            f"account {account_id}: lot {short.id} {SUM}: expected 10, found 4",
        ]
    )


# --- Invariant 4: hold amount = Σ allocations; settled or released once ---------------------------


def test_invariant_4_hold_amount_differs_from_its_allocations(ledger):
    account, _lot, hold, _zero = ledger
    sql("UPDATE points_hold SET amount = amount + 1 WHERE id = %s", [hold])

    assert_violations(
        [f"account {account}: hold {hold} amount = Σ allocations: expected 40, found 41"]
    )


def test_invariant_4_a_hold_amount_without_any_allocation(ledger):
    account, _lot, _hold, zero = ledger
    sql("UPDATE points_hold SET amount = 5 WHERE id = %s", [zero])

    assert_violations(
        [f"account {account}: hold {zero} amount = Σ allocations: expected 0, found 5"]
    )


def test_invariant_4_allocations_left_on_a_released_hold(ledger):
    account, _lot, hold, _zero = ledger
    hold_release(ticket=Hold.objects.get(pk=hold).ticket, reason="cancelled", at=T0)
    sql("UPDATE points_holdallocation SET amount = 7 WHERE hold_id = %s", [hold])

    assert_violations(
        [f"account {account}: hold {hold} amount = Σ allocations: expected 7, found 0"]
    )


def test_invariant_4_a_hold_settled_and_released(ledger):
    account, _lot, hold, _zero = ledger
    hold_settle(ticket=Hold.objects.get(pk=hold).ticket, at=T0)
    drop_constraint("points_hold", "hold_status_matches_timestamps")
    sql("UPDATE points_hold SET released_at = settled_at WHERE id = %s", [hold])

    assert_violations(
        [
            f"account {account}: hold {hold} settled or released once: "
            "expected settled or released, found both"
        ]
    )


def test_violations_on_several_accounts_are_all_reported(ledger):
    account, lot, hold, _zero = ledger
    other = AccountFactory()
    other_lot = grant(other, 30, expires_at=T0 + days(300))
    other_hold = hold_capture(ticket=new_ticket(other), points=10, at=T0)
    sql("UPDATE points_lot SET remaining = remaining - 2 WHERE id IN (%s, %s)", [lot, other_lot.id])
    sql("UPDATE points_hold SET amount = amount - 1 WHERE id IN (%s, %s)", [hold, other_hold.id])

    status, lines, err = check_ledger()

    assert status == 1
    assert err == "8 ledger violation(s) found.\n"
    assert (
        f"account {other.id}: lot {other_lot.id} remaining vs journal: expected 20, found 18"
        in (lines)
    )
    assert (
        f"account {other.id}: hold {other_hold.id} amount = Σ allocations: expected 10, found 9"
        in lines
    )
    assert f"account {account}: hold {hold} amount = Σ allocations: expected 40, found 39" in lines
    assert HoldAllocation.objects.filter(hold_id=hold).get().amount == 40
