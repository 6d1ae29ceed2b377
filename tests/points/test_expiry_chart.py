"""The points page's expiry chart stays bounded whatever the lots' dates: a bar for each month from
this one through the next 24, then one "later" bar; its text alternatives (description, bar list,
table) likewise. Far-future lots are inserted directly, as data that predates the bound on grants.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from points.models import Entry, EntryKind, Lot, LotKind
from points.selectors import add_months
from tests.html import attr, find, find_all, parse, text
from tests.web import count_queries, customer

pytestmark = pytest.mark.django_db

URL = "/communication-center/support-points/"
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def logged_in(client):
    with time_machine.travel(NOW, tick=False):
        account, user = customer(0)
        client.force_login(user)
        yield account, user


def insert_lots(account, user, expiries, points=10):
    """Grant lots straight into the tables, as rows written before grants were bounded."""
    lots = Lot.objects.bulk_create(
        Lot(
            account=account,
            kind=LotKind.GRANT,
            points=points,
            remaining=points,
            acquired_at=NOW - timedelta(days=1),
            expires_at=expires_at,
        )
        for expires_at in expiries
    )
    Entry.objects.bulk_create(
        Entry(
            account=account,
            kind=EntryKind.GRANT,
            amount=points,
            lot=lot,
            actor=user,
            reason="Old grant",
            created_at=lot.acquired_at,
        )
        for lot in lots
    )


def far_future(count: int, zone=UTC) -> list[datetime]:
    """`count` expiries spread over every month from next year to the last day of year 9999."""
    months = [add_months(NOW.date().replace(day=1), 12 + n * 95_000 // count) for n in range(count)]
    return [datetime.combine(month, time.min, tzinfo=zone) for month in months] + [
        datetime(9999, 12, 31, tzinfo=zone)
    ]


def chart_parts(content):
    root = parse(content)
    svg = find(root, "svg", class_="expiry-chart")
    return {
        "bars": [text(find(bar, "title")) for bar in find_all(svg, "rect")],
        "labels": [text(label) for label in find_all(svg, "text", class_="chart-month")],
        "desc": text(find(svg, "desc")),
        "list": [text(item) for item in find_all(find(root, "ul", class_="chart-list"), "li")],
        "table": [
            text(row)
            for row in find_all(find(find(root, "details", class_="chart-table"), "tbody"), "tr")
        ],
    }


def test_lots_expiring_up_to_year_9999_give_at_most_26_bars_and_a_small_page(client, logged_in):
    account, user = logged_in
    insert_lots(account, user, far_future(2_000))

    response = client.get(URL)

    assert response.status_code == 200
    assert len(response.content) < 60_000
    chart = chart_parts(response.content)
    assert len(chart["labels"]) == 26
    assert chart["labels"][0] == "Mar" and chart["labels"][-2:] == ["Mar", "Later"]
    assert len(chart["bars"]) <= 26
    assert chart["bars"][-1] == "From April 2029 on: 20,000"
    assert len(chart["table"]) == len(chart["list"]) == len(chart["bars"])
    assert chart["table"][-1] == "From April 2029 on 20,000"
    assert chart["desc"].endswith("20,000 points from April 2029 on.")


def test_the_page_makes_as_many_queries_with_far_future_lots_as_with_one(client, logged_in):
    account, user = logged_in
    insert_lots(account, user, [NOW + timedelta(days=30)])
    one = count_queries(client, URL)

    insert_lots(account, user, far_future(500))

    assert count_queries(client, URL) == one


def test_points_bought_today_are_in_the_last_month_not_later(client, logged_in):
    account, user = logged_in
    zone = ZoneInfo("UTC")
    insert_lots(
        account,
        user,
        [
            datetime(2029, 3, 10, tzinfo=zone),  # two years from today: the last monthly bar
            datetime(2029, 3, 31, 23, 59, 59, tzinfo=zone),
            datetime(2029, 4, 1, tzinfo=zone),  # the first instant of "later"
        ],
        points=5,
    )

    chart = chart_parts(client.get(URL).content)

    assert chart["bars"] == ["March 2029: 10", "From April 2029 on: 5"]
    assert chart["desc"] == "10 points in March 2029; 5 points from April 2029 on."
    assert chart["list"] == ["Mar 2029 10", "Later 5"]


def test_only_later_points_still_draw_the_whole_axis(client, logged_in):
    account, user = logged_in
    insert_lots(account, user, [datetime(2035, 6, 1, tzinfo=UTC)])

    chart = chart_parts(client.get(URL).content)

    assert chart["bars"] == ["From April 2029 on: 10"]
    assert len(chart["labels"]) == 26


def test_a_short_horizon_keeps_a_year_of_months(client, logged_in):
    account, user = logged_in
    insert_lots(account, user, [NOW + timedelta(days=20)])

    chart = chart_parts(client.get(URL).content)

    assert chart["bars"] == ["March 2027: 10"]
    assert len(chart["labels"]) == 12


def test_far_future_lots_in_a_time_zone_east_of_utc(client, logged_in, settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: 9999-12-31 there is still 9999 in UTC
    account, user = logged_in
    insert_lots(account, user, far_future(100, zone=ZoneInfo("Pacific/Kiritimati")))

    response = client.get(URL)

    assert response.status_code == 200
    assert len(chart_parts(response.content)["labels"]) == 26


def test_bars_are_drawn_inside_the_chart(client, logged_in):
    account, user = logged_in
    insert_lots(account, user, far_future(300))

    svg = find(parse(client.get(URL).content), "svg", class_="expiry-chart")

    width = float(attr(svg, "viewbox").split()[2])
    for bar in find_all(svg, "rect"):
        assert 0 <= float(attr(bar, "x")) < float(attr(bar, "x")) + float(attr(bar, "width"))
        assert float(attr(bar, "x")) + float(attr(bar, "width")) <= width
