"""The journal is append-only, and the database itself refuses rows that break the ledger rules."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from accounts.models import Membership, MembershipRole
from points.models import (
    Entry,
    EntryKind,
    Hold,
    HoldAllocation,
    HoldStatus,
    JournalIsAppendOnly,
    Lot,
    LotKind,
    Order,
    OrderStatus,
    PointPackage,
)
from points.payments import PaymentBackend
from points.services import hold_settle, points_purchase
from tests.factories import UserFactory, account_owner
from tests.points.support import T0, capture, days, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(account):
    grant(account, 10, expires_at=T0 + days(30))
    return Entry.objects.get()


# --- Append-only through the ORM ------------------------------------------------------------------


def test_an_entry_cannot_be_saved_again(entry):
    entry.reason = "rewritten"
    with pytest.raises(JournalIsAppendOnly):
        entry.save()
    assert Entry.objects.get().reason == "goodwill"


def test_an_entry_cannot_be_deleted(entry):
    with pytest.raises(JournalIsAppendOnly):
        entry.delete()
    assert Entry.objects.count() == 1


def test_entries_cannot_be_updated_or_deleted_in_bulk(entry):
    with pytest.raises(JournalIsAppendOnly):
        Entry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(JournalIsAppendOnly):
        Entry.objects.update(reason="")
    with pytest.raises(JournalIsAppendOnly):
        Entry.objects.all().delete()
    entry.reason = "rewritten"
    # bulk_update runs in an atomic block without savepoint; ours lets the test go on.
    with pytest.raises(JournalIsAppendOnly), transaction.atomic():
        Entry.objects.bulk_update([entry], ["reason"])
    assert list(Entry.objects.values_list("amount", "reason")) == [(10, "goodwill")]


# --- Append-only in PostgreSQL --------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE points_entry SET amount = amount + 1 WHERE id = %s",
        "UPDATE points_entry SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM points_entry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_entry(entry, sql):
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert list(Entry.objects.values_list("amount", "reason")) == [(10, "goodwill")]


def test_the_database_still_accepts_new_entries(entry):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO points_entry (account_id, kind, amount, lot_id, reason, created_at) "
            "SELECT account_id, kind, 1, lot_id, 'added', created_at "
            "FROM points_entry WHERE id = %s",
            [entry.pk],
        )
    assert Entry.objects.count() == 2


# --- Constraints ----------------------------------------------------------------------------------


def refused(create):
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            create()


def lot_row(account, **overrides):
    fields = {
        "account": account,
        "kind": LotKind.GRANT,
        "points": 10,
        "remaining": 10,
        "acquired_at": T0,
        "expires_at": T0 + days(30),
    }
    return Lot(**{**fields, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [
        {"remaining": 11},
        {"remaining": -1},
        {"points": 0, "remaining": 0},
        {"points": -5, "remaining": -5},
        {"expires_at": T0},
        {"expires_at": T0 - days(1)},
        {"kind": LotKind.PURCHASE},
        {"payment_reference": "PAY-1"},
        {"kind": LotKind.RETURN},
        {"expired_at": T0 + days(30)},
    ],
    ids=lambda overrides: ",".join(f"{k}={v}" for k, v in overrides.items()),
)
def test_the_database_refuses_a_bad_lot(account, overrides):
    refused(lot_row(account, **overrides).save)


def test_the_database_refuses_a_lot_problem_that_needs_other_rows(account, other_account):
    lot = grant(account, 10, expires_at=T0 + days(30))
    points_purchase(account=account, points=10, payment_reference="PAY-1", at=T0)
    order = Order.objects.create(
        account=account,
        points=10,
        price=10,
        currency="USD",
        payment_backend=PaymentBackend.MANUAL,
        created_by=account_owner(account),
    )
    # A second lot for the same payment reference, even for another account.
    refused(
        lot_row(other_account, kind=LotKind.PURCHASE, payment_reference="PAY-1").save,
    )
    # Only purchase lots come from an order; a return lot needs its source.
    refused(lot_row(account, order=order).save)
    refused(lot_row(account, kind=LotKind.GRANT, source_lot=lot).save)
    # The expiry job zeroes what it expires.
    refused(lambda: Lot.objects.filter(pk=lot.pk).update(expired_at=T0 + days(30)))
    lot_row(account, kind=LotKind.RETURN, source_lot=lot).save()
    assert Lot.objects.filter(kind=LotKind.RETURN, source_lot=lot).count() == 1


@pytest.fixture
def settled_hold(account):
    grant(account, 100, expires_at=T0 + days(30))
    hold = capture(account, 40)
    return hold_settle(ticket=hold.ticket, at=T0)


def test_a_ticket_has_at_most_one_hold(account, settled_hold):
    refused(
        lambda: Hold.objects.create(
            account=account, ticket=settled_hold.ticket, amount=0, created_at=T0
        )
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": -1},
        # Released holds keep nothing; released and settled never both.
        {"status": HoldStatus.RELEASED, "released_at": T0, "settled_at": None},
        {"released_at": T0},
        {"status": HoldStatus.RELEASED, "released_at": T0},
        {"status": HoldStatus.OPEN},
        {"settled_at": None},
        {"status": HoldStatus.REFUNDED, "refunded_at": T0},
        {"status": HoldStatus.REFUNDED, "amount": 0},
        {"status": HoldStatus.REFUNDED, "amount": 0, "refunded_at": T0, "settled_at": None},
        {"status": "lost"},
    ],
    ids=lambda changes: ",".join(f"{k}={v}" for k, v in changes.items()),
)
def test_the_database_refuses_a_bad_hold(settled_hold, changes):
    refused(lambda: Hold.objects.filter(pk=settled_hold.pk).update(**changes))


def test_the_database_accepts_consistent_hold_states(settled_hold):
    Hold.objects.filter(pk=settled_hold.pk).update(
        status=HoldStatus.REFUNDED, amount=0, refunded_at=T0
    )
    assert Hold.objects.get(pk=settled_hold.pk).status == HoldStatus.REFUNDED


def test_the_database_refuses_bad_allocations(account, settled_hold):
    allocation = HoldAllocation.objects.get(hold=settled_hold)
    refused(lambda: HoldAllocation.objects.filter(pk=allocation.pk).update(amount=-1))
    refused(
        lambda: HoldAllocation.objects.create(hold=settled_hold, lot_id=allocation.lot_id, amount=0)
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": EntryKind.GRANT, "amount": 0},
        {"kind": EntryKind.GRANT, "amount": -10},
        {"kind": EntryKind.CAPTURE, "amount": 10},
        {"kind": EntryKind.SETTLE, "amount": 10},
        {"kind": EntryKind.REFUND, "amount": 10},
        {"kind": EntryKind.RELEASE_REISSUED, "amount": 10},
    ],
    ids=lambda fields: f"{fields['kind']}={fields['amount']}",
)
def test_the_database_refuses_a_bad_entry(entry, fields):
    refused(
        lambda: Entry.objects.create(
            account_id=entry.account_id, lot_id=entry.lot_id, created_at=T0, **fields
        )
    )


def order_row(account, **overrides):
    fields = {
        "account": account,
        "points": 100,
        "price": 100,
        "currency": "USD",
        "payment_backend": PaymentBackend.MANUAL,
        "created_by": account_owner(account),
    }
    return Order(**{**fields, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [
        {"points": 0},
        {"price": -1},
        {"status": OrderStatus.PAID},
        {"paid_at": T0},
        {"status": OrderStatus.CANCELLED, "paid_at": T0},
    ],
    ids=lambda overrides: ",".join(f"{k}={v}" for k, v in overrides.items()),
)
def test_the_database_refuses_a_bad_order(account, overrides):
    refused(order_row(account, **overrides).save)


def test_the_database_refuses_a_duplicate_order_payment_reference(account, other_account):
    order_row(account, status=OrderStatus.PAID, paid_at=T0, payment_reference="BANK-1").save()
    refused(
        order_row(
            other_account, status=OrderStatus.PAID, paid_at=T0, payment_reference="BANK-1"
        ).save
    )


def test_the_database_refuses_bad_packages_and_two_owners(account):
    refused(lambda: PointPackage.objects.create(name="none", points=0, price=0))
    refused(lambda: PointPackage.objects.create(name="negative", points=10, price=-1))
    refused(
        lambda: Membership.objects.create(
            account=account, user=UserFactory(), role=MembershipRole.OWNER
        )
    )
    Membership.objects.create(account=account, user=UserFactory(), role=MembershipRole.MEMBER)


# --- PROTECT --------------------------------------------------------------------------------------


def test_rows_the_journal_refers_to_cannot_be_deleted(account, settled_hold):
    lot = Lot.objects.get()
    with pytest.raises(ProtectedError):
        lot.delete()
    with pytest.raises(ProtectedError):
        settled_hold.delete()
    with pytest.raises(ProtectedError):
        settled_hold.ticket.delete()
    with pytest.raises(ProtectedError):
        account.delete()
    with pytest.raises(ProtectedError):
        HoldAllocation.objects.get().lot.delete()
    assert (Lot.objects.count(), Hold.objects.count(), Entry.objects.count()) == (1, 1, 3)


def test_a_paid_order_with_its_lot_cannot_be_deleted(account):
    order = order_row(account, status=OrderStatus.PAID, paid_at=T0, payment_reference="B-1")
    order.save()
    points_purchase(account=account, points=100, payment_reference="B-1", order=order, at=T0)
    with pytest.raises(ProtectedError):
        order.delete()
    assert Order.objects.filter(pk=order.pk).exists()
