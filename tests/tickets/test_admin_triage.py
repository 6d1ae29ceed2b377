"""Staff triage in the admin: which tickets still wait for a first response, the "waiting for"
queue filter, one way of showing staff users, the price-bounds override only where there are
bounds, and no resolving while a reconsideration request waits for its decision.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points.models import Hold, HoldStatus
from tests.admin_support import (
    assert_ledger_clean,
    balance,
    file_ticket,
    funded_account,
    messages_of,
    support_staff_user,
    ticket_url,
)
from tests.factories import IssueCategoryFactory, StaffUserFactory, account_owner
from tests.html import attr, find, find_all, parse, text
from tickets.models import ReconsiderationStatus, Ticket, TicketStatus
from tickets.services import (
    ticket_assign,
    ticket_decide_reconsideration,
    ticket_mark_software_bug,
    ticket_move_manually,
    ticket_reply,
    ticket_request_reconsideration,
    ticket_resolve,
    ticket_wait_for_points,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tickets/ticket/"


@pytest.fixture
def staff():
    return support_staff_user(email="sam@helpdesk.example.com", first_name="Sam", last_name="Reed")


@pytest.fixture
def client(client, staff):
    client.force_login(staff)
    return client


def queue_numbers(response) -> list[str]:
    return [text(cell) for cell in find_all(parse(response.content), "th", class_="field-number")]


def numbers(*tickets) -> list[str]:
    return [f"#{ticket.pk}" for ticket in tickets]


def overdue_ticket(**kwargs) -> Ticket:
    ticket = file_ticket(**kwargs)
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=timezone.now() - timedelta(hours=5)
    )
    ticket.refresh_from_db()
    return ticket


def reconsideration(ticket, message="Forty points for a typo is too much."):
    return ticket_request_reconsideration(
        ticket=ticket, actor=account_owner(ticket.account), message=message
    )


def fact(page, label: str) -> str:
    """The value of one fact at the top of the admin ticket page."""
    for item in find_all(find(page, "dl", class_="hd-facts"), "div"):
        if text(find(item, "dt")) == label:
            return text(find(item, "dd"))
    raise AssertionError(f"no fact {label!r}")


# --- First response ---------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["resolved", "software_bug"])
def test_a_ticket_ended_without_a_reply_waits_for_no_first_response(client, staff, ending):
    ticket = overdue_ticket()
    if ending == "resolved":
        ticket_resolve(ticket=ticket, actor=staff, reason="Fixed by a config change")
    else:
        ticket_mark_software_bug(ticket=ticket, actor=staff, reason="Known bug #12")
    waiting = overdue_ticket()

    page = parse(client.get(ticket_url(ticket)).content)
    assert fact(page, "First response") == "—"
    assert "overdue" not in text(find(page, "header", class_="hd-ticket-head"))

    queue = parse(client.get(CHANGELIST).content)
    rows = {
        text(find(row, "th", class_="field-number")): row
        for row in find_all(find(queue, "tbody"), "tr")
    }
    assert text(find(rows[f"#{ticket.pk}"], "td", class_="field-first_response")) == "—"
    assert not find_all(rows[f"#{ticket.pk}"], "span", class_="sla-overdue")
    assert find_all(rows[f"#{waiting.pk}"], "span", class_="sla-overdue")
    # Highlighting and the queue's order put only the waiting ticket first.
    assert queue_numbers(client.get(CHANGELIST)) == numbers(waiting, ticket)
    assert queue_numbers(client.get(CHANGELIST + "?sla=overdue")) == numbers(waiting)
    assert queue_numbers(client.get(CHANGELIST + "?sla=awaiting")) == numbers(waiting)


def test_a_ticket_still_waiting_shows_when_its_first_response_is_due(client):
    ticket = overdue_ticket()

    page = parse(client.get(ticket_url(ticket)).content)

    due = timezone.localtime(ticket.first_response_due_at).strftime("%Y-%m-%d %H:%M")
    assert fact(page, "First response").startswith(f"due {due} overdue by 5")
    assert "first response overdue" in text(find(page, "header", class_="hd-ticket-head"))


# --- Waiting for a decision or for points -----------------------------------------------------


def test_the_queue_filters_tickets_waiting_for_a_reconsideration_decision(client, staff):
    pending = file_ticket(category=IssueCategoryFactory(points=40))
    reconsideration(pending)
    decided = file_ticket(category=IssueCategoryFactory(points=40))
    asked = reconsideration(decided)
    ticket_decide_reconsideration(reconsideration=asked, actor=staff, reason="The work took long.")
    after_resolution = file_ticket(category=IssueCategoryFactory(points=40))
    ticket_resolve(ticket=after_resolution, actor=staff, reason="Done")
    reconsideration(after_resolution)
    file_ticket()

    shown = queue_numbers(client.get(CHANGELIST + "?waiting=reconsideration"))

    assert sorted(shown) == sorted(numbers(pending, after_resolution))
    page = parse(client.get(CHANGELIST).content)
    choices = [
        text(a) for a in find_all(find(page, "details", data_filter_title="waiting for"), "a")
    ]
    assert choices == ["All", "A reconsideration decision", "Points the customer was asked to buy"]


def ask_for_points(ticket, staff, points=500):
    return ticket_wait_for_points(
        ticket=ticket, points=points, reason="Needs a full audit", actor=staff
    )


def test_the_queue_filters_tickets_waiting_for_the_points_the_customer_was_asked_to_buy(
    client, staff
):
    category = IssueCategoryFactory(minimum=True, points=100)
    waiting = file_ticket(funded_account(150), category)
    ask_for_points(waiting, staff)
    # Asked again while already waiting for the customer: still waiting for points.
    asked_twice = file_ticket(funded_account(150), category)
    ticket_move_manually(ticket=asked_twice, to_status=TicketStatus.IN_PROGRESS, actor=staff)
    ticket_move_manually(
        ticket=asked_twice, to_status=TicketStatus.WAITING_FOR_CUSTOMER, actor=staff
    )
    ask_for_points(asked_twice, staff)
    # The customer answered: the ticket is back in progress.
    answered = file_ticket(funded_account(150), category)
    ask_for_points(answered, staff)
    ticket_reply(ticket=answered, author=account_owner(answered.account), body="Bought them.")
    # Staff took it back, then waited for something else.
    moved_on = file_ticket(funded_account(150), category)
    ask_for_points(moved_on, staff)
    ticket_move_manually(ticket=moved_on, to_status=TicketStatus.IN_PROGRESS, actor=staff)
    ticket_move_manually(ticket=moved_on, to_status=TicketStatus.WAITING_FOR_CUSTOMER, actor=staff)
    # Waiting for the customer, but not for points.
    other_wait = file_ticket(funded_account(150), category)
    ticket_move_manually(
        ticket=other_wait, to_status=TicketStatus.WAITING_FOR_CUSTOMER, actor=staff
    )

    shown = queue_numbers(client.get(CHANGELIST + "?waiting=points"))

    assert sorted(shown) == sorted(numbers(waiting, asked_twice))
    assert Ticket.objects.get(pk=moved_on.pk).status == TicketStatus.WAITING_FOR_CUSTOMER


@pytest.mark.parametrize("waiting", ["reconsideration", "points"])
def test_the_waiting_for_filter_makes_as_many_queries_for_many_tickets(client, staff, waiting):
    def make(count):
        for _ in range(count):
            ticket = file_ticket(
                funded_account(150), IssueCategoryFactory(minimum=True, points=100)
            )
            reconsideration(ticket)
            ask_for_points(ticket, staff)

    make(2)
    with CaptureQueriesContext(connection) as few:
        response = client.get(CHANGELIST, {"waiting": waiting, "all": ""})
    assert len(queue_numbers(response)) == 2

    make(30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(CHANGELIST, {"waiting": waiting, "all": ""})
    assert len(queue_numbers(response)) == 32
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(
    "value", ["", "bogus", "points' OR 1=1 --", "RECONSIDERATION", "x" * 5000, "\x00"]
)
def test_an_unknown_waiting_filter_value_is_harmless(client, value):
    ticket = file_ticket()

    response = client.get(CHANGELIST, {"waiting": value})

    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert queue_numbers(response) == numbers(ticket)


# --- Staff users, shown one way ---------------------------------------------------------------


def test_staff_users_are_shown_by_name_or_by_e_mail_in_filters_columns_and_pages(client, staff):
    nameless = StaffUserFactory(email="kim@helpdesk.example.com", first_name="", last_name="")
    mine = file_ticket(subject="Mine")
    ticket_assign(ticket=mine, assignee=staff, actor=staff)
    theirs = file_ticket(subject="Theirs")
    ticket_assign(ticket=theirs, assignee=nameless, actor=staff)

    page = parse(client.get(CHANGELIST).content)

    assignee_filter = find(page, "details", data_filter_title="assignee")
    choices = [text(a) for a in find_all(assignee_filter, "a")]
    assert "Sam Reed" in choices
    assert "kim@helpdesk.example.com" in choices
    assert "sam@helpdesk.example.com" not in choices
    columns = {
        text(find(row, "th", class_="field-number")): text(find(row, "td", class_="field-assignee"))
        for row in find_all(find(page, "tbody"), "tr")
    }
    assert columns == {f"#{mine.pk}": "Sam Reed", f"#{theirs.pk}": "kim@helpdesk.example.com"}
    for ticket, shown in [(mine, "Sam Reed"), (theirs, "kim@helpdesk.example.com")]:
        ticket_page = parse(client.get(ticket_url(ticket)).content)
        assert fact(ticket_page, "Assignee") == shown
        select = find(ticket_page, "select", name="assign-assignee")
        options = [text(option) for option in find_all(select, "option")]
        assert "Sam Reed" in options and "kim@helpdesk.example.com" in options


# --- Price-bounds override --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category_kwargs", "offered"),
    [
        ({"points": 40}, False),
        ({"hourly": True}, False),
        ({"minimum": True, "points": 120}, True),
        ({"range": True, "points": 60, "max_points": 2040}, True),
    ],
)
def test_the_override_is_offered_only_where_the_category_has_bounds(
    client, category_kwargs, offered
):
    ticket = file_ticket(funded_account(5000), IssueCategoryFactory(**category_kwargs))

    page = parse(client.get(ticket_url(ticket)).content)

    assert bool(find_all(page, "input", name="cost-override")) is offered
    assert ("Override the category's price bounds" in text(page)) is offered


def test_an_override_posted_for_a_fixed_price_ticket_is_ignored(client):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40))

    response = client.post(
        ticket_url(ticket, "change_cost"),
        {"cost-points": "70", "cost-reason": "More work", "cost-override": "on"},
        follow=True,
    )

    assert messages_of(response) == ["Cost changed from 40 to 70 points."]
    assert not ticket.cost_changes.last().outside_bounds
    assert balance(account) == (430, 70)
    assert_ledger_clean()


# --- Resolving waits for the reconsideration decision -----------------------------------------


def test_resolving_is_refused_while_a_reconsideration_waits_and_the_page_says_why(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40))
    asked = reconsideration(ticket)

    page = parse(client.get(ticket_url(ticket)).content)
    forms = {attr(form, "action") for form in find_all(page, "form")}
    assert ticket_url(ticket, "resolve") not in forms
    assert ticket_url(ticket, "reconsideration", asked.pk) in forms
    assert "decide the reconsideration request below first" in text(
        find(page, "p", id="resolve-blocked")
    )

    # A resolve posted from a page opened before the request is refused and changes nothing.
    response = client.post(ticket_url(ticket, "resolve"), {"resolve-reason": "Done"})
    assert response.status_code == 200
    assert messages_of(response) == [
        "The customer asked to reconsider the cost: lower it or decline the request before "
        "resolving the ticket."
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN
    assert Hold.objects.get(ticket=ticket).status == HoldStatus.OPEN
    assert balance(account) == (460, 40)
    asked.refresh_from_db()
    assert asked.status == ReconsiderationStatus.PENDING

    # Once decided, the ticket can be resolved.
    client.post(
        ticket_url(ticket, "reconsideration", asked.pk),
        {
            f"reconsider-{asked.pk}-decision": "lower",
            f"reconsider-{asked.pk}-new_points": "20",
            f"reconsider-{asked.pk}-reason": "Fair enough.",
        },
    )
    page = parse(client.get(ticket_url(ticket)).content)
    assert not find_all(page, "p", id="resolve-blocked")
    response = client.post(ticket_url(ticket, "resolve"), {"resolve-reason": "Done"}, follow=True)
    assert messages_of(response) == ["Ticket resolved; 20 points deducted."]
    assert balance(account) == (480, 0)
    assert_ledger_clean()
