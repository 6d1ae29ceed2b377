"""The customer's ticket pages over HTTP: filing, my tickets, the ticket page and its actions,
attachments, and who may see what."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points.models import Hold, HoldStatus
from points.selectors import points_available
from points.services import points_grant
from tests.factories import StaffUserFactory, TicketFactory, UserFactory
from tests.html import attr, find, find_all, parse, text
from tests.web import (
    PDF,
    category,
    count_queries,
    customer,
    db_state,
    png,
    text_file,
)
from tickets import services
from tickets.models import (
    AccessDetails,
    Attachment,
    CostChange,
    CostChangeKind,
    Message,
    Rating,
    ReconsiderationRequest,
    Ticket,
    TicketStatus,
)

pytestmark = pytest.mark.django_db

NEW = "/tickets/new/"


def file_ticket(account, user, category_name="Incident solving", **options):
    return services.ticket_file(
        account=account,
        filed_by=user,
        category=category(category_name),
        subject=options.pop("subject", "Checkout page is blank"),
        description=options.pop("description", "Since the upgrade, checkout shows nothing."),
        **options,
    )


def new_ticket_data(category_name="Incident solving", **overrides):
    return {
        "category": str(category(category_name).pk),
        "subject": "Checkout page is blank",
        "description": "Since this morning the checkout page shows nothing.",
        **overrides,
    }


@pytest.fixture
def funded(client):
    account, user = customer(100)
    client.force_login(user)
    return account, user


# --- Filing a ticket ----------------------------------------------------------------------------


def test_pages_need_a_login(client):
    for url in ["/tickets/", NEW, "/tickets/1/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_staff_without_an_account_are_sent_to_the_admin(client):
    client.force_login(StaffUserFactory())

    response = client.get(NEW)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_new_ticket_page_offers_the_catalog_grouped_with_prices_and_shows_the_balance(
    client, funded
):
    root = parse(client.get(NEW).content)

    select = find(root, "select", name="category")
    groups = {
        attr(g, "label"): [text(o) for o in find_all(g, "option")]
        for g in find_all(select, "optgroup")
    }
    assert list(groups) == [
        "General assistance",
        "Technical support consulting & assistance",
        "Installation services",
        "Transfer services",
        "Optimization services",
    ]
    assert groups["General assistance"] == ["General questions — free"]
    consulting = groups["Technical support consulting & assistance"]
    assert "Incident solving — 40 points" in consulting
    assert "Other issues — price on request" in consulting
    installation = groups["Installation services"]
    assert "Installation of 3rd-party web software — from 120 points" in installation
    assert "Installation of X-Cart SEO enhancements — 60–2040 points" in installation
    assert "Google Analytics setup — 60 points per hour" in installation
    assert "100 points available" in text(find(root, "aside"))
    labels = [
        text(label)
        for label in find_all(find(root, "form", enctype="multipart/form-data"), "label")
    ]
    assert "HotRush: first response within 1 working hour" in labels
    assert "Costs twice the category's price." in text(
        find(root, "div", id="id_is_urgent_helptext")
    )
    assert "Send me a price quote before work starts" in labels
    assert "Attachments (optional)" in labels
    attachments = find(root, "input", type="file", name="attachments")
    assert "multiple" in dict(attachments.attributes)


def test_filing_a_ticket_captures_its_price_and_opens_the_ticket_page(client, funded):
    account, user = funded

    response = client.post(NEW, new_ticket_data(attachments=[png()]), follow=True)

    ticket = Ticket.objects.get()
    assert response.redirect_chain == [(f"/tickets/{ticket.pk}/", 302)]
    assert (ticket.account, ticket.filed_by, ticket.status) == (account, user, TicketStatus.OPEN)
    assert Hold.objects.get(ticket=ticket).amount == 40
    assert points_available(account=account) == 60
    root = parse(response.content)
    assert f"Ticket #{ticket.pk} is filed. 40 points are captured" in text(
        find(root, "div", class_="messages")
    )
    assert "screenshot.png" in text(find(root, "ol", class_="thread"))


def test_urgent_ticket_captures_twice_the_price(client, funded):
    account, _user = funded

    client.post(NEW, new_ticket_data(is_urgent="on"))

    ticket = Ticket.objects.get()
    assert ticket.is_urgent
    assert Hold.objects.get(ticket=ticket).amount == 80


def test_quote_first_ticket_captures_nothing(client, funded):
    account, _user = funded

    response = client.post(NEW, new_ticket_data(quote_first="on"), follow=True)

    ticket = Ticket.objects.get()
    assert ticket.status == TicketStatus.AWAITING_QUOTE
    assert not Hold.objects.exists()
    assert points_available(account=account) == 100
    assert "nothing is captured until you accept it" in response.content.decode()


def test_a_free_ticket_needs_no_balance(client):
    account, user = customer(0)
    client.force_login(user)

    response = client.post(NEW, new_ticket_data("General questions"))

    assert response.status_code == 302
    assert Ticket.objects.get().status == TicketStatus.OPEN


def test_insufficient_points_files_nothing_and_keeps_everything_typed(client):
    account, user = customer(30)
    client.force_login(user)
    before = db_state()

    response = client.post(
        NEW,
        new_ticket_data(
            is_urgent="on", description="Line one\nLine <two> & three", attachments=[png()]
        ),
    )

    assert response.status_code == 200
    assert db_state() == before
    root = parse(response.content)
    alert = find(root, "div", id="insufficient-points")
    assert attr(alert, "role") == "alert"
    assert "50 more points are needed." in text(alert)
    assert "This ticket costs 80 points: 40 × 2 for HotRush. You have 30 available." in text(alert)
    assert "Please attach your files again" in text(alert)
    buy = find(alert, "a", class_="button")
    assert attr(buy, "href") == "/communication-center/support-points/buy/?next=%2Ftickets%2Fnew%2F"
    assert attr(find(root, "input", name="subject"), "value") == "Checkout page is blank"
    assert text(find(root, "textarea", name="description")) == "Line one Line <two> & three"
    assert "Line &lt;two&gt; &amp; three" in response.content.decode()
    assert "checked" in dict(find(root, "input", name="is_urgent").attributes)
    selected = [o for o in find_all(root, "option") if "selected" in dict(o.attributes)]
    assert [text(o) for o in selected] == ["Incident solving — 40 points"]


def test_without_hotrush_the_refusal_states_the_plain_price(client):
    account, user = customer(30)
    client.force_login(user)

    response = client.post(NEW, new_ticket_data())

    alert = text(find(parse(response.content), "div", id="insufficient-points"))
    assert "This ticket costs 40 points and you have 30 available." in alert
    assert "HotRush" not in alert


def test_the_draft_comes_back_after_buying_points_and_says_so(client):
    account, user = customer(0)
    client.force_login(user)
    client.post(NEW, new_ticket_data(subject="Kept while I buy"))

    root = parse(client.get(NEW).content)

    assert attr(find(root, "input", name="subject"), "value") == "Kept while I buy"
    notice = find(root, "div", id="draft-notice")
    assert "We restored the ticket you were writing." in text(notice)
    assert "Files are not kept: attach them again." in text(notice)
    assert "HotRush" not in text(notice)
    discard = find(notice, "form", action="/tickets/new/discard-draft/")
    assert attr(discard, "method") == "post"
    assert text(find(discard, "button")) == "Discard draft"
    # The draft stays until the ticket is filed or discarded: a reload shows it again.
    again = parse(client.get(NEW).content)
    assert attr(find(again, "input", name="subject"), "value") == "Kept while I buy"


def test_a_restored_hotrush_draft_says_the_price_is_doubled(client):
    account, user = customer(0)
    client.force_login(user)
    client.post(NEW, new_ticket_data(is_urgent="on"))

    root = parse(client.get(NEW).content)

    assert "checked" in dict(find(root, "input", name="is_urgent").attributes)
    assert "HotRush is ticked, so the ticket costs twice the category's price." in text(
        find(root, "div", id="draft-notice")
    )


def test_discarding_the_draft_empties_the_form(client):
    account, user = customer(0)
    client.force_login(user)
    client.post(NEW, new_ticket_data(subject="Not needed any more", is_urgent="on"))
    before = db_state()

    response = client.post("/tickets/new/discard-draft/", follow=True)

    assert response.redirect_chain == [("/tickets/new/", 302)]
    root = parse(response.content)
    assert "The draft is discarded." in text(find(root, "div", class_="messages"))
    assert not find_all(root, "div", id="draft-notice")
    assert attr(find(root, "input", name="subject"), "value") is None
    assert "checked" not in dict(find(root, "input", name="is_urgent").attributes)
    assert db_state() == before
    # Discarding again (a replayed request) changes nothing and says nothing.
    replay = client.post("/tickets/new/discard-draft/", follow=True)
    assert not find_all(parse(replay.content), "div", class_="messages")


def test_discarding_a_draft_is_a_post_by_a_customer(client):
    account, user = customer(0)
    client.force_login(user)
    client.post(NEW, new_ticket_data(subject="Keep me"))

    assert client.get("/tickets/new/discard-draft/").status_code == 405
    anonymous = Client()
    response = anonymous.post("/tickets/new/discard-draft/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert attr(find(parse(client.get(NEW).content), "input", name="subject"), "value") == (
        "Keep me"
    )


def test_the_new_ticket_page_makes_as_many_queries_with_a_restored_draft(client):
    account, user = customer(0)
    client.force_login(user)
    without_draft = count_queries(client, NEW)
    client.post(NEW, new_ticket_data(is_urgent="on"))

    with_draft = count_queries(client, NEW)

    assert with_draft == without_draft


def test_filing_the_restored_draft_forgets_it(client):
    account, user = customer(0)
    client.force_login(user)
    client.post(NEW, new_ticket_data(subject="Filed after buying"))
    points_grant(account=account, points=100, reason="Bought", actor=None)

    client.post(NEW, new_ticket_data(subject="Filed after buying"))

    assert Ticket.objects.get().subject == "Filed after buying"
    root = parse(client.get(NEW).content)
    assert not find_all(root, "div", id="draft-notice")
    assert attr(find(root, "input", name="subject"), "value") is None


def test_a_refused_attachment_is_explained_at_the_field_and_nothing_is_filed(client, funded):
    before = db_state()

    response = client.post(NEW, new_ticket_data(attachments=[text_file("virus.exe", b"MZ")]))

    assert response.status_code == 200
    assert db_state() == before
    field = find(parse(response.content), "div", id="field-attachments")
    assert "“virus.exe” can't be attached: allowed file types are" in text(field)
    assert "png, jpg" in text(field)


def test_missing_fields_are_reported_next_to_them(client, funded):
    response = client.post(NEW, {"category": "", "subject": "", "description": ""})

    root = parse(response.content)
    for name in ["category", "subject", "description"]:
        assert "This field is required." in text(find(root, "div", id=f"field-{name}"))
    assert not Ticket.objects.exists()


def test_an_inactive_category_cannot_be_chosen(client, funded):
    retired = category("SEO analysis")
    retired.is_active = False
    retired.save()

    response = client.post(NEW, new_ticket_data("SEO analysis"))

    assert "Select a valid choice" in text(
        find(parse(response.content), "div", id="field-category")
    )
    assert not Ticket.objects.exists()


# --- My tickets ---------------------------------------------------------------------------------


def ticket_numbers(response) -> list[int]:
    root = parse(response.content)
    return [
        int(text(find(row, "span", class_="ticket-number")).lstrip("#"))
        for row in find_all(root, "li", class_="ticket-row")
    ]


def test_my_tickets_lists_every_user_of_the_account_newest_activity_first(client, funded):
    account, owner = funded
    colleague = UserFactory()
    account.memberships.create(user=colleague, role="member")
    now = timezone.now()
    old = TicketFactory(account=account, filed_by=owner, last_activity_at=now - timedelta(days=3))
    recent = TicketFactory(account=account, filed_by=colleague, last_activity_at=now)
    middle = TicketFactory(account=account, filed_by=owner, last_activity_at=now - timedelta(1))
    TicketFactory(subject="Someone else's problem")

    response = client.get("/tickets/")

    assert ticket_numbers(response) == [recent.pk, middle.pk, old.pk]
    assert "Someone else's problem" not in response.content.decode()
    assert f"filed by {colleague.get_full_name()}" in response.content.decode()


def test_my_tickets_shows_the_points_of_each_ticket(client, funded):
    account, user = funded
    captured = file_ticket(account, user)
    waiting = file_ticket(account, user, "Other issues")

    root = parse(client.get("/tickets/").content)

    rows = {
        int(text(find(r, "span", class_="ticket-number")).lstrip("#")): text(r)
        for r in find_all(root, "li", class_="ticket-row")
    }
    assert "40 captured" in rows[captured.pk]
    assert "waiting for a quote" in rows[waiting.pk]


def test_my_tickets_filters_by_status_and_searches_subject_or_number(client, funded):
    account, _user = funded
    printer = TicketFactory(account=account, subject="Printer invoice layout")
    closed = TicketFactory(account=account, subject="Old closed one", status=TicketStatus.CLOSED)
    cancelled = TicketFactory(account=account, status=TicketStatus.CANCELLED)
    waiting = TicketFactory(account=account, status=TicketStatus.WAITING_FOR_CUSTOMER)

    assert ticket_numbers(client.get("/tickets/?status=closed")) == [closed.pk]
    assert set(ticket_numbers(client.get("/tickets/?status=active"))) == {printer.pk, waiting.pk}
    assert ticket_numbers(client.get("/tickets/?q=invoice")) == [printer.pk]
    assert ticket_numbers(client.get(f"/tickets/?q=%23{cancelled.pk}")) == [cancelled.pk]
    visible = set(ticket_numbers(client.get("/tickets/?hide_closed=on")))
    assert visible == {printer.pk, waiting.pk}


def test_my_tickets_is_paginated_and_keeps_the_filters(client, funded):
    account, _user = funded
    for _ in range(25):
        TicketFactory(account=account, subject="Same kind of issue")

    first = client.get("/tickets/?q=kind")
    second = client.get("/tickets/?q=kind&page=2")

    assert len(ticket_numbers(first)) == 20
    assert len(ticket_numbers(second)) == 5
    next_link = find(find(parse(first.content), "nav", class_="pagination"), "a", rel="next")
    assert attr(next_link, "href") == "?q=kind&page=2"


def test_my_tickets_invites_a_new_customer_to_file_a_first_ticket(client, funded):
    root = parse(client.get("/tickets/").content)

    assert "No tickets yet" in text(find(root, "div", class_="empty"))


# --- The ticket page ----------------------------------------------------------------------------


def fact(root, label: str) -> str:
    """The value of one fact at the top of the customer's ticket page."""
    for item in find_all(find(root, "dl", class_="facts"), "div"):
        if text(find(item, "dt")) == label:
            return text(find(item, "dd"))
    raise AssertionError(f"no fact {label!r}")


@pytest.mark.parametrize("ending", ["resolved", "software_bug", "cancelled", "closed"])
def test_a_ticket_that_ended_without_a_reply_shows_no_first_response_due(client, funded, ending):
    account, user = funded
    ticket = file_ticket(account, user)
    staff = StaffUserFactory()
    if ending == "resolved":
        services.ticket_resolve(ticket=ticket, actor=staff, reason="Fixed")
    elif ending == "software_bug":
        services.ticket_mark_software_bug(ticket=ticket, actor=staff, reason="Known bug")
    elif ending == "cancelled":
        services.ticket_cancel(ticket=ticket, actor=user)
    else:
        services.ticket_resolve(ticket=ticket, actor=staff, reason="Fixed")
        services.tickets_close_quiet(at=timezone.now() + timedelta(days=30))

    root = parse(client.get(f"/tickets/{ticket.pk}/").content)

    assert fact(root, "First response") == "—"
    assert "due by" not in text(root)
    row = find(parse(client.get("/tickets/").content), "li", class_="ticket-row")
    assert "due" not in text(row).lower()


def test_a_ticket_waiting_for_its_first_response_says_when_it_is_due(client, funded):
    account, user = funded
    ticket = file_ticket(account, user, is_urgent=True)
    waiting = parse(client.get(f"/tickets/{ticket.pk}/").content)

    assert fact(waiting, "First response").startswith("due by ")
    services.ticket_reply(ticket=ticket, author=StaffUserFactory(), body="On it.")
    answered = parse(client.get(f"/tickets/{ticket.pk}/").content)
    assert "due by" not in fact(answered, "First response")


def test_dates_ending_a_sentence_never_make_two_full_stops(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)
    services.access_details_set(
        ticket=ticket, actor=user, host="shop.example.com", login="admin", password="pw"
    )
    # 1:22 p.m. yesterday: the time format itself ends with a full stop.
    afternoon = timezone.localtime() - timedelta(days=1)
    afternoon = afternoon.replace(hour=13, minute=22, second=0, microsecond=0)
    AccessDetails.objects.filter(ticket=ticket).update(updated_at=afternoon)
    staff = StaffUserFactory()
    services.ticket_reply(ticket=ticket, author=staff, body="Fixed.")
    services.ticket_resolve(ticket=ticket, actor=staff, reason="Fixed", at=afternoon)

    root = parse(client.get(f"/tickets/{ticket.pk}/").content)

    page_text = text(root)
    assert ".." not in page_text
    assert "1:22 p.m., replying reopens it at no extra cost." in page_text
    assert "1:22 p.m. you gave access details: they are stored encrypted" in page_text


def test_hotrush_is_named_and_explained_on_the_ticket_pages(client, funded):
    account, user = funded
    ticket = file_ticket(account, user, is_urgent=True)

    root = parse(client.get(f"/tickets/{ticket.pk}/").content)

    assert text(find(root, "span", class_="badge-urgent")) == "HotRush"
    assert text(find(root, "p", class_="hotrush-note")) == (
        "HotRush: twice the category's price, first response within one working hour."
    )
    assert fact(root, "Category") == "Incident solving · 40 points × 2 (HotRush)"
    assert text(
        find(find(root, "form", action=f"/tickets/{ticket.pk}/drop-urgency/"), "button")
    ) == ("Drop HotRush")
    listed = parse(client.get("/tickets/").content)
    assert text(find(listed, "span", class_="badge-urgent")) == "HotRush"
    assert "Urgent" not in text(root) and "Urgent" not in text(listed)

    response = client.post(f"/tickets/{ticket.pk}/drop-urgency/", follow=True)

    root = parse(response.content)
    assert "The ticket is no longer HotRush; the surcharge is returned." in text(
        find(root, "div", class_="messages")
    )
    history = text(find(root, "section", id="cost"))
    assert "HotRush removed 80 → 40" in history
    assert "Price of Incident solving, doubled for HotRush" in history
    assert "HotRush dropped by the customer" in history


def test_ticket_page_shows_the_thread_without_internal_notes(client, funded):
    account, user = funded
    ticket = file_ticket(account, user, attachments=[png()])
    staff = StaffUserFactory(first_name="Robin")
    services.ticket_reply(ticket=ticket, author=staff, body="Internal: check logs", internal=True)
    services.ticket_reply(ticket=ticket, author=staff, body="Could you send the error log?")

    response = client.get(f"/tickets/{ticket.pk}/")

    root = parse(response.content)
    thread = find(root, "ol", class_="thread")
    messages = find_all(thread, "li", class_="msg")
    assert len(messages) == 2
    assert "Since the upgrade, checkout shows nothing." in text(messages[0])
    assert "Support · Robin" in text(messages[1])
    assert "Could you send the error log?" in text(messages[1])
    assert "Internal: check logs" not in response.content.decode()
    link = find(messages[0], "a", download="")
    attachment = Attachment.objects.get()
    assert attr(link, "href") == f"/tickets/{ticket.pk}/attachments/{attachment.pk}/"


def test_message_text_is_rendered_as_sanitized_markdown(client, funded):
    account, user = funded
    ticket = file_ticket(
        account,
        user,
        description=(
            "**Bold** and `code`\n\n<script>alert('x')</script>\n\nSee "
            '<img src=x onerror="alert(1)"> [link](javascript:alert(2)) [ok](https://example.com)'
        ),
    )

    content = client.get(f"/tickets/{ticket.pk}/").content.decode()

    assert "<strong>Bold</strong>" in content
    assert "<code>code</code>" in content
    assert "<script>alert" not in content
    assert "onerror" not in content
    assert "javascript:" not in content
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer">ok</a>' in content


def test_subject_is_escaped(client, funded):
    account, user = funded
    ticket = file_ticket(account, user, subject="<script>alert(1)</script>")

    content = client.get(f"/tickets/{ticket.pk}/").content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_ticket_page_shows_status_cost_and_the_history_of_cost_changes(client, funded):
    account, user = funded
    staff = StaffUserFactory()
    ticket = file_ticket(account, user, "Consultation on software features")
    services.ticket_change_cost(
        ticket=ticket, points=25, reason="Two modules involved", actor=staff
    )

    root = parse(client.get(f"/tickets/{ticket.pk}/").content)

    assert "Open" in text(find(root, "span", class_="badge-open"))
    facts = text(find(root, "dl", class_="facts"))
    assert "25 points (captured)" in facts
    assert "Consultation on software features · 10 points" in facts
    history = find_all(find(root, "ol", class_="cost-history"), "li")
    assert [text(item) for item in history][0].startswith("Price captured 10")
    assert "Cost changed 10 → 25 Two modules involved" in text(history[1])


def test_another_accounts_ticket_is_a_404_and_its_actions_change_nothing(client, funded):
    other_account, other_user = customer(100)
    ticket = file_ticket(other_account, other_user)
    before = db_state()

    for url in ["", "cancel/", "decline-quote/"]:
        assert client.get(f"/tickets/{ticket.pk}/{url}").status_code == 404
    posts = {
        "reply/": {"body": "Hello"},
        "cancel/": {},
        "drop-urgency/": {},
        "quote/accept/": {},
        "quote/decline/": {},
        "reconsider/": {"message": "Too expensive"},
        "rate/": {"score": "5"},
        "access-details/": {"host": "h", "login": "l", "password": "p"},
    }
    for url, data in posts.items():
        assert client.post(f"/tickets/{ticket.pk}/{url}", data).status_code == 404, url
    assert db_state() == before
    assert client.get("/tickets/999999/").status_code == 404


def test_replying_with_an_attachment_adds_it_to_the_thread(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)

    response = client.post(
        f"/tickets/{ticket.pk}/reply/",
        {"body": "Here is the log.", "attachments": [text_file("error.log")]},
    )

    message = Message.objects.filter(ticket=ticket).last()
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.pk}/#message-{message.pk}"
    assert message.body == "Here is the log."
    assert list(message.attachments.values_list("name", flat=True)) == ["error.log"]


def test_an_empty_reply_is_refused_at_the_field_and_keeps_nothing(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)
    before = db_state()

    response = client.post(f"/tickets/{ticket.pk}/reply/", {"body": "   "})

    assert response.status_code == 200
    assert "This field is required." in text(find(parse(response.content), "div", id="field-body"))
    assert db_state() == before


def test_a_reply_with_a_bad_attachment_keeps_the_text_and_stores_nothing(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)
    before = db_state()

    response = client.post(
        f"/tickets/{ticket.pk}/reply/",
        {"body": "See attached", "attachments": [text_file("fake.pdf", b"not a pdf")]},
    )

    root = parse(response.content)
    assert "“fake.pdf” is not a valid .pdf file." in text(find(root, "div", id="field-attachments"))
    assert text(find(root, "textarea", name="body")) == "See attached"
    assert db_state() == before


def resolve(ticket, *, at=None):
    staff = StaffUserFactory()
    services.ticket_reply(ticket=ticket, author=staff, body="Done.")
    return services.ticket_resolve(ticket=ticket, actor=staff, at=at)


def test_replying_to_a_resolved_ticket_within_the_window_reopens_it(client, funded):
    account, user = funded
    ticket = resolve(file_ticket(account, user))

    page = parse(client.get(f"/tickets/{ticket.pk}/").content)
    assert ", replying reopens it at no extra cost." in text(find(page, "section", id="reply"))
    response = client.post(f"/tickets/{ticket.pk}/reply/", {"body": "It is back."}, follow=True)

    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.IN_PROGRESS
    assert "the ticket is reopened" in text(find(parse(response.content), "div", class_="messages"))


def test_a_resolved_ticket_past_the_reopen_window_can_no_longer_be_answered(client, funded):
    account, user = funded
    ticket = resolve(file_ticket(account, user), at=timezone.now() - timedelta(days=20))
    before = db_state()

    page = parse(client.get(f"/tickets/{ticket.pk}/").content)
    assert not find_all(page, "textarea", name="body")
    assert "can no longer be answered" in text(find(page, "section", id="reply"))
    response = client.post(f"/tickets/{ticket.pk}/reply/", {"body": "Hello?"}, follow=True)

    assert "can no longer be reopened" in text(
        find(parse(response.content), "div", class_="messages")
    )
    assert db_state() == before


def test_cancelling_asks_for_confirmation_then_returns_the_points(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)

    confirm = parse(client.get(f"/tickets/{ticket.pk}/cancel/").content)
    assert "its 40 points come back to your balance" in text(find(confirm, "main"))
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN
    response = client.post(f"/tickets/{ticket.pk}/cancel/", follow=True)

    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CANCELLED
    assert points_available(account=account) == 100
    assert "its 40 points are back in your balance" in text(
        find(parse(response.content), "div", class_="messages")
    )


def test_cancel_is_not_offered_and_refused_once_support_answered(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)
    services.ticket_reply(ticket=ticket, author=StaffUserFactory(), body="On it.")
    before = db_state()

    page = parse(client.get(f"/tickets/{ticket.pk}/").content)
    assert not [
        a for a in find_all(page, "a") if attr(a, "href") == f"/tickets/{ticket.pk}/cancel/"
    ]
    response = client.post(f"/tickets/{ticket.pk}/cancel/", follow=True)

    assert "already answered" in text(find(parse(response.content), "div", class_="messages"))
    assert db_state() == before


def test_dropping_urgency_returns_the_surcharge(client, funded):
    account, user = funded
    ticket = file_ticket(account, user, is_urgent=True)

    page = parse(client.get(f"/tickets/{ticket.pk}/").content)
    assert find(page, "form", action=f"/tickets/{ticket.pk}/drop-urgency/")
    client.post(f"/tickets/{ticket.pk}/drop-urgency/")

    assert not Ticket.objects.get(pk=ticket.pk).is_urgent
    assert Hold.objects.get(ticket=ticket).amount == 40
    assert points_available(account=account) == 60


def test_urgency_cannot_be_dropped_once_assigned(client, funded):
    account, user = funded
    ticket = file_ticket(account, user, is_urgent=True)
    staff = StaffUserFactory()
    services.ticket_assign(ticket=ticket, assignee=staff, actor=staff)
    before = db_state()

    page = parse(client.get(f"/tickets/{ticket.pk}/").content)
    assert not find_all(page, "form", action=f"/tickets/{ticket.pk}/drop-urgency/")
    client.post(f"/tickets/{ticket.pk}/drop-urgency/")

    assert db_state() == before


def quoted(account, user, points=70):
    ticket = file_ticket(account, user, "Other issues")
    services.ticket_set_quote(
        ticket=ticket, points=points, note="Moving the **store**", actor=StaffUserFactory()
    )
    return ticket


def test_the_quote_is_shown_and_accepting_it_captures_its_points(client, funded):
    account, user = funded
    ticket = quoted(account, user)

    section = find(parse(client.get(f"/tickets/{ticket.pk}/").content), "section", id="quote")
    assert "Our quote: 70 points" in text(section)
    assert "<strong>store</strong>" in client.get(f"/tickets/{ticket.pk}/").content.decode()
    client.post(f"/tickets/{ticket.pk}/quote/accept/")

    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN
    assert Hold.objects.get(ticket=ticket).amount == 70


def test_accepting_a_quote_without_enough_points_changes_nothing_and_links_to_buying(
    client, funded
):
    account, user = funded
    ticket = quoted(account, user, points=150)
    before = db_state()

    response = client.post(f"/tickets/{ticket.pk}/quote/accept/", follow=True)

    box = find(parse(response.content), "div", class_="messages")
    assert "50 more points are needed" in text(box)
    assert attr(find(box, "a"), "href") == "/communication-center/support-points/buy/"
    assert db_state() == before


def test_declining_a_quote_asks_first_then_cancels_at_no_cost(client, funded):
    account, user = funded
    ticket = quoted(account, user)

    confirm = client.get(f"/tickets/{ticket.pk}/quote/decline/")
    assert "the ticket is cancelled and nothing is taken" in text(parse(confirm.content))
    client.post(f"/tickets/{ticket.pk}/quote/decline/")

    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CANCELLED
    assert points_available(account=account) == 100


def test_asking_to_reconsider_needs_a_message(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)
    before = db_state()

    response = client.post(f"/tickets/{ticket.pk}/reconsider/", {"message": ""})

    root = parse(response.content)
    assert "This field is required." in text(find(root, "div", id="field-message"))
    disclosure = find(find(root, "section", id="cost"), "details", class_="disclosure")
    assert "open" in dict(disclosure.attributes)
    assert db_state() == before


def test_asking_to_reconsider_records_the_request_and_shows_its_status(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)

    client.post(f"/tickets/{ticket.pk}/reconsider/", {"message": "It was a one-line fix."})

    asked = ReconsiderationRequest.objects.get()
    assert (asked.ticket, asked.requested_by, asked.message) == (
        ticket,
        user,
        "It was a one-line fix.",
    )
    section = find(parse(client.get(f"/tickets/{ticket.pk}/").content), "section", id="cost")
    assert "Waiting for a decision" in text(section)
    assert not find_all(section, "form")


def test_badges_follow_each_reconsideration_decision_and_the_outcome(client, funded):
    account, user = funded
    staff = StaffUserFactory()
    ticket = file_ticket(account, user)
    first = services.ticket_request_reconsideration(ticket=ticket, actor=user, message="Too much")
    services.ticket_decide_reconsideration(
        reconsideration=first, actor=staff, reason="Fair", new_points=30
    )
    second = services.ticket_request_reconsideration(ticket=ticket, actor=user, message="Still")
    services.ticket_decide_reconsideration(reconsideration=second, actor=staff, reason="No")
    services.ticket_request_reconsideration(ticket=ticket, actor=user, message="Please")

    page = parse(client.get(f"/tickets/{ticket.pk}/").content)
    badges = find_all(find(page, "section", id="cost"), "span", class_="badge")
    assert [(attr(badge, "class"), text(badge)) for badge in badges] == [
        ("badge badge-warning", "Waiting for a decision"),
        ("badge badge-neutral", "Declined"),
        ("badge badge-success", "Cost lowered"),
    ]
    history = text(find(page, "ol", class_="cost-history"))
    assert "Lowered on reconsideration" in history

    services.ticket_mark_software_bug(ticket=ticket, actor=staff, reason="Bug #42")
    header = find(
        parse(client.get(f"/tickets/{ticket.pk}/").content), "header", class_="page-header"
    )
    assert [attr(badge, "class") for badge in find_all(header, "span", class_="badge")] == [
        "badge badge-resolved",
        "badge badge-success",
    ]


def test_a_resolved_ticket_can_be_rated_once(client, funded):
    account, user = funded
    ticket = resolve(file_ticket(account, user))

    client.post(f"/tickets/{ticket.pk}/rate/", {"score": "4", "comment": "Good"})
    response = client.post(f"/tickets/{ticket.pk}/rate/", {"score": "1"}, follow=True)

    assert list(Rating.objects.values_list("score", "comment")) == [(4, "Good")]
    assert "already been rated" in text(find(parse(response.content), "div", class_="messages"))
    assert "4 out of 5" in text(find(parse(response.content), "section", id="rating"))


def test_a_ticket_in_progress_offers_no_rating(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)

    root = parse(client.get(f"/tickets/{ticket.pk}/").content)

    assert not find_all(root, "section", id="rating")


def test_access_details_are_stored_encrypted_and_never_shown_back(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)

    client.post(
        f"/tickets/{ticket.pk}/access-details/",
        {"host": "shop.example.com", "login": "admin", "password": "s3cret-Pa55"},
    )

    details = AccessDetails.objects.get(ticket=ticket)
    assert b"s3cret-Pa55" not in bytes(details.ciphertext)
    content = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "s3cret-Pa55" not in content
    assert "shop.example.com" not in content
    assert "you gave access details: they are stored encrypted" in content
    staff = StaffUserFactory()
    revealed = services.access_details_reveal(ticket=ticket, viewer=staff)
    assert (revealed["host"], revealed["login"], revealed["password"]) == (
        "shop.example.com",
        "admin",
        "s3cret-Pa55",
    )


# --- Attachments --------------------------------------------------------------------------------


def attachment_of(ticket) -> Attachment:
    return Attachment.objects.get(message__ticket=ticket)


def test_an_attachment_is_downloaded_by_the_account_through_the_checked_view(client, funded):
    account, user = funded
    ticket = file_ticket(account, user, attachments=[text_file("report.pdf", PDF)])
    attachment = attachment_of(ticket)

    response = client.get(f"/tickets/{ticket.pk}/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert attachment.get_absolute_url() == f"/tickets/{ticket.pk}/attachments/{attachment.pk}/"


def test_attachments_are_not_reachable_from_a_public_url(client, funded):
    account, user = funded
    ticket = file_ticket(account, user, attachments=[png()])
    stored_name = attachment_of(ticket).file.name

    assert client.get(f"/media/{stored_name}").status_code == 404
    assert client.get(f"/{stored_name}").status_code == 404


def test_another_account_cannot_download_an_attachment(client, funded):
    other_account, other_user = customer(100)
    ticket = file_ticket(other_account, other_user, attachments=[png()])
    attachment = attachment_of(ticket)

    assert client.get(f"/tickets/{ticket.pk}/attachments/{attachment.pk}/").status_code == 404
    client.logout()
    response = client.get(f"/tickets/{ticket.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 302


def test_an_attachment_cannot_be_fetched_through_another_ticket_of_the_account(client, funded):
    account, user = funded
    first = file_ticket(account, user, attachments=[png()])
    second = file_ticket(account, user, "General questions")

    url = f"/tickets/{second.pk}/attachments/{attachment_of(first).pk}/"

    assert client.get(url).status_code == 404


def test_attachments_of_internal_notes_are_for_staff_only(client, funded):
    account, user = funded
    ticket = file_ticket(account, user)
    staff = StaffUserFactory()
    services.ticket_reply(
        ticket=ticket, author=staff, body="Our trace", internal=True, attachments=[png("t.png")]
    )
    attachment = attachment_of(ticket)
    url = f"/tickets/{ticket.pk}/attachments/{attachment.pk}/"

    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200


# --- Query counts -------------------------------------------------------------------------------


def build_tickets(account, user, count):
    """`count` tickets with a captured hold and a message each, inserted in bulk."""
    now = timezone.now()
    incident = category("Incident solving")
    tickets = Ticket.objects.bulk_create(
        Ticket(
            account=account,
            filed_by=user,
            category=incident,
            subject=f"Problem {n}",
            status=TicketStatus.OPEN,
            created_at=now - timedelta(minutes=n),
            last_activity_at=now - timedelta(minutes=n),
        )
        for n in range(count)
    )
    Hold.objects.bulk_create(
        Hold(account=account, ticket=t, amount=0, created_at=now, status=HoldStatus.OPEN)
        for t in tickets
    )
    Message.objects.bulk_create(
        Message(ticket=t, author=user, body="Hello", created_at=now) for t in tickets
    )
    return tickets


def build_thread(ticket, user, count):
    """`count` more messages (each with an attachment) and cost changes on one ticket."""
    now = timezone.now()
    staff = StaffUserFactory()
    messages = Message.objects.bulk_create(
        Message(
            ticket=ticket,
            author=staff if n % 2 else user,
            is_from_staff=bool(n % 2),
            body=f"Message **{n}**",
            created_at=now + timedelta(seconds=n),
        )
        for n in range(count)
    )
    Attachment.objects.bulk_create(
        Attachment(
            message=m,
            file="attachments/x.png",
            name="x.png",
            content_type="image/png",
            size=10,
            created_at=now,
        )
        for m in messages
    )
    CostChange.objects.bulk_create(
        CostChange(
            ticket=ticket,
            kind=CostChangeKind.CHANGED,
            old_points=40,
            new_points=40,
            reason="Recount",
            created_at=now + timedelta(seconds=n),
        )
        for n in range(count)
    )


def test_my_tickets_makes_as_many_queries_for_500_tickets_as_for_5(client):
    small_account, small_user = customer(0)
    big_account, big_user = customer(0)
    build_tickets(small_account, small_user, 5)
    build_tickets(big_account, big_user, 500)

    client.force_login(small_user)
    small = count_queries(client, "/tickets/")
    client.force_login(big_user)
    big = count_queries(client, "/tickets/")
    big_filtered = count_queries(client, "/tickets/?status=open&q=Problem&page=3")

    assert small == big == big_filtered


def test_the_ticket_page_makes_as_many_queries_for_500_messages_as_for_5(client):
    small_account, small_user = customer(100)
    big_account, big_user = customer(100)
    small_ticket = file_ticket(small_account, small_user)
    big_ticket = file_ticket(big_account, big_user)
    build_thread(small_ticket, small_user, 5)
    build_thread(big_ticket, big_user, 500)

    client.force_login(small_user)
    small = count_queries(client, f"/tickets/{small_ticket.pk}/")
    client.force_login(big_user)
    with CaptureQueriesContext(connection):
        big = count_queries(client, f"/tickets/{big_ticket.pk}/")

    assert small == big
    assert small <= 12
