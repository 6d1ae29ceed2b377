"""Staff work tickets in the admin, as a staff member of the "Support staff" group (no superuser).

Every action goes through Django's test client; its effect on the ledger is checked and the
ledger stays consistent (`check_ledger`). A refusal shows the service's message and changes
nothing.
"""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from points.models import Entry, EntryKind, Hold, HoldStatus
from tests.admin_support import (
    assert_ledger_clean,
    balance,
    file_ticket,
    funded_account,
    messages_of,
    support_staff_user,
    ticket_url,
)
from tests.factories import (
    AccountFactory,
    IssueCategoryFactory,
    StaffUserFactory,
    TicketFactory,
    UserFactory,
    account_owner,
)
from tests.html import find, find_all, parse, text
from tickets.models import (
    AccessDetailsView,
    CostChange,
    CostChangeKind,
    Message,
    Quote,
    QuoteStatus,
    ReconsiderationStatus,
    Ticket,
    TicketOutcome,
    TicketStatus,
)
from tickets.services import (
    access_details_set,
    ticket_accept_quote,
    ticket_change_cost,
    ticket_decide_reconsideration,
    ticket_mark_software_bug,
    ticket_reply,
    ticket_request_reconsideration,
    ticket_resolve,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tickets/ticket/"


@pytest.fixture
def staff():
    return support_staff_user(email="sam@helpdesk.example.com", first_name="Sam")


@pytest.fixture
def client(client, staff):
    client.force_login(staff)
    return client


def snapshot(ticket):
    """What a refused action must leave as it was: the ticket row, its costs, its hold and the
    journal."""
    ticket = Ticket.objects.get(pk=ticket.pk)
    hold = Hold.objects.filter(ticket=ticket).values("status", "amount").first()
    return (
        ticket.status,
        ticket.outcome,
        ticket.is_urgent,
        ticket.first_response_at,
        hold,
        CostChange.objects.filter(ticket=ticket).count(),
        Entry.objects.count(),
        balance(ticket.account),
    )


# --- The queue --------------------------------------------------------------------------------


def queue_rows(page):
    return find_all(find(find(page, "table", id="result_list"), "tbody"), "tr")


def queue_numbers(response) -> list[str]:
    return [text(cell) for cell in find_all(parse(response.content), "th", class_="field-number")]


def test_queue_lists_tickets_with_what_staff_need_to_triage(client):
    account = funded_account(name="Jones Hardware Ltd")
    category = IssueCategoryFactory(name="Incident solving", points=40)
    ticket = file_ticket(account, category, subject="Checkout is broken", is_urgent=True)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    page = parse(response.content)
    [row] = queue_rows(page)
    cells = {
        field: text(find(row, None, class_=f"field-{field}"))
        for field in [
            "number",
            "subject",
            "account",
            "category_and_price",
            "state",
            "assignee",
            "captured_points",
            "first_response",
            "last_activity",
        ]
    }
    assert cells["number"] == f"#{ticket.pk}"
    assert cells["subject"] == "Checkout is broken"
    assert cells["account"] == "Jones Hardware Ltd"
    assert cells["category_and_price"] == "Incident solving 40"
    assert cells["state"] == "open HotRush"
    assert cells["assignee"] == "-"
    assert cells["captured_points"] == "80"
    assert cells["first_response"]
    assert cells["last_activity"] == "today " + timezone.localtime(
        ticket.last_activity_at
    ).strftime("%H:%M")
    assert "SLA report" in text(page)


def test_queue_highlights_overdue_and_due_within_an_hour(client):
    now = timezone.now()
    overdue = TicketFactory(subject="Overdue", first_response_due_at=now - timedelta(hours=3))
    soon = TicketFactory(subject="Soon", first_response_due_at=now + timedelta(minutes=30))
    later = TicketFactory(subject="Later", first_response_due_at=now + timedelta(hours=20))

    page = parse(client.get(CHANGELIST).content)

    cells = {
        text(find(row, None, class_="field-subject")): find(
            row, None, class_="field-first_response"
        )
        for row in queue_rows(page)
    }
    assert find_all(cells["Overdue"], "span", class_="sla-overdue")
    assert text(cells["Overdue"]).startswith("overdue by 3")
    assert find_all(cells["Soon"], "span", class_="sla-due-soon")
    assert text(cells["Soon"]).startswith("due in 29") or text(cells["Soon"]).startswith(
        "due in 30"
    )
    assert not find_all(cells["Later"], "span", class_="sla-overdue")
    assert not find_all(cells["Later"], "span", class_="sla-due-soon")
    local_due = timezone.localtime(later.first_response_due_at)
    assert text(cells["Later"]) in (
        "today " + local_due.strftime("%H:%M"),
        date_format(local_due, "j M H:i"),
    )
    assert overdue.pk and soon.pk


def test_queue_puts_overdue_then_soonest_due_first_and_the_rest_by_last_activity(client):
    now = timezone.now()
    answered = TicketFactory(
        subject="Answered",
        first_response_due_at=now - timedelta(hours=5),
        first_response_at=now - timedelta(hours=6),
        last_activity_at=now,
    )
    resolved = TicketFactory(
        subject="Resolved", status=TicketStatus.RESOLVED, last_activity_at=now - timedelta(days=1)
    )
    due_later = TicketFactory(subject="Due later", first_response_due_at=now + timedelta(hours=9))
    most_overdue = TicketFactory(
        subject="Most overdue", first_response_due_at=now - timedelta(hours=4)
    )
    due_soon = TicketFactory(subject="Due soon", first_response_due_at=now + timedelta(minutes=20))
    overdue = TicketFactory(subject="Overdue", first_response_due_at=now - timedelta(hours=1))

    response = client.get(CHANGELIST)

    assert queue_numbers(response) == [
        f"#{t.pk}" for t in [most_overdue, overdue, due_soon, due_later, answered, resolved]
    ]


def test_queue_filters(client, staff):
    now = timezone.now()
    other_staff = StaffUserFactory()
    category = IssueCategoryFactory(name="SEO analysis")
    overdue = TicketFactory(first_response_due_at=now - timedelta(hours=1), assignee=staff)
    soon = TicketFactory(first_response_due_at=now + timedelta(minutes=10), is_urgent=True)
    answered = TicketFactory(
        first_response_due_at=now - timedelta(hours=1),
        first_response_at=now - timedelta(hours=2),
        assignee=other_staff,
        category=category,
    )
    resolved = TicketFactory(status=TicketStatus.RESOLVED)

    def shown(query):
        return set(queue_numbers(client.get(CHANGELIST + "?" + query)))

    def numbers(*tickets):
        return {f"#{t.pk}" for t in tickets}

    assert shown("status=active") == numbers(overdue, soon, answered)
    assert shown("status=resolved") == numbers(resolved)
    assert shown("sla=overdue") == numbers(overdue)
    assert shown("sla=due_soon") == numbers(soon)
    assert shown("sla=answered") == numbers(answered)
    assert shown("assignee=me") == numbers(overdue)
    assert shown("assignee=none") == numbers(soon, resolved)
    assert shown(f"assignee={other_staff.pk}") == numbers(answered)
    assert shown("is_urgent__exact=1") == numbers(soon)
    assert shown(f"category__id__exact={category.pk}") == numbers(answered)


def test_queue_search_by_number_subject_account_and_email(client):
    account = funded_account(name="Acme Widgets")
    owner = account_owner(account)
    ticket = file_ticket(account, subject="Images missing after upgrade")
    other = file_ticket(subject="Something else entirely")

    def found(term):
        return set(queue_numbers(client.get(CHANGELIST, {"q": term})))

    assert found(f"#{ticket.pk}") == {f"#{ticket.pk}"}
    assert found(str(other.pk)) == {f"#{other.pk}"}
    assert found("images missing") == {f"#{ticket.pk}"}
    assert found("acme") == {f"#{ticket.pk}"}
    assert found(owner.email.upper()) == {f"#{ticket.pk}"}


def test_queue_query_count_does_not_grow_with_the_page(client, staff, django_assert_num_queries):
    """Measured at 10 tickets, the same at 200 tickets all shown on one page."""
    other_staff = StaffUserFactory()

    def make(count):
        for number in range(count):
            account = funded_account(points=100)
            ticket = file_ticket(account, IssueCategoryFactory(points=10 + number % 3))
            ticket.assignee = staff if number % 2 else other_staff
            ticket.save(update_fields=["assignee"])

    make(10)
    with CaptureQueriesContext(connection) as at_ten:
        response = client.get(CHANGELIST, {"all": ""})
    assert len(queue_numbers(response)) == 10

    make(190)
    with django_assert_num_queries(len(at_ten.captured_queries)):
        response = client.get(CHANGELIST, {"all": ""})
    assert len(queue_numbers(response)) == 200


# --- The ticket page --------------------------------------------------------------------------


def test_ticket_page_shows_the_whole_thread_in_order_with_internal_notes_marked(client, staff):
    ticket = file_ticket(description="My shop is down.")
    ticket_reply(ticket=ticket, author=staff, body="Looking into it.")
    ticket_reply(ticket=ticket, author=staff, body="Probably the **cache**.", internal=True)
    ticket_reply(ticket=ticket, author=account_owner(ticket.account), body="Any news?")

    response = client.get(ticket_url(ticket))

    assert response.status_code == 200
    page = parse(response.content)
    messages = find_all(page, "li", class_="hd-message")
    bodies = [text(find(m, "div", class_="hd-message-body")) for m in messages]
    assert bodies[:2] == ["My shop is down.", "Looking into it."]
    assert bodies[2].startswith("Probably the cache")
    assert bodies[3] == "Any news?"
    internal = [m for m in messages if "hd-internal" in (dict(m.attributes).get("class") or "")]
    assert len(internal) == 1
    assert "Internal note" in text(internal[0])
    assert "Customer" in text(messages[0])
    # Rendered as the customer sees messages: Markdown, sanitized.
    assert text(find(find(internal[0], "div", class_="hd-message-body"), "strong")) == "cache"
    # The model form is not used: nothing saves the ticket's fields directly.
    assert not find_all(page, "input", name="status")
    assert not find_all(page, "input", name="_save")


def test_ticket_page_query_count_does_not_grow_with_the_thread_and_history(client, staff):
    """Measured with a short thread, the same with 100 messages, reconsiderations and cost
    changes."""
    small = file_ticket(category=IssueCategoryFactory(minimum=True))
    big = file_ticket(category=IssueCategoryFactory(minimum=True))
    customer = account_owner(big.account)
    with CaptureQueriesContext(connection) as few:
        client.get(ticket_url(small))

    for number in range(50):
        ticket_reply(ticket=big, author=customer, body=f"Question {number}")
        ticket_reply(ticket=big, author=staff, body=f"Note {number}", internal=True)
    for number in range(3):
        asked = ticket_request_reconsideration(ticket=big, actor=customer, message="Too much")
        ticket_decide_reconsideration(reconsideration=asked, actor=staff, reason="Fair")
        ticket_change_cost(ticket=big, points=130 + number, reason="More work", actor=staff)

    with CaptureQueriesContext(connection) as many:
        response = client.get(ticket_url(big))
    assert response.status_code == 200
    assert big.cost_changes.count() == 4
    assert len(many.captured_queries) == len(few.captured_queries)


def test_ticket_page_rejects_posts_of_the_model_form(client):
    ticket = file_ticket()
    response = client.post(ticket_url(ticket), {"status": "closed", "subject": "changed"})
    assert response.status_code == 405
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_staff_cannot_add_or_delete_tickets_in_the_admin(client):
    ticket = file_ticket()
    assert client.get("/admin/tickets/ticket/add/").status_code == 403
    assert client.get(f"/admin/tickets/ticket/{ticket.pk}/delete/").status_code == 403


# --- Replies, assignment, status --------------------------------------------------------------


def test_first_public_reply_sets_first_response_time_and_starts_work(client, staff):
    ticket = file_ticket()

    response = client.post(
        ticket_url(ticket, "reply"),
        {"reply-body": "We are on it.", "reply-visibility": "public"},
        follow=True,
    )

    assert messages_of(response) == ["Reply sent to the customer."]
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.status == TicketStatus.IN_PROGRESS
    message = ticket.messages.last()
    assert (message.body, message.author, message.is_internal) == ("We are on it.", staff, False)
    first = ticket.first_response_at

    client.post(
        ticket_url(ticket, "reply"), {"reply-body": "Second one.", "reply-visibility": "public"}
    )
    ticket.refresh_from_db()
    assert ticket.first_response_at == first


def test_internal_note_does_not_count_as_first_response(client):
    ticket = file_ticket()

    response = client.post(
        ticket_url(ticket, "reply"),
        {"reply-body": "Customer is on PHP 5.", "reply-visibility": "internal"},
        follow=True,
    )

    assert messages_of(response) == ["Internal note added."]
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.status == TicketStatus.OPEN
    assert ticket.messages.last().is_internal


def test_reply_with_attachment_which_staff_can_download(client):
    ticket = file_ticket()
    upload = SimpleUploadedFile("steps.txt", b"1. open the cart\n2. pay\n", "text/plain")

    client.post(
        ticket_url(ticket, "reply"),
        {"reply-body": "See the steps.", "reply-visibility": "public", "reply-attachments": upload},
    )

    attachment = Message.objects.get(body="See the steps.").attachments.get()
    page = parse(client.get(ticket_url(ticket)).content)
    link = find(page, "a", href=ticket_url(ticket, "attachment", attachment.pk))
    assert text(link) == "steps.txt"
    response = client.get(ticket_url(ticket, "attachment", attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"1. open the cart\n2. pay\n"


def test_empty_reply_is_refused_and_keeps_the_form(client):
    ticket = file_ticket()
    before = Message.objects.count()

    response = client.post(
        ticket_url(ticket, "reply"), {"reply-body": "   ", "reply-visibility": "public"}
    )

    assert response.status_code == 200
    assert messages_of(response) == ["Please correct the errors below."]
    assert Message.objects.count() == before


def test_reply_with_a_forbidden_file_type_is_refused(client):
    ticket = file_ticket()
    before = Message.objects.count()
    upload = SimpleUploadedFile("run.exe", b"MZ\x90\x00", "application/octet-stream")

    response = client.post(
        ticket_url(ticket, "reply"),
        {"reply-body": "Try this.", "reply-visibility": "public", "reply-attachments": upload},
    )

    assert response.status_code == 200
    [message] = messages_of(response)
    assert "run.exe" in message
    assert Message.objects.count() == before
    page = parse(response.content)
    assert text(find(page, "textarea", name="reply-body")) == "Try this."


def test_assign_to_a_colleague_and_to_me(client, staff):
    colleague = StaffUserFactory(
        email="kim@helpdesk.example.com", first_name="Kim", last_name="Lee"
    )
    ticket = file_ticket()

    response = client.post(
        ticket_url(ticket, "assign"), {"assign-assignee": colleague.pk}, follow=True
    )
    assert messages_of(response) == ["Assigned to Kim Lee."]
    ticket.refresh_from_db()
    assert ticket.assignee == colleague

    client.post(ticket_url(ticket, "assign"), {"assign-assignee": staff.pk})
    ticket.refresh_from_db()
    assert ticket.assignee == staff

    client.post(ticket_url(ticket, "assign"), {"assign-assignee": ""})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_tickets_cannot_be_assigned_to_customers(client):
    ticket = file_ticket()
    customer = account_owner(ticket.account)

    response = client.post(ticket_url(ticket, "assign"), {"assign-assignee": customer.pk})

    assert response.status_code == 200
    assert messages_of(response) == ["Please correct the errors below."]
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_status_moves_offer_only_the_manual_transitions(client, staff):
    ticket = file_ticket()

    page = parse(client.get(ticket_url(ticket)).content)
    options = [
        dict(o.attributes)["value"] for o in find_all(find(page, "select", name="move-to_status"))
    ]
    assert options == ["in_progress", "waiting_for_customer"]

    response = client.post(
        ticket_url(ticket, "move"), {"move-to_status": "waiting_for_customer"}, follow=True
    )
    assert messages_of(response) == ["Status set to waiting for customer."]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_FOR_CUSTOMER
    assert ticket.status_changes.last().actor == staff


def test_a_move_outside_the_manual_transitions_is_refused(client):
    ticket = file_ticket()
    before = snapshot(ticket)

    response = client.post(ticket_url(ticket, "move"), {"move-to_status": "resolved"})

    assert response.status_code == 200
    assert messages_of(response) == ["Please correct the errors below."]
    assert snapshot(ticket) == before


# --- Cost panel -------------------------------------------------------------------------------


def test_change_cost_within_the_minimum_moves_the_hold_and_records_who_and_why(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(minimum=True, points=120))
    assert balance(account) == (380, 120)

    response = client.post(
        ticket_url(ticket, "change_cost"),
        {"cost-points": "200", "cost-reason": "Two plugins conflict; more debugging needed."},
        follow=True,
    )

    assert messages_of(response) == ["Cost changed from 120 to 200 points."]
    assert balance(account) == (300, 200)
    change = ticket.cost_changes.last()
    assert (change.kind, change.old_points, change.new_points, change.actor) == (
        CostChangeKind.CHANGED,
        120,
        200,
        staff,
    )
    assert change.reason == "Two plugins conflict; more debugging needed."
    capture = (
        Entry.objects.filter(hold__ticket=ticket, kind=EntryKind.CAPTURE)
        .order_by("-created_at", "-id")
        .first()
    )
    assert (capture.actor, capture.reason) == (staff, change.reason)
    assert LogEntry.objects.filter(user=staff, object_id=str(ticket.pk)).exists()
    assert_ledger_clean()


def test_lowering_the_cost_returns_points(client):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(range=True, points=60, max_points=2040))
    client.post(
        ticket_url(ticket, "change_cost"), {"cost-points": "300", "cost-reason": "Large store"}
    )
    client.post(
        ticket_url(ticket, "change_cost"), {"cost-points": "150", "cost-reason": "Fewer pages"}
    )
    assert balance(account) == (350, 150)
    assert_ledger_clean()


@pytest.mark.parametrize(
    ("category_kwargs", "points", "limits"),
    [
        ({"minimum": True, "points": 120}, 100, "at least 120"),
        ({"range": True, "points": 60, "max_points": 2040}, 2100, "60–2040"),
        ({"range": True, "points": 60, "max_points": 2040}, 50, "60–2040"),
    ],
)
def test_cost_outside_the_category_bounds_needs_an_override(
    client, category_kwargs, points, limits
):
    account = funded_account(5000)
    ticket = file_ticket(account, IssueCategoryFactory(**category_kwargs))
    before = snapshot(ticket)

    response = client.post(
        ticket_url(ticket, "change_cost"),
        {"cost-points": str(points), "cost-reason": "Special case"},
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"{points} points is outside this category's price ({limits}). "
        "Tick the override to set it anyway."
    ]
    assert snapshot(ticket) == before
    page = parse(response.content)
    assert find(page, "input", name="cost-points").attributes.count(("value", str(points))) == 1

    response = client.post(
        ticket_url(ticket, "change_cost"),
        {"cost-points": str(points), "cost-reason": "Special case", "cost-override": "on"},
        follow=True,
    )
    assert messages_of(response) == [f"Cost changed from {before[4]['amount']} to {points} points."]
    assert ticket.cost_changes.last().outside_bounds
    assert balance(account)[1] == points
    assert_ledger_clean()


def test_a_cost_change_without_a_reason_is_refused(client):
    ticket = file_ticket(category=IssueCategoryFactory(minimum=True))
    before = snapshot(ticket)

    response = client.post(ticket_url(ticket, "change_cost"), {"cost-points": "200"})

    assert response.status_code == 200
    assert messages_of(response) == ["Please correct the errors below."]
    assert "This field is required." in text(
        find(parse(response.content), None, class_="hd-field-cost-reason")
    )
    assert snapshot(ticket) == before


def test_an_increase_the_customer_cannot_pay_is_refused_and_they_can_be_asked_to_buy(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    account = funded_account(150)
    ticket = file_ticket(account, IssueCategoryFactory(minimum=True, points=120))
    before = snapshot(ticket)

    response = client.post(
        ticket_url(ticket, "change_cost"),
        {"cost-points": "300", "cost-reason": "The migration needs a full day."},
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        "Not enough support points: 180 needed, 30 available. 150 more points are needed."
    ]
    assert snapshot(ticket) == before
    page = parse(response.content)
    shortfall = find(page, "div", class_="hd-shortfall")
    assert "The customer needs 150 more points for a cost of 300." in text(shortfall)
    button = find(shortfall, "button")
    assert text(button) == "Ask the customer to buy 150 points"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ticket_url(ticket, "wait_for_points"),
            {"wait-points": "300", "wait-reason": "The migration needs a full day."},
            follow=True,
        )

    assert messages_of(response) == [
        "The customer was asked to buy 150 points; the ticket waits for them."
    ]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_FOR_CUSTOMER
    assert balance(account) == (30, 120)
    [mail] = mailoutbox
    assert mail.to == [account_owner(account).email]
    assert "150 points short" in mail.body
    assert "/communication-center/support-points/buy/" in mail.body
    assert_ledger_clean()


def test_set_a_quote_which_the_customer_accepts(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(upon_request=True))
    assert ticket.status == TicketStatus.AWAITING_QUOTE

    response = client.post(
        ticket_url(ticket, "quote"),
        {"quote-points": "90", "quote-note": "Migration of 3 custom modules."},
        follow=True,
    )

    assert messages_of(response) == [
        "Quote of 90 points sent; the customer accepts or declines it."
    ]
    quote = Quote.objects.get(ticket=ticket)
    assert (quote.points, quote.status, quote.created_by) == (90, QuoteStatus.PENDING, staff)
    assert balance(account) == (500, 0)

    ticket_accept_quote(ticket=ticket, actor=account_owner(account))
    assert balance(account) == (410, 90)
    assert_ledger_clean()


def test_quote_first_ticket_gets_a_quote(client):
    ticket = file_ticket(category=IssueCategoryFactory(points=40), quote_first=True)
    client.post(ticket_url(ticket, "quote"), {"quote-points": "35", "quote-note": "Simple fix."})
    assert Quote.objects.get(ticket=ticket).points == 35


def test_a_quote_for_a_ticket_not_waiting_for_one_is_refused(client):
    ticket = file_ticket()
    before = snapshot(ticket)

    response = client.post(ticket_url(ticket, "quote"), {"quote-points": "35", "quote-note": "x"})

    assert messages_of(response) == ["Only a ticket waiting for a quote can be quoted."]
    assert not Quote.objects.exists()
    assert snapshot(ticket) == before


def test_log_time_on_an_hourly_ticket_sets_rate_times_hours_rounded_up(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(hourly=True, hourly_rate=60))
    assert balance(account) == (440, 60)

    response = client.post(
        ticket_url(ticket, "log_time"),
        {"time-minutes": "90", "time-note": "Set up goals and filters."},
        follow=True,
    )
    assert messages_of(response) == ["90 minutes logged; the cost is now 90 points."]

    client.post(ticket_url(ticket, "log_time"), {"time-minutes": "7", "time-note": "Check."})
    # 97 minutes at 60 an hour = 97 points; at 50 an hour it would round 80.83 up to 81.
    assert balance(account) == (403, 97)
    assert ticket.time_logs.count() == 2
    assert ticket.cost_changes.last().actor == staff
    assert_ledger_clean()


def test_log_time_rounds_up_to_whole_points(client):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(hourly=True, hourly_rate=50))
    client.post(ticket_url(ticket, "log_time"), {"time-minutes": "97", "time-note": "Work."})
    assert balance(account)[1] == 81
    assert_ledger_clean()


def test_log_time_on_a_fixed_price_ticket_is_refused(client):
    ticket = file_ticket()
    before = snapshot(ticket)
    page = parse(client.get(ticket_url(ticket)).content)
    assert not find_all(page, "input", name="time-minutes")

    response = client.post(
        ticket_url(ticket, "log_time"), {"time-minutes": "30", "time-note": "Work."}
    )

    assert messages_of(response) == ["Time is logged only on hourly categories."]
    assert snapshot(ticket) == before


def test_resolve_deducts_the_captured_points(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40))

    response = client.post(
        ticket_url(ticket, "resolve"),
        {"resolve-reason": "Cleared the template cache."},
        follow=True,
    )

    assert messages_of(response) == ["Ticket resolved; 40 points deducted."]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, TicketOutcome.SOLVED)
    hold = Hold.objects.get(ticket=ticket)
    assert (hold.status, hold.amount) == (HoldStatus.SETTLED, 40)
    assert balance(account) == (460, 0)
    settle = Entry.objects.get(hold=hold, kind=EntryKind.SETTLE)
    assert (settle.actor, settle.reason) == (staff, "Cleared the template cache.")
    assert_ledger_clean()


def test_resolving_a_resolved_ticket_is_refused(client, staff):
    ticket = file_ticket()
    ticket_resolve(ticket=ticket, actor=staff, reason="done")
    before = snapshot(ticket)

    response = client.post(ticket_url(ticket, "resolve"), {"resolve-reason": "again"})

    assert messages_of(response) == ["A ticket that is resolved cannot be resolved."]
    assert snapshot(ticket) == before


def test_software_bug_returns_every_point(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40), is_urgent=True)
    assert balance(account) == (420, 80)

    response = client.post(
        ticket_url(ticket, "software_bug"),
        {"bug-reason": "Bug #4411 in the payment module."},
        follow=True,
    )

    assert messages_of(response) == [
        "Marked as a software bug; 80 points returned to the customer."
    ]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome) == (TicketStatus.RESOLVED, TicketOutcome.SOFTWARE_BUG)
    assert balance(account) == (500, 0)
    assert ticket.cost_changes.last().actor == staff
    assert_ledger_clean()


def test_software_bug_after_resolution_is_a_compensating_return(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40))
    ticket_resolve(ticket=ticket, actor=staff, reason="Fixed the config")
    assert balance(account) == (460, 0)

    client.post(ticket_url(ticket, "software_bug"), {"bug-reason": "It was bug #12 after all."})

    assert balance(account) == (500, 0)
    hold = Hold.objects.get(ticket=ticket)
    assert hold.status == HoldStatus.REFUNDED
    assert Entry.objects.filter(hold=hold, kind=EntryKind.REFUND, actor=staff).exists()
    assert_ledger_clean()


def test_marking_a_software_bug_twice_is_refused(client, staff):
    ticket = file_ticket()
    ticket_mark_software_bug(ticket=ticket, actor=staff, reason="bug")
    before = snapshot(ticket)

    response = client.post(ticket_url(ticket, "software_bug"), {"bug-reason": "again"})

    assert messages_of(response) == ["This ticket is already marked as a software bug."]
    assert snapshot(ticket) == before


def test_remove_urgency_returns_the_surcharge(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40), is_urgent=True)

    response = client.post(
        ticket_url(ticket, "remove_urgency"),
        {"urgency-reason": "Turned out to be a known bug, not urgent."},
        follow=True,
    )

    assert messages_of(response) == ["HotRush removed; its surcharge was returned."]
    ticket.refresh_from_db()
    assert not ticket.is_urgent
    assert balance(account) == (460, 40)
    change = ticket.cost_changes.last()
    assert (change.kind, change.old_points, change.new_points, change.actor) == (
        CostChangeKind.URGENCY_REMOVED,
        80,
        40,
        staff,
    )
    assert_ledger_clean()


def test_remove_urgency_of_a_normal_ticket_is_refused(client):
    ticket = file_ticket()
    before = snapshot(ticket)

    response = client.post(ticket_url(ticket, "remove_urgency"), {"urgency-reason": "x"})

    assert messages_of(response) == ["This ticket is not HotRush (urgent)."]
    assert snapshot(ticket) == before


def reconsideration(ticket, message="Forty points for a typo is too much."):
    return ticket_request_reconsideration(
        ticket=ticket, actor=account_owner(ticket.account), message=message
    )


def test_reconsideration_lowers_the_cost(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40))
    asked = reconsideration(ticket)

    page = parse(client.get(ticket_url(ticket)).content)
    assert "Forty points for a typo is too much." in text(find(page, None, class_="hd-cost-panel"))

    response = client.post(
        ticket_url(ticket, "reconsideration", asked.pk),
        {
            f"reconsider-{asked.pk}-decision": "lower",
            f"reconsider-{asked.pk}-new_points": "10",
            f"reconsider-{asked.pk}-reason": "Agreed: a one-line fix.",
        },
        follow=True,
    )

    assert messages_of(response) == ["Cost lowered to 10 points."]
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by, asked.decision_reason) == (
        ReconsiderationStatus.LOWERED,
        staff,
        "Agreed: a one-line fix.",
    )
    assert balance(account) == (490, 10)
    assert_ledger_clean()


def test_reconsideration_after_resolution_refunds_the_difference(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40))
    ticket_resolve(ticket=ticket, actor=staff, reason="done")
    asked = reconsideration(ticket)

    client.post(
        ticket_url(ticket, "reconsideration", asked.pk),
        {
            f"reconsider-{asked.pk}-decision": "lower",
            f"reconsider-{asked.pk}-new_points": "25",
            f"reconsider-{asked.pk}-reason": "Partly our documentation's fault.",
        },
    )

    assert balance(account) == (475, 0)
    assert Hold.objects.get(ticket=ticket).amount == 25
    assert_ledger_clean()


def test_reconsideration_declined_keeps_the_cost(client, staff):
    account = funded_account(500)
    ticket = file_ticket(account, IssueCategoryFactory(points=40))
    asked = reconsideration(ticket)

    response = client.post(
        ticket_url(ticket, "reconsideration", asked.pk),
        {
            f"reconsider-{asked.pk}-decision": "decline",
            f"reconsider-{asked.pk}-reason": "The work took the full time.",
        },
        follow=True,
    )

    assert messages_of(response) == ["Reconsideration declined; the cost stays."]
    asked.refresh_from_db()
    assert asked.status == ReconsiderationStatus.DECLINED
    assert balance(account) == (460, 40)
    assert_ledger_clean()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "lower", "reason": "ok"}, "Please correct the errors below."),
        (
            {"decision": "lower", "new_points": "60", "reason": "ok"},
            "A lowered cost must be between 0 and 39 points.",
        ),
    ],
)
def test_a_wrong_reconsideration_decision_is_refused(client, data, message):
    ticket = file_ticket(category=IssueCategoryFactory(points=40))
    asked = reconsideration(ticket)
    before = snapshot(ticket)

    response = client.post(
        ticket_url(ticket, "reconsideration", asked.pk),
        {f"reconsider-{asked.pk}-{key}": value for key, value in data.items()},
    )

    assert messages_of(response) == [message]
    asked.refresh_from_db()
    assert asked.status == ReconsiderationStatus.PENDING
    assert snapshot(ticket) == before


def test_cost_actions_only_take_posts(client):
    ticket = file_ticket()
    for action in ["change_cost", "resolve", "software_bug", "reply", "access_details"]:
        assert client.get(ticket_url(ticket, action)).status_code == 405


# --- Access details ---------------------------------------------------------------------------


def test_access_details_are_shown_decrypted_once_and_each_view_is_recorded(client, staff):
    ticket = file_ticket()
    access_details_set(
        ticket=ticket,
        actor=account_owner(ticket.account),
        host="shop.example.com",
        login="admin",
        password="s3cret-Pa55",
    )

    page = client.get(ticket_url(ticket))
    assert b"s3cret-Pa55" not in page.content
    assert not AccessDetailsView.objects.exists()

    response = client.post(ticket_url(ticket, "access_details"))

    assert response.status_code == 200
    assert b"s3cret-Pa55" in response.content
    assert "no-store" in response["Cache-Control"]
    view = AccessDetailsView.objects.get()
    assert view.viewed_by == staff
    again = client.get(ticket_url(ticket))
    assert b"s3cret-Pa55" not in again.content
    assert str(staff) in text(find(parse(again.content), "ul", class_="hd-views"))


# --- Permissions ------------------------------------------------------------------------------


ACTIONS = [
    ("reply", {"reply-body": "Hi", "reply-visibility": "public"}),
    ("assign", {"assign-assignee": ""}),
    ("move", {"move-to_status": "in_progress"}),
    ("change_cost", {"cost-points": "45", "cost-reason": "x", "cost-override": "on"}),
    ("wait_for_points", {"wait-points": "9999", "wait-reason": "x"}),
    ("quote", {"quote-points": "10", "quote-note": "x"}),
    ("log_time", {"time-minutes": "10", "time-note": "x"}),
    ("resolve", {"resolve-reason": "x"}),
    ("software_bug", {"bug-reason": "x"}),
    ("remove_urgency", {"urgency-reason": "x"}),
    ("access_details", {}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_customers_never_reach_the_admin(client, action, data):
    ticket = file_ticket(is_urgent=True)
    customer = account_owner(ticket.account)
    client.force_login(customer)
    before = snapshot(ticket)

    for response in [
        client.get(CHANGELIST),
        client.get(ticket_url(ticket)),
        client.post(ticket_url(ticket, action), data),
    ]:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert snapshot(ticket) == before


@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_staff_outside_the_support_group_get_403(client, action, data):
    ticket = file_ticket(is_urgent=True)
    client.force_login(StaffUserFactory())
    before = snapshot(ticket)

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(ticket_url(ticket)).status_code == 403
    assert client.get(reverse("admin:tickets_ticket_sla_report")).status_code == 403
    assert client.post(ticket_url(ticket, action), data).status_code == 403
    assert snapshot(ticket) == before


def test_customers_are_never_staff():
    customer = UserFactory()
    AccountFactory(owner=customer)
    assert not customer.is_staff
    assert not customer.groups.exists()


# --- SLA report -------------------------------------------------------------------------------


def test_sla_report_for_the_last_30_days(client):
    now = timezone.now()

    def ticket(filed_hours_ago, due_in_hours, answered_after_hours=None, **kwargs):
        filed = now - timedelta(hours=filed_hours_ago)
        return TicketFactory(
            created_at=filed,
            first_response_due_at=filed + timedelta(hours=due_in_hours),
            first_response_at=(
                filed + timedelta(hours=answered_after_hours)
                if answered_after_hours is not None
                else None
            ),
            **kwargs,
        )

    ticket(100, 24, answered_after_hours=2)  # on time
    ticket(90, 24, answered_after_hours=4, is_urgent=True)  # on time
    ticket(80, 24, answered_after_hours=30)  # late
    ticket(70, 24)  # unanswered, overdue: late
    ticket(2, 24)  # not yet due
    ticket(50, 24, status=TicketStatus.CANCELLED)  # ended without a reply
    ticket(24 * 40, 24, answered_after_hours=50)  # older than 30 days: not counted
    ticket(24 * 45, 24)  # old but still overdue now

    response = client.get(reverse("admin:tickets_ticket_sla_report"))

    assert response.status_code == 200
    page = parse(response.content)
    assert text(find(page, None, id="sla-filed")) == "6"
    assert text(find(page, None, id="sla-on-time")) == "50%"
    assert text(find(page, None, id="sla-late")) == "50%"
    # Median of 2 h, 4 h and 30 h.
    assert text(find(page, None, id="sla-median")) == "4 h 00 min"
    assert text(find(page, None, id="sla-overdue")) == "2"
    assert "2 first responses on time" in text(page)
