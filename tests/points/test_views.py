"""Communication center → Technical support points over HTTP: the statement page with its header,
its three parts and the expiry chart, the CSV export, buying points and the order page."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from points.models import (
    Entry,
    EntryKind,
    Hold,
    HoldStatus,
    Lot,
    LotKind,
    Order,
    OrderStatus,
)
from points.selectors import points_available
from points.services import (
    hold_refund,
    order_create,
    order_mark_paid,
    points_adjust,
    points_grant,
)
from tests.factories import PointPackageFactory, StaffUserFactory, TicketFactory
from tests.html import attr, find, find_all, parse, text
from tests.web import category, count_queries, customer, db_state
from tickets import services as tickets

pytestmark = pytest.mark.django_db

URL = "/communication-center/support-points/"
BUY = URL + "buy/"
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def logged_in(client, frozen):
    account, user = customer(0)
    client.force_login(user)
    return account, user


def buy(account, user, points, *, price=None, at=NOW):
    package = PointPackageFactory(points=points, price=price or Decimal(points))
    order = order_create(account=account, package=package, backend="manual", actor=user)
    order_mark_paid(order=order, payment_reference=f"ref-{order.pk}", actor=user, at=at)
    return order


def file_ticket(account, user, name="Incident solving", **options):
    return tickets.ticket_file(
        account=account,
        filed_by=user,
        category=category(name),
        subject=options.pop("subject", "Blank checkout"),
        description="It is blank.",
        **options,
    )


def section_rows(root, section_id):
    section = find(root, "section", id=section_id)
    body = find_all(section, "tbody")
    return [text(row) for row in find_all(body[0], "tr")] if body else []


# --- The page -----------------------------------------------------------------------------------


def test_points_page_needs_a_customer_login(client):
    assert client.get(URL).status_code == 302
    client.force_login(StaffUserFactory())
    assert client.get(URL)["Location"] == "/admin/"


def test_header_shows_available_captured_and_the_next_expiry(client, logged_in):
    account, user = logged_in
    buy(account, user, 150, at=NOW - timedelta(days=700))  # expires 2027-04-09
    buy(account, user, 500)
    file_ticket(account, user)

    root = parse(client.get(URL).content)

    stats = find(root, "section", class_="stats")
    cards = [text(card) for card in find_all(stats, "div", class_="stat")]
    assert cards[0].startswith("Available 610 points")
    assert cards[1].startswith("Captured 40 points")
    # The capture took the soonest-expiring points: 110 of the old purchase are left to expire.
    assert cards[2] == "Next expiry 110 points expire on April 9, 2027 (at the start of the day)."


def test_the_three_parts_list_modifications_tickets_in_progress_and_resolved_tickets(
    client, logged_in
):
    account, user = logged_in
    order = buy(account, user, 200)
    staff = StaffUserFactory()
    points_grant(account=account, points=15, reason="Sorry for the delay", actor=staff)
    points_adjust(account=account, points=-5, reason="Duplicate grant", actor=staff)
    in_progress = file_ticket(account, user, subject="Still open")
    resolved = file_ticket(account, user, "Consultation on software features", subject="Done one")
    tickets.ticket_resolve(ticket=resolved, actor=staff, reason="Answered")
    cancelled = file_ticket(account, user, subject="Withdrawn")
    tickets.ticket_cancel(ticket=cancelled, actor=user)

    root = parse(client.get(URL).content)

    modifications = section_rows(root, "balance-modifications")
    assert len(modifications) == 4
    assert any(
        "Returned from a ticket" in row and f"Ticket #{cancelled.pk}" in row and "+40" in row
        for row in modifications
    )
    assert any("Manual adjustment (−)" in row and "−5" in row for row in modifications)
    assert any(
        "Grant" in row and "Sorry for the delay" in row and "+15" in row for row in modifications
    )
    purchase = next(row for row in modifications if row.startswith("March 10, 2027 Purchase"))
    assert f"Order #{order.pk}" in purchase and "+200" in purchase and "March 10, 2029" in purchase
    links = {
        attr(a, "href") for a in find_all(find(root, "section", id="balance-modifications"), "a")
    }
    assert f"/communication-center/support-points/orders/{order.pk}/" in links
    assert f"/tickets/{cancelled.pk}/" in links

    assert section_rows(root, "tickets-in-progress") == [
        f"#{in_progress.pk} Still open Incident solving Open March 10, 2027 40"
    ]
    assert section_rows(root, "resolved-tickets") == [
        f"#{resolved.pk} Done one Consultation on software features March 10, 2027 10"
    ]


@override_settings(TIME_ZONE="Pacific/Auckland")
def test_the_ticket_rows_show_status_link_local_dates_and_returned_points(client, logged_in):
    account, user = logged_in
    points_grant(account=account, points=5000, reason="Bench", actor=None)
    staff = StaffUserFactory()
    in_progress = file_ticket(account, user, subject="<b>Bold</b> & co")
    tickets.ticket_reply(ticket=in_progress, author=staff, body="Which version?")
    tickets.ticket_change_cost(ticket=in_progress, points=1200, reason="Bigger", actor=staff)
    refunded = file_ticket(account, user, subject="A bug after all")
    tickets.ticket_resolve(ticket=refunded, actor=staff, reason="Answered")
    hold_refund(ticket=refunded, reason="Our bug", actor=staff)

    root = parse(client.get(URL).content)

    # Captured and deducted at 12:00 UTC: already the next day in Auckland.
    assert section_rows(root, "tickets-in-progress") == [
        f"#{in_progress.pk} <b>Bold</b> & co Incident solving In progress March 11, 2027 1,200"
    ]
    assert section_rows(root, "resolved-tickets") == [
        f"#{refunded.pk} A bug after all Incident solving · all points returned afterwards"
        " March 11, 2027 0"
    ]
    progress = find(root, "section", id="tickets-in-progress")
    assert attr(find(progress, "a"), "href") == f"/tickets/{in_progress.pk}/"
    assert attr(find(progress, "span"), "class") == "badge badge-in_progress"


def test_a_new_customer_sees_empty_parts_and_where_to_buy(client, logged_in):
    root = parse(client.get(URL).content)

    assert "Nothing yet" in text(find(root, "section", id="balance-modifications"))
    assert "No points are captured" in text(find(root, "section", id="tickets-in-progress"))
    assert "You have no available points, so none will expire." in text(root)
    assert find(root, "a", href=BUY, class_="button")


def test_each_part_is_paginated_on_its_own(client, logged_in):
    account, user = logged_in
    for n in range(25):
        points_grant(account=account, points=1, reason=f"Grant {n}", actor=None)

    first = parse(client.get(URL).content)
    second = parse(client.get(URL + "?changes=2").content)

    assert len(section_rows(first, "balance-modifications")) == 20
    assert len(section_rows(second, "balance-modifications")) == 5
    nav = find(find(first, "section", id="balance-modifications"), "nav", class_="pagination")
    assert attr(find(nav, "a", rel="next"), "href") == "?changes=2#balance-modifications"


def test_another_account_sees_none_of_these_points(client, logged_in):
    other, other_user = customer(300)
    file_ticket(other, other_user, subject="Their ticket")

    content = client.get(URL).content.decode()

    assert "Their ticket" not in content
    assert "300" not in text(find(parse(content), "section", class_="stats"))


# --- The expiry chart ---------------------------------------------------------------------------


def test_chart_shows_the_points_expiring_each_month_as_svg_with_a_text_alternative(
    client, logged_in
):
    account, user = logged_in
    buy(account, user, 150, at=NOW - timedelta(days=700))  # expires April 2027
    buy(account, user, 500, at=NOW - timedelta(days=400))  # expires February 2028

    root = parse(client.get(URL).content)

    svg = find(root, "svg", class_="expiry-chart")
    assert attr(svg, "role") == "img"
    title = find(svg, "title", id="expiry-chart-title")
    assert text(title) == "Points expiring in each of the coming months"
    assert text(find(svg, "desc")) == "150 points in April 2027; 500 points in February 2028."
    bars = find_all(svg, "rect")
    assert [text(find(bar, "title")) for bar in bars] == ["April 2027: 150", "February 2028: 500"]
    assert float(attr(bars[1], "height")) > float(attr(bars[0], "height")) > 0
    months = [text(label) for label in find_all(svg, "text", class_="chart-month")]
    assert months[0] == "Mar" and months[-1] == "Feb" and len(months) == 12
    table = find(find(root, "details", class_="chart-table"), "table")
    assert [text(row) for row in find_all(find(table, "tbody"), "tr")] == [
        "April 2027 150",
        "February 2028 500",
    ]
    assert not find_all(root, "script")


def test_chart_leaves_out_expired_and_captured_points(client, logged_in):
    account, user = logged_in
    buy(account, user, 100, at=NOW - timedelta(days=800))  # already expired
    buy(account, user, 60)
    file_ticket(account, user)

    desc = text(find(parse(client.get(URL).content), "desc"))

    assert desc == "20 points in March 2029."


# --- CSV export ---------------------------------------------------------------------------------


def test_the_statement_downloads_as_csv_with_every_journal_line(client, logged_in):
    account, user = logged_in
    order = buy(account, user, 100)
    ticket = file_ticket(account, user, subject="=HYPERLINK(evil)")
    tickets.ticket_resolve(ticket=ticket, actor=StaffUserFactory(), reason="Solved")

    response = client.get(URL + "statement.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="support-points-2027-03-10.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "Date",
        "Recorded",
        "Change",
        "Points",
        "Available points change",
        "Ticket",
        "Order",
        "Lot",
        "Lot expires",
        "Reason",
    ]
    assert [(r[2], r[3], r[4]) for r in rows[1:]] == [
        ("purchase", "100", "100"),
        ("captured for a ticket", "40", "-40"),
        ("deducted for a ticket", "40", "0"),
    ]
    assert rows[1][6] == f"#{order.pk}"
    assert rows[2][5] == f"#{ticket.pk} '=HYPERLINK(evil)"
    assert rows[1][0] == rows[1][1] == "2027-03-10T12:00:00+00:00"
    assert rows[1][8] == "2029-03-10"


def test_the_export_contains_only_the_accounts_own_lines(client, logged_in):
    other, other_user = customer(0)
    buy(other, other_user, 999)

    response = client.get(URL + "statement.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1


# --- Buying points ------------------------------------------------------------------------------


def test_buy_page_lists_packages_on_sale_with_points_and_price(client, logged_in):
    PointPackageFactory(name="Starter", points=100, price=Decimal("100.00"))
    PointPackageFactory(name="Business", points=500, price=Decimal("450.00"), currency="EUR")
    PointPackageFactory(name="Retired", points=50, is_active=False)

    root = parse(client.get(BUY).content)

    cards = [text(card) for card in find_all(root, "li", class_="package")]
    assert cards == [
        "Starter 100 points 100.00 USD Buy 100 points",
        "Business 500 points 450.00 EUR Buy 500 points",
    ]
    assert "demo mode" in text(root)


@override_settings(PAYMENT_BACKEND="demo")
def test_buying_with_the_demo_backend_adds_the_points_at_once(client, logged_in):
    account, _user = logged_in
    package = PointPackageFactory(points=250, price=Decimal("240.00"))

    response = client.post(BUY, {"package": package.pk}, follow=True)

    order = Order.objects.get()
    assert response.redirect_chain == [(f"{URL}orders/{order.pk}/", 302)]
    assert order.status == OrderStatus.PAID
    assert Lot.objects.get(order=order).kind == LotKind.PURCHASE
    assert points_available(account=account) == 250
    root = parse(response.content)
    assert "Payment received: 250 points were added" in text(find(root, "div", class_="messages"))
    assert "Points valid until March 10, 2029" in text(find(root, "dl", class_="details"))


@override_settings(PAYMENT_BACKEND="manual")
def test_buying_with_the_manual_backend_waits_for_payment(client, logged_in):
    account, _user = logged_in
    package = PointPackageFactory(points=100)

    response = client.post(BUY, {"package": package.pk}, follow=True)

    order = Order.objects.get()
    assert (order.status, order.payment_backend) == (OrderStatus.PENDING, "manual")
    assert points_available(account=account) == 0
    assert "waiting for the payment" in text(parse(response.content))
    assert "send you an invoice" in text(parse(client.get(BUY).content))


def test_buying_after_running_short_offers_the_way_back_to_the_ticket(client, logged_in):
    package = PointPackageFactory(points=100)

    page = parse(client.get(BUY + "?next=/tickets/new/").content)
    assert attr(find(page, "input", name="next"), "value") == "/tickets/new/"
    response = client.post(BUY, {"package": package.pk, "next": "/tickets/new/"}, follow=True)

    link = find(parse(response.content), "a", href="/tickets/new/", class_="button")
    assert text(link) == "Continue filing your ticket"


def test_an_outside_next_address_is_ignored(client, logged_in):
    package = PointPackageFactory(points=100)

    response = client.post(BUY, {"package": package.pk, "next": "https://evil.example.com/"})

    assert "?" not in response["Location"]


def test_a_package_no_longer_on_sale_cannot_be_bought(client, logged_in):
    package = PointPackageFactory(points=100, is_active=False)
    before = db_state()

    response = client.post(BUY, {"package": package.pk}, follow=True)

    assert "no longer on sale" in text(find(parse(response.content), "div", class_="messages"))
    assert db_state() == before


def test_orders_are_listed_on_the_buy_page(client, logged_in):
    account, user = logged_in
    paid = buy(account, user, 100)

    root = parse(client.get(BUY).content)

    rows = [text(row) for row in find_all(find(find(root, "section", id="orders"), "tbody"), "tr")]
    assert rows == [f"#{paid.pk} March 10, 2027 100 100.00 USD Paid"]


@override_settings(PAYMENT_BACKEND="manual")
def test_a_pending_order_can_be_cancelled_by_its_account(client, logged_in):
    account, _user = logged_in
    client.post(BUY, {"package": PointPackageFactory(points=100).pk})
    order = Order.objects.get()

    client.post(f"{URL}orders/{order.pk}/cancel/")

    assert Order.objects.get().status == OrderStatus.CANCELLED


def test_another_accounts_order_is_a_404_and_cannot_be_cancelled(client, logged_in):
    other, other_user = customer(0)
    package = PointPackageFactory()
    order = order_create(account=other, package=package, backend="manual", actor=other_user)
    before = db_state()

    assert client.get(f"{URL}orders/{order.pk}/").status_code == 404
    assert client.post(f"{URL}orders/{order.pk}/cancel/").status_code == 404
    assert db_state() == before


# --- Query counts -------------------------------------------------------------------------------


def build_statement(account, user, rows):
    """`rows` purchases (lots and entries), tickets in progress and resolved tickets, in bulk."""
    lots = Lot.objects.bulk_create(
        Lot(
            account=account,
            kind=LotKind.PURCHASE,
            points=10,
            remaining=10,
            acquired_at=NOW - timedelta(days=n),
            expires_at=NOW + timedelta(days=700 - n),
            payment_reference=f"bulk-{account.pk}-{n}",
        )
        for n in range(rows)
    )
    Entry.objects.bulk_create(
        Entry(
            account=account,
            kind=EntryKind.PURCHASE,
            amount=10,
            lot=lot,
            actor=user,
            created_at=lot.acquired_at,
        )
        for lot in lots
    )
    incident = category("Incident solving")
    for status in (HoldStatus.OPEN, HoldStatus.SETTLED):
        ticket_rows = [
            TicketFactory.build(account=account, filed_by=user, category=incident)
            for _ in range(rows)
        ]
        created = type(ticket_rows[0]).objects.bulk_create(ticket_rows)
        Hold.objects.bulk_create(
            Hold(
                account=account,
                ticket=ticket,
                status=status,
                amount=0,
                created_at=NOW,
                settled_at=NOW if status == HoldStatus.SETTLED else None,
            )
            for ticket in created
        )


def test_the_points_page_makes_as_many_queries_for_500_rows_as_for_5(client, frozen):
    small_account, small_user = customer(0)
    big_account, big_user = customer(0)
    build_statement(small_account, small_user, 5)
    build_statement(big_account, big_user, 500)

    client.force_login(small_user)
    small = count_queries(client, URL)
    client.force_login(big_user)
    big = count_queries(client, URL)
    big_later_pages = count_queries(client, URL + "?changes=3&progress=2&resolved=25")

    assert small == big == big_later_pages
    assert small <= 15


def test_the_buy_page_makes_as_many_queries_for_500_orders_as_for_5(client, frozen):
    packages = [PointPackageFactory() for _ in range(3)]
    counts = []
    for rows in (5, 500):
        account, user = customer(0)
        Order.objects.bulk_create(
            Order(
                account=account,
                package=packages[0],
                points=100,
                price=100,
                currency="USD",
                payment_backend="manual",
                created_by=user,
            )
            for _ in range(rows)
        )
        client.force_login(user)
        counts.append(count_queries(client, BUY))

    assert counts[0] == counts[1]
    assert timezone.now() == NOW
