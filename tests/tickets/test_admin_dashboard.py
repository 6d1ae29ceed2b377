"""The admin's home page is the support dashboard: short lists of what needs attention, each
linking to its tickets and to the queue filtered the same way, above everything in the admin.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.factories import IssueCategoryFactory, StaffUserFactory, UserFactory, account_owner
from tests.html import attr, find, find_all, parse, text
from tickets.models import Ticket
from tickets.services import (
    ticket_assign,
    ticket_request_reconsideration,
    ticket_resolve,
    ticket_wait_for_points,
)

pytestmark = pytest.mark.django_db

HOME = "/admin/"
SECTIONS = ["overdue", "due-soon", "reconsideration", "points", "mine"]


@pytest.fixture
def staff():
    return support_staff_user(email="sam@helpdesk.example.com", first_name="Sam", last_name="Reed")


@pytest.fixture
def client(client, staff):
    client.force_login(staff)
    return client


def due_in(ticket, delta):
    Ticket.objects.filter(pk=ticket.pk).update(first_response_due_at=timezone.now() + delta)
    return ticket


def overdue(subject="Overdue", hours=3):
    return due_in(file_ticket(subject=subject), -timedelta(hours=hours))


def waiting_for_points(staff, subject="Needs points"):
    ticket = file_ticket(
        funded_account(150), IssueCategoryFactory(minimum=True, points=100), subject=subject
    )
    ticket_wait_for_points(ticket=ticket, points=500, reason="A full audit", actor=staff)
    return ticket


def reconsidered(subject="Too expensive"):
    ticket = file_ticket(subject=subject)
    ticket_request_reconsideration(
        ticket=ticket, actor=account_owner(ticket.account), message="Too much for a typo."
    )
    return ticket


def sections(response) -> dict[str, dict]:
    """Each dashboard list as shown: its title, total, ticket links and queue link."""
    page = parse(response.content)
    shown = {}
    for key in SECTIONS:
        section = find(page, "section", id=f"dash-{key}")
        heading = find(section, "h2")
        shown[key] = {
            "title": text(heading),
            "total": text(find(heading, "span", class_="hd-dash-count")),
            "rows": [(attr(a, "href"), text(a)) for a in find_all(section, "a") if "#" in text(a)],
            "notes": [text(span) for span in find_all(section, "span", class_="hd-quiet")],
            "queue": attr(find(find(section, "p", class_="hd-dash-more"), "a"), "href"),
            "more": text(find(section, "p", class_="hd-dash-more")),
        }
    return shown


def row(ticket):
    return (f"/admin/tickets/ticket/{ticket.pk}/change/", f"#{ticket.pk} {ticket.subject}")


def test_the_home_page_lists_what_needs_attention(client, staff):
    most_overdue = overdue("Most overdue", hours=5)
    overdue_mine = overdue("Overdue and mine", hours=2)
    ticket_assign(ticket=overdue_mine, assignee=staff, actor=staff)
    soon = due_in(file_ticket(subject="Due soon"), timedelta(minutes=25))
    due_in(file_ticket(subject="Due tomorrow"), timedelta(hours=20))
    asked = reconsidered()
    points = waiting_for_points(staff)
    colleagues = overdue("A colleague's")
    ticket_assign(ticket=colleagues, assignee=StaffUserFactory(), actor=staff)
    resolved_mine = file_ticket(subject="Resolved and mine")
    ticket_assign(ticket=resolved_mine, assignee=staff, actor=staff)
    ticket_resolve(ticket=resolved_mine, actor=staff, reason="Done")

    response = client.get(HOME)

    assert response.status_code == 200
    shown = sections(response)
    assert shown["overdue"]["title"] == "First response overdue 3"
    assert shown["overdue"]["rows"] == [row(most_overdue), row(colleagues), row(overdue_mine)]
    assert shown["overdue"]["notes"][0].endswith("overdue by 5\xa0hours")
    assert shown["due-soon"]["rows"] == [row(soon)]
    assert "due in 2" in shown["due-soon"]["notes"][0]
    assert shown["reconsideration"]["rows"] == [row(asked)]
    assert shown["reconsideration"]["notes"][0].endswith("asked 0\xa0minutes ago")
    assert shown["points"]["rows"] == [row(points)]
    assert shown["mine"]["rows"] == [row(overdue_mine)]
    assert shown["mine"]["notes"][0].startswith(f"{overdue_mine.account} · open, last activity")
    assert {key: section["queue"] for key, section in shown.items()} == {
        "overdue": "/admin/tickets/ticket/?sla=overdue",
        "due-soon": "/admin/tickets/ticket/?sla=due_soon",
        "reconsideration": "/admin/tickets/ticket/?waiting=reconsideration",
        "points": "/admin/tickets/ticket/?waiting=points",
        "mine": "/admin/tickets/ticket/?assignee=me&status=active",
    }


def test_each_list_matches_the_queue_it_links_to(client, staff):
    overdue("Overdue")
    due_in(file_ticket(subject="Due soon"), timedelta(minutes=40))
    reconsidered()
    waiting_for_points(staff)
    mine = file_ticket(subject="Mine")
    ticket_assign(ticket=mine, assignee=staff, actor=staff)

    for key, section in sections(client.get(HOME)).items():
        queue = parse(client.get(section["queue"]).content)
        numbers = [text(cell) for cell in find_all(queue, "th", class_="field-number")]
        assert numbers == [text.split()[0] for _href, text in section["rows"]], key
        assert section["total"] == str(len(numbers)), key


def test_a_long_list_shows_its_first_tickets_and_how_many_the_queue_holds(client):
    tickets = [overdue(f"Overdue {n}", hours=10 - n) for n in range(7)]

    shown = sections(client.get(HOME))["overdue"]

    assert shown["total"] == "7"
    assert shown["rows"] == [row(ticket) for ticket in tickets[:5]]
    assert shown["more"] == "All 7 in the queue"


def test_empty_lists_say_so(client):
    shown = sections(client.get(HOME))

    assert {key: section["total"] for key, section in shown.items()} == dict.fromkeys(SECTIONS, "0")
    assert shown["overdue"]["rows"] == []
    page = parse(client.get(HOME).content)
    assert "No ticket is overdue." in text(find(page, "section", id="dash-overdue"))
    assert "Open in the queue" in text(find(page, "section", id="dash-overdue"))


def test_the_dashboard_makes_as_many_queries_for_many_tickets_as_for_few(
    client, staff, django_assert_num_queries
):
    def make(count):
        for n in range(count):
            ticket = overdue(f"Overdue {n}")
            ticket_assign(ticket=ticket, assignee=staff, actor=staff)
            due_in(file_ticket(subject=f"Soon {n}"), timedelta(minutes=30))
            reconsidered(f"Reconsider {n}")
            waiting_for_points(staff, f"Points {n}")

    make(1)
    with CaptureQueriesContext(connection) as few:
        response = client.get(HOME)
    assert sections(response)["points"]["total"] == "1"

    make(14)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(HOME)
    shown = sections(response)
    assert {key: section["total"] for key, section in shown.items()} == dict.fromkeys(
        SECTIONS, "15"
    )
    assert all(len(section["rows"]) == 5 for section in shown.values())
    # The dashboard's own lists: one query each.
    assert len(few.captured_queries) <= 12


def test_everything_in_the_admin_stays_below_the_dashboard(client):
    page = parse(client.get(HOME).content)

    assert text(find(page, "h2", id="everything")) == "Everything in the admin"
    links = {
        text(a): attr(a, "href") for a in find_all(find(page, "div", class_="hd-app-list"), "a")
    }
    assert links["Tickets"] == "/admin/tickets/ticket/"
    assert links["Customer accounts"] == "/admin/accounts/account/"


def test_sign_in_records_are_labelled_in_plain_words(client):
    admin_user = StaffUserFactory(is_superuser=True)
    client.force_login(admin_user)

    page = parse(client.get(HOME).content)

    app_list = text(find(page, "div", class_="hd-app-list"))
    assert "Sign-in security" in app_list
    assert "Login attempts (lock-outs)" in app_list
    assert "Failed logins" in app_list
    assert "Logins and logouts" in app_list
    assert "Axes" not in app_list and "AXES" not in app_list
    assert "Access attempts" not in app_list
    app_page = parse(client.get("/admin/axes/").content)
    assert text(find(app_page, "h1")) == "Sign-in security administration"


def test_support_staff_do_not_see_sign_in_records(client):
    page = parse(client.get(HOME).content)

    assert "Sign-in security" not in text(page)
    assert client.get("/admin/axes/accessattempt/").status_code == 403


def test_staff_who_may_not_see_tickets_get_the_app_list_only(client):
    client.force_login(StaffUserFactory())

    response = client.get(HOME)

    assert response.status_code == 200
    page = parse(response.content)
    assert not find_all(page, "div", class_="hd-dashboard")


def test_customers_never_see_the_dashboard(client):
    client.force_login(UserFactory())

    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
