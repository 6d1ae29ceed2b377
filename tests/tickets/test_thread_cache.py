"""The ticket page's cached thread: a rendering shown again only while it is still true, and
only to the accounts that may see the ticket; internal notes never in it."""

import os
import subprocess
import sys

import pytest

from privacy.anonymize import ticket_texts_erase
from tests.factories import StaffUserFactory
from tests.html import find_all, parse, text
from tests.web import count_queries, customer
from tickets import services
from tickets.models import Ticket

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


def test_an_erasure_of_personal_data_shows_at_once_on_a_cached_page(client, staff):
    account, user = customer(100)
    ticket = file_ticket(account, user, description="Call Zebulon on 555 0199")
    services.ticket_reply(ticket=ticket, author=user, body="Zebulon again")
    client.force_login(user)
    assert thread(client, ticket) == ["Call Zebulon on 555 0199", "Zebulon again"]

    ticket_texts_erase(Ticket.objects.filter(pk=ticket.pk))

    assert "Zebulon" not in client.get(f"/tickets/{ticket.pk}/").content.decode()


def test_the_thread_stamp_runs_on_sqlite_too():
    """The embedded run's database: the hand-written stamp query, in a process of its own."""
    script = (
        "import django, os;"
        "os.environ['DATABASE_URL'] = 'sqlite:///:memory:';"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'helpdesk.settings';"
        "django.setup();"
        "from django.core.management import call_command;"
        "call_command('migrate', verbosity=0);"
        "from tickets.selectors import thread_stamp;"
        "print(thread_stamp(1))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SECRET_KEY": "x" * 50, "HELPDESK_ENV_FILE": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.None.None.None.0"


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


def test_a_cached_page_makes_three_queries_and_a_cached_thread_spares_two(client, staff):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    services.ticket_reply(ticket=ticket, author=staff, body="Answer")
    client.force_login(user)

    uncached = count_queries(client, f"/tickets/{ticket.pk}/")
    cached = count_queries(client, f"/tickets/{ticket.pk}/")
    # The session, the user with their account, and the page's version.
    assert cached == 3 < uncached

    # A new cost is a new version of the page; its thread has not changed.
    services.ticket_change_cost(
        ticket=ticket, points=ticket.hold.amount + 1, reason="More", actor=staff
    )
    thread_cached = count_queries(client, f"/tickets/{ticket.pk}/")
    # The messages with their authors, and their attachments.
    assert thread_cached == uncached - 2
