"""The ticket page's cached content: shown again only while every row it shows is unchanged and
no deadline it shows has passed, only after the account's access check, and always with the
requesting session's own CSRF token and layout."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, MembershipRole
from tests.factories import StaffUserFactory, UserFactory
from tests.html import attr, find, find_all, parse, text
from tests.web import count_queries, customer
from tickets import selectors, services
from tickets.models import Ticket, TicketStatus
from tickets.policies import reopen_until

from .test_views import file_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffUserFactory()


@pytest.fixture
def funded_pair():
    """A funded account's owner and a second user of the same account."""
    account, owner = customer(500)
    colleague = UserFactory()
    Membership.objects.create(account=account, user=colleague, role=MembershipRole.MEMBER)
    return (account, owner), colleague


def page(client, ticket) -> str:
    response = client.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def without_tokens(html: str) -> str:
    """The page with its CSRF tokens blanked: each response masks the token anew."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', html)


def cost_section(client, ticket) -> str:
    return text(find(parse(page(client, ticket).encode()), "section", id="cost"))


def cached_keys() -> list[str]:
    return [key for key in cache._cache if ":tickets:page:" in key]


def test_the_second_view_is_served_from_the_cache_and_looks_the_same(client):
    account, user = customer(500)
    ticket = file_ticket(account, user, subject="Blank checkout")
    client.force_login(user)
    first = page(client, ticket)
    assert len(cached_keys()) == 1
    second = page(client, ticket)
    assert without_tokens(second) == without_tokens(first)
    assert f"<title>#{ticket.pk} Blank checkout · HelpDesk</title>" in second


def test_every_form_carries_the_sessions_own_token_and_posting_it_works(funded_pair):
    (account, user), other_user = funded_pair
    ticket = file_ticket(account, user)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(user)
    second.force_login(other_user)
    first_page, second_page = page(first, ticket), page(second, ticket)
    assert len(cached_keys()) == 1  # the second user of the account was served the cached content

    for client, html in ((first, first_page), (second, second_page)):
        content = find(parse(html.encode()), "main")
        tokens = {
            attr(field, "value")
            for field in find_all(content, "input")
            if attr(field, "name") == "csrfmiddlewaretoken"
        }
        assert len(tokens) == 1
        assert "csrf-" not in html
        response = client.post(
            f"/tickets/{ticket.pk}/reply/",
            {"body": "Any news?", "csrfmiddlewaretoken": tokens.pop()},
        )
        assert response.status_code == 302
    assert ticket.messages.filter(body__startswith="Any news?").count() == 2


def test_each_user_gets_their_own_layout_around_the_cached_content(funded_pair):
    (account, owner), colleague = funded_pair
    ticket = file_ticket(account, owner)
    owners, colleagues = Client(), Client()
    owners.force_login(owner)
    colleagues.force_login(colleague)
    assert owner.email in page(owners, ticket)
    colleague_page = page(colleagues, ticket)
    assert colleague.email in colleague_page
    assert owner.email not in text(
        find(parse(colleague_page.encode()), "header", class_="site-header")
    )


def test_another_account_gets_a_404_even_when_the_page_is_cached(client):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    client.force_login(user)
    page(client, ticket)
    _other_account, stranger = customer(500)
    client.force_login(stranger)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 404


def test_a_quote_and_its_answer_show_at_once(client, staff):
    account, user = customer(500)
    ticket = file_ticket(account, user, quote_first=True)
    client.force_login(user)
    assert "Our quote" not in page(client, ticket)

    services.ticket_set_quote(ticket=ticket, points=60, note="Two hours of work", actor=staff)
    assert "Our quote: 60 points" in page(client, ticket)

    services.ticket_accept_quote(ticket=Ticket.objects.get(pk=ticket.pk), actor=user)
    html = page(client, ticket)
    assert "Our quote: 60 points" not in html
    assert "<strong>60</strong>" in html


def test_a_reconsideration_decision_shows_at_once(client, staff):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    request = services.ticket_request_reconsideration(ticket=ticket, actor=user, message="Much")
    client.force_login(user)
    assert "Waiting for a decision" in cost_section(client, ticket)

    services.ticket_decide_reconsideration(
        reconsideration=request, actor=staff, reason="Fair point", new_points=10
    )
    section = cost_section(client, ticket)
    assert "Waiting for a decision" not in section
    assert "Fair point" in section


def status_badge(html: str) -> str:
    return text(find_all(find(parse(html.encode()), "p", class_="badges"), "span")[0])


def test_a_resolution_a_rating_and_access_details_show_at_once(client, staff):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    client.force_login(user)
    before = page(client, ticket)
    assert "you gave access details" not in before
    assert status_badge(before) == "Open"
    assert 'name="score"' not in before

    services.access_details_set(
        ticket=ticket, actor=user, host="h.example", login="l", password="p"
    )
    assert "you gave access details" in page(client, ticket)
    # Their encrypted bytes make a steady version: the page is cached like any other.
    assert count_queries(client, f"/tickets/{ticket.pk}/") == 3

    services.ticket_resolve(ticket=Ticket.objects.get(pk=ticket.pk), actor=staff, reason="Fixed")
    resolved = page(client, ticket)
    assert status_badge(resolved) == "Resolved"
    assert 'name="score"' in resolved

    services.ticket_rate(ticket=Ticket.objects.get(pk=ticket.pk), actor=user, score=4)
    rated = page(client, ticket)
    assert "4 out of 5" in rated
    assert 'name="score"' not in rated


def test_a_renamed_category_and_filer_show_at_once(client):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    client.force_login(user)
    page(client, ticket)

    ticket.category.name = "Renamed category"
    ticket.category.save()
    user.first_name, user.last_name = "Zora", "Quill"
    user.save()

    html = page(client, ticket)
    assert "Renamed category" in html
    assert "Zora Quill" in html


def test_a_form_sent_back_with_errors_is_neither_cached_nor_served_from_the_cache(client):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    client.force_login(user)
    clean = page(client, ticket)
    assert "field-invalid" not in clean

    response = client.post(f"/tickets/{ticket.pk}/reply/", {"body": ""})
    assert response.status_code == 200
    assert 'id="field-body"' in response.content.decode()
    assert "field-invalid" in response.content.decode()

    assert without_tokens(page(client, ticket)) == without_tokens(clean)


def late_badges(html: str) -> list:
    return find_all(find(parse(html.encode()), "dl", class_="facts"), "span", class_="badge-late")


def test_the_page_is_kept_no_longer_than_its_first_response_is_on_time(client):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    client.force_login(user)
    due = ticket.first_response_due_at
    with time_machine.travel(due - timedelta(seconds=30), tick=False):
        assert not late_badges(page(client, ticket))
        assert cached_keys()
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        assert late_badges(page(client, ticket))


def reply_forms(html: str) -> list:
    return find_all(find(parse(html.encode()), "section", id="reply"), "form")


def test_the_page_is_kept_no_longer_than_the_reopening_window(client, staff):
    account, user = customer(500)
    ticket = file_ticket(account, user)
    services.ticket_resolve(ticket=ticket, actor=staff, reason="Fixed")
    client.force_login(user)
    until = reopen_until(Ticket.objects.get(pk=ticket.pk))
    with time_machine.travel(until - timedelta(seconds=30), tick=False):
        assert reply_forms(page(client, ticket))
        assert cached_keys()
    with time_machine.travel(until + timedelta(seconds=1), tick=False):
        assert not reply_forms(page(client, ticket))


def test_shows_the_same_for_names_the_next_deadline():
    account, user = customer(500)
    ticket = file_ticket(account, user)
    now = timezone.now()
    waiting = selectors.customer_ticket_page(
        account=account, user=user, ticket_id=ticket.pk, at=now
    )
    assert waiting.shows_the_same_for(now) == ticket.first_response_due_at - now
    late = ticket.first_response_due_at + timedelta(minutes=1)
    overdue = selectors.customer_ticket_page(
        account=account, user=user, ticket_id=ticket.pk, at=late
    )
    assert overdue.shows_the_same_for(late) == timedelta.max
    assert ticket.status == TicketStatus.OPEN


SQLITE_SCRIPT = """
import os
import django

os.environ["DATABASE_URL"] = "sqlite:///:memory:"
os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
django.setup()
from django.core.management import call_command
from django.utils import timezone

call_command("migrate", verbosity=0)
from accounts.models import Account, Membership, MembershipRole
from catalog.models import IssueCategory
from helpdesk.models import User
from tickets.models import Message, Ticket
from tickets.selectors import customer_ticket_version

user = User.objects.create(email="a@example.com")
account = Account.objects.create(name="A")
Membership.objects.create(account=account, user=user, role=MembershipRole.OWNER)
now = timezone.now()
ticket = Ticket.objects.create(
    account=account, filed_by=user, category=IssueCategory.objects.first(), subject="S",
    created_at=now, last_activity_at=now,
)
first = customer_ticket_version(account=account, ticket_id=ticket.pk)
Message.objects.create(ticket=ticket, author=user, body="B", body_html="<p>B</p>", created_at=now)
second = customer_ticket_version(account=account, ticket_id=ticket.pk)
print(first.digest != second.digest, first.thread_stamp, second.thread_stamp.startswith("1."))
try:
    customer_ticket_version(account=Account.objects.create(name="B"), ticket_id=ticket.pk)
except Ticket.DoesNotExist:
    print("no such ticket")
"""


def test_the_page_version_runs_on_sqlite_too():
    """The embedded run's database, in a process of its own: the hand-written statements name a
    new message with a new version, and another account's ticket is not found."""
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SECRET_KEY": "x" * 50, "HELPDESK_ENV_FILE": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["True 0.None.None.None.0 True", "no such ticket"]
