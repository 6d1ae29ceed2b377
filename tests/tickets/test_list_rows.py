"""The rows of "my tickets": every text a row shows, in every state of its points."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import StaffUserFactory, TicketFactory, UserFactory
from tests.html import attr, find, find_all, parse, text
from tests.web import category, customer
from tickets import services
from tickets.models import TicketStatus
from tickets.selectors import TicketList, TicketListRow, tickets_for_account

pytestmark = pytest.mark.django_db


def file_ticket(account, user, category_name="Incident solving", **options):
    return services.ticket_file(
        account=account,
        filed_by=user,
        category=category(category_name),
        subject=options.pop("subject", "Checkout page is blank"),
        description="Since the upgrade, checkout shows nothing.",
        **options,
    )


def rows(client) -> dict[int, object]:
    """Each row of the first page by its ticket number."""
    root = parse(client.get("/tickets/").content)
    return {
        int(text(find(row, "span", class_="ticket-number")).lstrip("#")): row
        for row in find_all(root, "li", class_="ticket-row")
    }


@pytest.fixture
def funded(client):
    account, user = customer(1000)
    client.force_login(user)
    return account, user


def test_each_row_says_what_its_ticket_holds_or_cost(client, funded):
    account, user = funded
    staff = StaffUserFactory()
    captured = file_ticket(account, user)
    deducted = file_ticket(account, user)
    services.ticket_resolve(ticket=deducted, actor=staff, reason="Fixed")
    returned = file_ticket(account, user)
    services.ticket_cancel(ticket=returned, actor=user)
    waiting = file_ticket(account, user, "Other issues")
    no_hold = TicketFactory(account=account, filed_by=user)

    shown = {
        number: text(find(row, "span", class_="ticket-points"))
        for number, row in rows(client).items()
    }

    assert shown == {
        captured.pk: "40 captured",
        deducted.pk: "40 deducted",
        returned.pk: "points returned",
        waiting.pk: "waiting for a quote",
        no_hold.pk: "no points",
    }


def test_a_row_counts_public_messages_only_and_names_who_filed_it(client, funded):
    account, user = funded
    colleague = UserFactory(first_name="", last_name="", email="nameless@example.com")
    account.memberships.create(user=colleague, role="member")
    ticket = file_ticket(account, colleague)
    services.ticket_reply(ticket=ticket, author=StaffUserFactory(), body="Hi", internal=True)
    other = file_ticket(account, user)
    services.ticket_reply(ticket=other, author=user, body="More details")
    services.ticket_reply(ticket=other, author=StaffUserFactory(), body="Looking into it")

    shown = {
        number: text(find(row, "p", class_="ticket-row-meta"))
        for number, row in rows(client).items()
    }

    assert shown[ticket.pk].startswith(
        "Incident solving · filed by nameless@example.com · 1 message · last activity "
    )
    assert shown[other.pk].startswith(
        f"Incident solving · filed by {user.get_full_name()} · 3 messages · last activity "
    )


def test_a_row_says_how_long_ago_its_last_activity_was(client, funded):
    account, user = funded
    ticket = TicketFactory(
        account=account, filed_by=user, last_activity_at=timezone.now() - timedelta(hours=2)
    )

    meta = text(find(rows(client)[ticket.pk], "p", class_="ticket-row-meta"))

    assert meta.endswith("· 0 messages · last activity 2\xa0hours ago")


def test_a_row_links_to_its_ticket_and_shows_its_status_and_hotrush(client, funded):
    account, user = funded
    urgent = file_ticket(account, user, is_urgent=True, subject="<b>Down</b> & out")
    plain = TicketFactory(account=account, filed_by=user, status=TicketStatus.WAITING_FOR_CUSTOMER)

    shown = rows(client)

    link = find(shown[urgent.pk], "a")
    assert attr(link, "href") == f"/tickets/{urgent.pk}/"
    assert text(link) == f"#{urgent.pk} <b>Down</b> & out"
    assert [text(badge) for badge in find_all(shown[urgent.pk], "span", class_="badge")] == [
        "Open",
        "HotRush",
    ]
    badge = find(shown[plain.pk], "span", class_="badge")
    assert attr(badge, "class") == "badge badge-waiting_for_customer"
    assert text(badge) == "Waiting for customer"


# --- The page's hand-written query against the ORM's ---------------------------------------------


def as_row(ticket) -> TicketListRow:
    return TicketListRow(
        pk=ticket.pk,
        subject=ticket.subject,
        status=ticket.status,
        is_urgent=ticket.is_urgent,
        last_activity_at=ticket.last_activity_at,
        category_name=ticket.category.name,
        filed_by_name=ticket.filed_by.get_full_name() or ticket.filed_by.email,
        message_count=ticket.message_count,
        points=ticket.points,
        points_status=ticket.points_status,
    )


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": "active"},
        {"status": "closed"},
        {"status": "cancelled"},
        {"status": "open", "hide_closed": True},
        {"hide_closed": True},
        {"query": "printer"},
        {"query": "100%_done"},
        {"query": "#{number}"},
        {"query": "{number}", "status": "active"},
    ],
)
def test_a_page_of_the_list_is_the_orms_tickets_for_the_account(funded, filters):
    account, user = funded
    staff = StaffUserFactory()
    now = timezone.now()
    nameless = UserFactory(first_name="", last_name="")
    account.memberships.create(user=nameless, role="member")
    tickets = [file_ticket(account, user, subject=f"Printer {n}") for n in range(3)]
    tickets.append(file_ticket(account, nameless, "Other issues", subject="100%_done or not"))
    tickets.append(file_ticket(account, user, is_urgent=True, subject="100 percent"))
    services.ticket_reply(ticket=tickets[0], author=staff, body="Public")
    services.ticket_reply(ticket=tickets[0], author=staff, body="Note", internal=True)
    services.ticket_resolve(ticket=tickets[1], actor=staff, reason="Fixed")
    services.ticket_cancel(ticket=tickets[2], actor=user)
    for n in range(25):
        TicketFactory(
            account=account,
            filed_by=user,
            status=[TicketStatus.OPEN, TicketStatus.CLOSED][n % 2],
            # Ties in the last activity: the id orders them.
            last_activity_at=now - timedelta(minutes=n // 3),
        )
    TicketFactory(subject="Printer of another account")
    filters = {
        key: value.format(number=tickets[3].pk) if isinstance(value, str) else value
        for key, value in filters.items()
    }

    listed = TicketList(account=account, **filters)
    expected = [as_row(t) for t in tickets_for_account(account=account, **filters)]

    assert listed.count() == len(expected) > 0
    assert listed[0:20] + listed[20:40] == expected
    assert listed[20:40] == expected[20:40]


def test_the_list_of_an_account_without_tickets_is_empty(funded):
    account, _user = funded

    listed = TicketList(account=account)

    assert listed.count() == 0
    assert listed[0:0] == listed[0:20] == []
