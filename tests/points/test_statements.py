"""The ledger's hand-written hot-path statements agree with the ORM definitions they stand for,
and a capture and a settlement take a fixed, small number of round trips."""

from __future__ import annotations

import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.locks import lock_account_row
from accounts.models import Account
from core.sql import execute_together
from points import statements
from points.models import BalanceAlert, Entry, Hold, HoldAllocation, HoldStatus, Lot, LotKind
from points.services import hold_capture, hold_settle
from tests.points.support import T0, days, new_ticket
from tests.processes import PROJECT_ROOT, PYTHON, process_env

pytestmark = pytest.mark.django_db


def lot(account, points, *, remaining=None, acquired=0, expires=30) -> Lot:
    return Lot.objects.create(
        account=account,
        kind=LotKind.GRANT,
        points=points,
        remaining=points if remaining is None else remaining,
        acquired_at=T0 + days(acquired),
        expires_at=T0 + days(expires),
    )


def round_trips(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_the_spendable_lots_are_the_querysets_in_its_order(account, other_account):
    lot(account, 5, expires=40)
    lot(account, 5, expires=20, acquired=1)
    lot(account, 5, expires=20)
    lot(account, 5, remaining=0)  # nothing left
    lot(account, 5, expires=2)  # expired at the time asked
    lot(other_account, 5)
    at = T0 + days(3)

    (rows,) = execute_together([statements.spendable_lots(account_id=account.pk, at=at)])
    locked = statements.lots_from_rows(rows)

    expected = Lot.objects.filter(account=account).spendable(at).consumption_order()
    assert [(x.pk, x.remaining) for x in locked] == [(x.pk, x.remaining) for x in expected]
    assert len(locked) == 3


def test_taking_from_lots_subtracts_from_each_lot_only(account):
    first, second, untouched = lot(account, 10), lot(account, 10), lot(account, 10)

    execute_together(statements.lots_take([(first, 10), (second, 3)]))

    remaining = dict(Lot.objects.values_list("pk", "remaining"))
    assert remaining == {first.pk: 0, second.pk: 7, untouched.pk: 10}


def test_a_second_hold_for_a_ticket_is_not_inserted(account):
    ticket = new_ticket(account)
    first = dict(account_id=account.pk, ticket_id=ticket.pk, amount=4, at=T0)
    again = dict(first, amount=9)

    inserted, not_inserted = execute_together(
        [statements.hold_insert(**first), statements.hold_insert(**again)]
    )

    assert statements.inserted_hold(not_inserted, **again) is None
    first = statements.inserted_hold(inserted, **first)
    stored = Hold.objects.get()
    assert (stored.pk, stored.amount, stored.status) == (first.pk, 4, HoldStatus.OPEN)
    assert stored.created_at == T0
    read = statements.hold_of_ticket(ticket.pk)
    assert (read.pk, read.account_id, read.amount, read.status) == (first.pk, account.pk, 4, "open")
    assert read.created_at == T0  # a field not read loads on access


def test_the_hold_of_a_ticket_without_one_is_none(account):
    assert statements.hold_of_ticket(new_ticket(account).pk) is None


def test_the_balance_alert_is_the_models_row(account, other_account):
    BalanceAlert.objects.create(account=other_account, threshold=5, below=True)
    (none,) = execute_together([statements.balance_alert_select(account.pk)])
    assert statements.balance_alert_from_rows(none) is None
    (rows,) = execute_together([statements.balance_alert_select(other_account.pk)])
    alert = statements.balance_alert_from_rows(rows)
    assert (alert.pk, alert.threshold, alert.below) == (other_account.pk, 5, True)


def test_locking_an_account_that_does_not_exist_refuses(account):
    with pytest.raises(Account.DoesNotExist):
        lock_account_row(2**62)
    with pytest.raises(Account.DoesNotExist):
        hold_settle(ticket=new_ticket(account).__class__(pk=1, account_id=2**62))


def test_statements_sent_together_each_see_what_the_one_before_wrote(account):
    ticket = new_ticket(account)
    fields = dict(account_id=account.pk, ticket_id=ticket.pk, amount=4, at=T0)

    inserted, read, nothing = execute_together(
        [
            statements.hold_insert(**fields),
            statements.hold_select(ticket.pk),
            ("SELECT 1 WHERE 1 = 0", []),
        ]
    )

    assert statements.hold_from_rows(read).pk == inserted[0][0]
    assert nothing == []
    assert execute_together([]) == []


def test_a_capture_and_a_settlement_take_few_round_trips(account):
    lot(account, 100, expires=3000)
    ticket = new_ticket(account)
    hold_capture(ticket=ticket, points=40)  # warm: the statements are built once per process
    hold_settle(ticket=ticket)
    ticket = new_ticket(account)

    with CaptureQueriesContext(connection) as capture:
        hold_capture(ticket=ticket, points=40)
    with CaptureQueriesContext(connection) as settle:
        hold = hold_settle(ticket=ticket)

    # Inside the test's transaction, the services' own transactions are savepoints; what is
    # left is what they send. Capture: the lock, the hold, the lots; then the entries, the lots'
    # update, the allocations. Settle: the lock and the hold; then the entries and the hold.
    assert len(round_trips(capture)) == 2
    assert len(round_trips(settle)) == 2
    assert hold.status == HoldStatus.SETTLED
    assert Hold.objects.get(pk=hold.pk).settled_at == hold.settled_at
    assert HoldAllocation.objects.get(hold=hold).amount == 40
    assert sorted(Entry.objects.filter(hold=hold).values_list("kind", "amount")) == [
        ("capture", 40),
        ("settle", 40),
    ]


SQLITE_SCRIPT = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from points.audit import ledger_violations
from points.models import Entry, Lot
from points.services import hold_capture, hold_change, hold_release, hold_settle, points_grant
from tests.factories import TicketFactory
ticket = TicketFactory()
points_grant(account=ticket.account, points=100, reason="r", actor=None)
first = hold_capture(ticket=ticket, points=40)
assert hold_capture(ticket=ticket, points=40).pk == first.pk
assert hold_settle(ticket=ticket).status == "settled"
other = TicketFactory(account=ticket.account)
hold_capture(ticket=other, points=30)
hold_change(ticket=other, points=50, reason="more", actor=None)
hold_release(ticket=other, reason="bug", actor=None)
print(list(Lot.objects.values_list("remaining", flat=True)))
print(sorted(Entry.objects.values_list("kind", "amount")))
print(list(ledger_violations()))
"""


def test_the_same_statements_run_on_sqlite(tmp_path):
    """The embedded run's database runs the hot path's statements one by one."""
    result = subprocess.run(
        [PYTHON, "-c", SQLITE_SCRIPT],
        cwd=PROJECT_ROOT,
        env=process_env(DEBUG="true", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    lots, entries, violations = result.stdout.strip().splitlines()
    assert lots == "[60]"
    assert entries == str(
        sorted([("grant", 100), ("capture", 40), ("settle", 40), ("capture", 30),
                ("capture", 20), ("release", 50)])
    )  # fmt: skip
    assert violations == "[]"
