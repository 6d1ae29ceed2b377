"""An expiry is dated when the lot expired, not when the expiry job recorded it.

The journal stays as written (append-only, the job's run time in `created_at`); the statement (the
points page's "Balance modifications" and the CSV export) dates an expiry at its lot's expiry
instant, orders it there, and keeps the run time as "recorded".
"""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine

from points.models import Entry, EntryKind
from points.services import lots_expire_due, points_purchase
from tests.html import find, find_all, parse, text
from tests.web import count_queries, customer

pytestmark = pytest.mark.django_db

URL = "/communication-center/support-points/"
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def expired_months_ago(client):
    """100 points bought on 5 January 2025 (expired 5 January 2027), 50 bought on 1 February 2027;
    the expiry job first runs today, 10 March 2027."""
    account, user = customer(0)
    points_purchase(
        account=account, points=100, payment_reference="old", at=datetime(2025, 1, 5, tzinfo=UTC)
    )
    points_purchase(
        account=account, points=50, payment_reference="new", at=datetime(2027, 2, 1, tzinfo=UTC)
    )
    with time_machine.travel(NOW, tick=False):
        assert lots_expire_due().lots == 1
        client.force_login(user)
        yield account


def modification_rows(content) -> list[str]:
    section = find(parse(content), "section", id="balance-modifications")
    return [text(row) for row in find_all(find(section, "tbody"), "tr")]


def test_the_points_page_dates_an_expiry_when_the_lot_expired(client, expired_months_ago):
    rows = modification_rows(client.get(URL).content)

    assert rows == [
        "Feb. 1, 2027 Purchase +50 Feb. 1, 2029",
        "Jan. 5, 2027 recorded March 10, 2027 Expired −100 expired",
        "Jan. 5, 2025 Purchase +100 Jan. 5, 2027",
    ]


def test_the_journal_itself_keeps_when_the_job_recorded_the_expiry(expired_months_ago):
    entry = Entry.objects.get(kind=EntryKind.EXPIRE)

    assert entry.created_at == NOW
    assert entry.lot.expires_at == datetime(2027, 1, 5, tzinfo=UTC)


def test_an_expiry_recorded_the_same_day_shows_one_date(client):
    account, user = customer(0)
    points_purchase(
        account=account, points=30, payment_reference="p", at=datetime(2025, 3, 10, tzinfo=UTC)
    )
    with time_machine.travel(NOW, tick=False):
        lots_expire_due()
        client.force_login(user)
        rows = modification_rows(client.get(URL).content)

    assert rows[0] == "March 10, 2027 Expired −30 expired"


def test_the_csv_statement_dates_and_orders_an_expiry_at_the_lots_expiry(
    client, expired_months_ago
):
    response = client.get(URL + "statement.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Date", "Recorded", "Change"]
    assert [(row[0], row[1], row[2], row[4]) for row in rows[1:]] == [
        ("2025-01-05T00:00:00+00:00", "2025-01-05T00:00:00+00:00", "purchase", "100"),
        ("2027-01-05T00:00:00+00:00", "2027-03-10T12:00:00+00:00", "expired", "-100"),
        ("2027-02-01T00:00:00+00:00", "2027-02-01T00:00:00+00:00", "purchase", "50"),
    ]


def test_dating_expiries_costs_no_extra_query(client, expired_months_ago):
    with time_machine.travel(NOW, tick=False):
        expired = count_queries(client, URL)
        account, user = customer(0)
        points_purchase(account=account, points=10, payment_reference="fresh")
        client.force_login(user)

        assert count_queries(client, URL) == expired
