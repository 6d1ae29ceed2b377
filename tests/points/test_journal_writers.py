"""points/journal.py, the one writer of the journal: what each writer writes, and that no other
code creates journal entries."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from points import journal
from points.models import Entry, EntryKind, Hold, HoldAllocation, Lot, LotKind
from points.payments import PaymentBackend
from points.services import order_create
from tests.factories import PointPackageFactory, account_owner
from tests.points.support import T0, app_modules, chain, days, new_ticket

pytestmark = pytest.mark.django_db

FIELDS = (
    "account_id",
    "kind",
    "amount",
    "lot_id",
    "hold_id",
    "order_id",
    "actor_id",
    "reason",
    "created_at",
)
AT = T0 + days(1)


def written() -> list[tuple]:
    return list(Entry.objects.order_by("id").values_list(*FIELDS))


def new_lot(account, points=10, *, kind=LotKind.GRANT, remaining=None, **fields) -> Lot:
    return Lot.objects.create(
        account=account,
        kind=kind,
        points=points,
        remaining=points if remaining is None else remaining,
        acquired_at=T0,
        expires_at=T0 + days(30),
        **fields,
    )


def new_hold(account, amount=0) -> Hold:
    return Hold.objects.create(
        account=account, ticket=new_ticket(account), amount=amount, created_at=T0
    )


# --- Credits: one entry for the new lot ---------------------------------------------------------


def test_a_purchase_is_one_entry_of_the_lot_and_its_order(account, staff):
    order = order_create(
        account=account,
        package=PointPackageFactory(points=10),
        backend=PaymentBackend.MANUAL,
        actor=account_owner(account),
    )
    lot = new_lot(account, kind=LotKind.PURCHASE, payment_reference="PAY-1", order=order)

    entry = journal.record_purchase(lot=lot, actor=staff)

    assert written() == [(account.pk, "purchase", 10, lot.pk, None, order.pk, staff.pk, "", T0)]
    assert entry.pk == Entry.objects.get().pk


def test_a_grant_is_one_entry_of_the_lot_with_its_reason(account, staff):
    lot = new_lot(account, 25)

    journal.record_grant(lot=lot, actor=staff, reason="goodwill")

    assert written() == [(account.pk, "grant", 25, lot.pk, None, None, staff.pk, "goodwill", T0)]


def test_a_positive_adjustment_is_one_entry_of_the_lot(account, staff):
    lot = new_lot(account, 7, kind=LotKind.ADJUSTMENT)

    journal.record_adjustment_credit(lot=lot, actor=staff, reason="typo")

    assert written() == [
        (account.pk, "adjustment_credit", 7, lot.pk, None, None, staff.pk, "typo", T0)
    ]


# --- Movements of existing lots -----------------------------------------------------------------


def test_a_negative_adjustment_is_one_entry_per_lot_taken_from(account, staff):
    first, second = new_lot(account), new_lot(account)

    entries = journal.record_adjustment_debits(
        account_id=account.pk, taken=[(first, 10), (second, 3)], actor=staff, reason="x", at=AT
    )

    assert written() == [
        (account.pk, "adjustment_debit", 10, first.pk, None, None, staff.pk, "x", AT),
        (account.pk, "adjustment_debit", 3, second.pk, None, None, staff.pk, "x", AT),
    ]
    assert [entry.pk for entry in entries] == sorted(Entry.objects.values_list("pk", flat=True))


def test_a_capture_is_one_entry_per_lot_with_the_hold(account):
    first, second = new_lot(account), new_lot(account)
    hold = new_hold(account)

    journal.record_captures(
        hold=hold, taken=[(first, 10), (second, 5)], actor=None, reason="", at=AT
    )

    assert written() == [
        (account.pk, "capture", 10, first.pk, hold.pk, None, None, "", AT),
        (account.pk, "capture", 5, second.pk, hold.pk, None, None, "", AT),
    ]


@pytest.mark.parametrize(
    ("after_settlement", "back", "reissued"),
    [(False, "release", "release_reissued"), (True, "refund", "refund_reissued")],
    ids=["released", "refunded"],
)
def test_a_return_goes_back_to_its_lot_or_into_a_new_one(
    account, staff, after_settlement, back, reissued
):
    open_lot, expired_lot = new_lot(account), new_lot(account)
    into = new_lot(account, 4, kind=LotKind.RETURN, source_lot=expired_lot)
    hold = new_hold(account)

    journal.record_returns(
        hold=hold,
        returned=[journal.Returned(open_lot, 6), journal.Returned(expired_lot, 4, into=into)],
        after_settlement=after_settlement,
        actor=staff,
        reason="bug",
        at=AT,
    )

    assert written() == [
        (account.pk, back, 6, open_lot.pk, hold.pk, None, staff.pk, "bug", AT),
        (account.pk, reissued, 4, expired_lot.pk, hold.pk, None, staff.pk, "bug", AT),
        (account.pk, "return_lot", 4, into.pk, hold.pk, None, staff.pk, "bug", AT),
    ]


# --- Whole sets: INSERT … SELECT ----------------------------------------------------------------


def test_a_settlement_is_one_entry_per_allocation_that_holds_points(account, staff):
    first, second, emptied = new_lot(account), new_lot(account), new_lot(account)
    hold = new_hold(account, amount=12)
    for lot, amount in [(first, 10), (second, 2), (emptied, 0)]:
        HoldAllocation.objects.create(hold=hold, lot=lot, amount=amount)
    other_hold = new_hold(account, amount=1)
    HoldAllocation.objects.create(hold=other_hold, lot=first, amount=1)

    points = journal.record_settlement(hold=hold, actor=staff, reason="resolved", at=AT)

    assert points == 12
    assert sorted(written(), key=lambda row: row[2]) == [
        (account.pk, "settle", 2, second.pk, hold.pk, None, staff.pk, "resolved", AT),
        (account.pk, "settle", 10, first.pk, hold.pk, None, staff.pk, "resolved", AT),
    ]


def test_a_settlement_by_no_one_records_no_actor(account):
    hold = new_hold(account, amount=3)
    HoldAllocation.objects.create(hold=hold, lot=new_lot(account), amount=3)

    journal.record_settlement(hold=hold, actor=None, reason="", at=AT)

    assert Entry.objects.get().actor_id is None


def test_an_expiry_is_one_entry_per_lot_with_points_left(account, other_account):
    mine, theirs = new_lot(account, 10, remaining=4), new_lot(other_account, 8)
    emptied = new_lot(account, 5, remaining=0)
    new_lot(account, 9)  # not in the batch

    points = journal.record_expiries(
        lots=Lot.objects.filter(pk__in=[mine.pk, theirs.pk, emptied.pk]), at=AT
    )

    assert points == 12
    assert written() == [
        (account.pk, "expire", 4, mine.pk, None, None, None, "", AT),
        (other_account.pk, "expire", 8, theirs.pk, None, None, None, "", AT),
    ]


def test_the_set_based_writer_inserts_every_column_of_the_model(account):
    """The INSERT's column list is the model's, not a list typed by hand."""
    new_lot(account)

    with CaptureQueriesContext(connection) as queries:
        journal.record_expiries(lots=Lot.objects.all(), at=AT)

    (insert,) = [query["sql"] for query in queries if query["sql"].startswith("INSERT")]
    columns = re.match(r'INSERT INTO "points_entry" \(([^)]*)\) SELECT', insert).group(1)
    model_columns = [
        connection.ops.quote_name(field.column)
        for field in Entry._meta.concrete_fields
        if not field.primary_key
    ]
    assert columns.split(", ") == model_columns


def test_the_set_based_writer_refuses_a_field_the_model_does_not_have(account):
    with pytest.raises(TypeError, match="no field note"):
        journal._insert_select(Lot.objects.all(), note="x")
    with pytest.raises(TypeError, match="Entry.created_at needs a value"):
        journal._insert_select(Lot.objects.all(), account=1, kind="expire", amount=1, lot=1)
    assert not Entry.objects.exists()


def test_every_kind_of_entry_has_a_writer(account, staff):
    lot = new_lot(account, kind=LotKind.PURCHASE, payment_reference="PAY-1")
    journal.record_purchase(lot=lot, actor=None)
    journal.record_grant(lot=new_lot(account), actor=staff, reason="r")
    journal.record_adjustment_credit(lot=new_lot(account), actor=staff, reason="r")
    journal.record_adjustment_debits(
        account_id=account.pk, taken=[(lot, 1)], actor=None, reason="r", at=AT
    )
    hold = new_hold(account, amount=1)
    HoldAllocation.objects.create(hold=hold, lot=lot, amount=1)
    journal.record_captures(hold=hold, taken=[(lot, 1)], actor=None, reason="", at=AT)
    journal.record_settlement(hold=hold, actor=None, reason="", at=AT)
    into = new_lot(account, 1, kind=LotKind.RETURN, source_lot=lot)
    for after_settlement in (False, True):
        journal.record_returns(
            hold=hold,
            returned=[journal.Returned(lot, 1), journal.Returned(lot, 1, into=into)],
            after_settlement=after_settlement,
            actor=None,
            reason="r",
            at=AT,
        )
    journal.record_expiries(lots=Lot.objects.filter(pk=lot.pk), at=AT)
    journal.record_order_refund(lot=lot, points=1, actor=staff, reason="r", at=AT)

    assert set(Entry.objects.values_list("kind", flat=True)) == set(EntryKind.values)


# --- Nothing else writes the journal --------------------------------------------------------------

WRITER = Path(journal.__file__).resolve()
MANAGER_WRITES = {"create", "bulk_create", "get_or_create", "update_or_create"}
RAW_INSERT = re.compile(r"insert\s+into", re.IGNORECASE)


def entry_writes(source: str) -> list[str]:
    """Where `source` creates journal entries: the Entry model called or its manager asked to
    create, its table named in SQL, or the model fetched from the app registry."""
    tree = ast.parse(source)
    names = {"Entry"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {
                alias.asname for alias in node.names if alias.name == "Entry" and alias.asname
            }

    def is_entry(node) -> bool:
        return (isinstance(node, ast.Name) and node.id in names) or (
            isinstance(node, ast.Attribute) and node.attr in names
        )

    def mentions_entry(node) -> bool:
        return any(is_entry(link) for link in chain(node))

    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call):
            func = node.func
            if is_entry(func):
                found.append(f"{line}: Entry(...)")
            elif isinstance(func, ast.Attribute) and func.attr in MANAGER_WRITES:
                if mentions_entry(func.value):
                    found.append(f"{line}: Entry manager {func.attr}()")
            if isinstance(func, ast.Name | ast.Attribute) and "get_model" in ast.unparse(func):
                if any(
                    isinstance(arg, ast.Constant) and str(arg.value).endswith("Entry")
                    for arg in node.args
                ):
                    found.append(f"{line}: the Entry model from the app registry")
        elif isinstance(node, ast.Attribute) and node.attr == "db_table" and mentions_entry(node):
            found.append(f"{line}: the journal's table name")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if RAW_INSERT.search(node.value) and Entry._meta.db_table in node.value:
                found.append(f"{line}: an INSERT into the journal's table")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "Entry(account=account, kind='grant', amount=1)",
        "models.Entry(kind='grant')",
        "Entry.objects.create(kind='grant')",
        "Entry.objects.bulk_create(entries)",
        "Entry.objects.using('default').bulk_create(entries)",
        "Entry._default_manager.get_or_create(kind='grant')",
        "from points.models import Entry as Line\nLine(kind='grant').save()",
        "from points.models import Entry as Line\nLine.objects.create()",
        "cursor.execute('INSERT INTO points_entry (amount) VALUES (1)')",
        "cursor.execute(f'insert  into {Entry._meta.db_table} (amount) SELECT 1')",
        "apps.get_model('points', 'Entry').objects.create()",
        "apps.get_model('points.Entry')",
    ],
)
def test_the_guard_catches_every_way_of_creating_entries(source):
    assert entry_writes(source)


@pytest.mark.parametrize(
    "source",
    [
        "Entry.objects.filter(account=account).count()",
        "HoldAllocation.objects.bulk_create(allocations)",
        "changelist_url(Entry, account__id__exact=1)",
        "cursor.execute('SELECT amount FROM points_entry')",
        "LogEntry.objects.create(user=user)",
    ],
)
def test_the_guard_lets_reads_and_other_models_be(source):
    assert entry_writes(source) == []


def test_the_guard_finds_the_writers_in_the_journal_module():
    assert len(entry_writes(WRITER.read_text())) >= 4


def test_no_module_but_the_journal_creates_entries():
    modules = app_modules()
    assert WRITER in modules and len(modules) > 50
    writers = {
        str(path.relative_to(settings.BASE_DIR)): found
        for path in modules
        if path != WRITER and (found := entry_writes(path.read_text()))
    }
    assert writers == {}
