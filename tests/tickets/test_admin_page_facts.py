"""The admin ticket page works out its policy's facts from the rows it lists anyway: they must be
the facts `with_facts` reads in SQL, in every state the facts can take; and the page reads its
one-to-ones (filer, hold, rating) and its staff list in one plain query each."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.admin_support import support_staff_user
from tests.factories import StaffUserFactory
from tests.web import customer
from tickets import services
from tickets.admin_selectors import staff_ticket_page
from tickets.policies import load_facts

from .test_views import file_ticket

pytestmark = pytest.mark.django_db


def test_the_staff_page_facts_are_the_sql_facts_in_every_state():
    staff = StaffUserFactory(is_superuser=True)
    account, user = customer(500)
    tickets = {}

    tickets["open, points held"] = file_ticket(account, user)
    tickets["waiting for a quote, nothing held"] = file_ticket(account, user, quote_first=True)
    quoted = file_ticket(account, user, quote_first=True)
    services.ticket_set_quote(ticket=quoted, points=30, note="Thirty", actor=staff)
    tickets["a pending quote"] = quoted
    reconsidered = file_ticket(account, user)
    services.ticket_change_cost(ticket=reconsidered, points=60, reason="More work", actor=staff)
    services.ticket_request_reconsideration(ticket=reconsidered, actor=user, message="Too much")
    tickets["a pending reconsideration"] = reconsidered
    declined = file_ticket(account, user)
    services.ticket_change_cost(ticket=declined, points=60, reason="More work", actor=staff)
    request = services.ticket_request_reconsideration(
        ticket=declined, actor=user, message="Too much"
    )
    services.ticket_decide_reconsideration(reconsideration=request, reason="Fair", actor=staff)
    tickets["a decided reconsideration"] = declined
    rated = file_ticket(account, user)
    services.ticket_resolve(ticket=rated, actor=staff, reason="Fixed")
    services.ticket_rate(ticket=rated, actor=user, score=4)
    tickets["resolved, points deducted, rated"] = rated
    returned = file_ticket(account, user)
    services.ticket_mark_software_bug(ticket=returned, actor=staff, reason="Our bug")
    tickets["a software bug, points returned"] = returned

    for state, ticket in tickets.items():
        assert staff_ticket_page(ticket).facts == load_facts(ticket), state
    facts = {state: load_facts(ticket) for state, ticket in tickets.items()}
    assert facts["waiting for a quote, nothing held"].hold_amount is None
    assert facts["a pending quote"].pending_quote
    assert facts["a pending reconsideration"].pending_reconsideration
    assert not facts["a decided reconsideration"].pending_reconsideration
    assert facts["resolved, points deducted, rated"].rated


def test_the_page_reads_no_user_and_no_cursor_of_its_own(client):
    staff = support_staff_user(email="sam@helpdesk.example.com", first_name="Sam")
    client.force_login(staff)
    account, user = customer(500)
    ticket = file_ticket(account, user)
    StaffUserFactory.create_batch(3)

    with CaptureQueriesContext(connection) as page:
        response = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")

    assert response.status_code == 200
    assert user.email in response.content.decode()
    sql = [query["sql"] for query in page.captured_queries]
    assert not [q for q in sql if q.startswith("DECLARE")]
    # The session's user, and the staff for the assignee list: no other read of users alone.
    users = [q for q in sql if q.startswith('SELECT "helpdesk_user"."id"')]
    assert len(users) == 2, users
    assert not [q for q in sql if "facts_hold_amount" in q]
