"""The ticket page's cached thread: a rendering shown again only while it is still true, and
only to the accounts that may see the ticket; internal notes never in it."""

import pytest

from tests.factories import StaffUserFactory
from tests.html import find_all, parse, text
from tests.web import count_queries, customer
from tickets import services

from .test_views import file_ticket

pytestmark = pytest.mark.django_db


def thread(client, ticket) -> list[str]:
    response = client.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 200
    thread = find_all(parse(response.content), "ol", class_="thread")[0]
    return [text(body) for body in find_all(thread, "div", class_="message-body")]


@pytest.fixture
def staff():
    return StaffUserFactory()


def test_a_new_message_shows_at_once_on_a_cached_page(client, staff):
    account, user = customer(100)
    ticket = file_ticket(account, user, description="First words")
    client.force_login(user)
    assert thread(client, ticket) == ["First words"]

    services.ticket_reply(ticket=ticket, author=staff, body="We are on it")
    services.ticket_reply(ticket=ticket, author=user, body="Thanks")

    assert thread(client, ticket) == ["First words", "We are on it", "Thanks"]


def test_an_internal_note_never_reaches_the_customer_cached_or_not(client, staff):
    account, user = customer(100)
    ticket = file_ticket(account, user, description="First words")
    services.ticket_reply(ticket=ticket, author=staff, body="Secret note one", internal=True)
    client.force_login(user)
    assert thread(client, ticket) == ["First words"]

    services.ticket_reply(ticket=ticket, author=staff, body="Secret note two", internal=True)
    services.ticket_reply(ticket=ticket, author=staff, body="Public answer")

    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Public answer" in page
    assert "Secret note" not in page


def test_another_account_never_sees_a_cached_thread(client):
    first_account, first_user = customer(100)
    second_account, second_user = customer(100)
    first = file_ticket(first_account, first_user, description="Only for the first account")
    second = file_ticket(second_account, second_user, description="Only for the second account")
    client.force_login(first_user)
    assert thread(client, first) == ["Only for the first account"]

    client.force_login(second_user)
    assert client.get(f"/tickets/{first.pk}/").status_code == 404
    assert thread(client, second) == ["Only for the second account"]


def test_a_cost_change_shows_at_once_on_a_cached_page(client, staff):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    client.force_login(user)
    before = client.get(f"/tickets/{ticket.pk}/")
    old = ticket.hold.amount
    assert f"<strong>{old}</strong>" in before.content.decode()

    services.ticket_change_cost(ticket=ticket, points=old + 7, reason="Bigger job", actor=staff)

    after = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f"<strong>{old + 7}</strong>" in after
    assert "Bigger job" in after


def test_a_cached_thread_spares_its_queries(client, staff):
    account, user = customer(100)
    ticket = file_ticket(account, user)
    services.ticket_reply(ticket=ticket, author=staff, body="Answer")
    client.force_login(user)

    uncached = count_queries(client, f"/tickets/{ticket.pk}/")
    cached = count_queries(client, f"/tickets/{ticket.pk}/")

    # The messages with their authors, and their attachments.
    assert cached == uncached - 2
