"""The customer's ticket page works out its policy's facts from what it reads anyway: they must
be the facts `with_facts` reads in SQL, in every state the facts can take."""

import pytest

from tests.factories import StaffUserFactory
from tests.web import customer
from tickets import selectors, services
from tickets.policies import load_facts

from .test_views import file_ticket

pytestmark = pytest.mark.django_db


def page_facts(account, user, ticket):
    page = selectors.customer_ticket_page(account=account, user=user, ticket_id=ticket.pk)
    return page.policy.facts


def test_the_page_facts_are_the_sql_facts_in_every_state():
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
    rated = file_ticket(account, user)
    services.ticket_resolve(ticket=rated, actor=staff, reason="Fixed")
    services.ticket_rate(ticket=rated, actor=user, score=4)
    tickets["resolved, points deducted, rated"] = rated

    for state, ticket in tickets.items():
        assert page_facts(account, user, ticket) == load_facts(ticket), state
    facts = {state: load_facts(ticket) for state, ticket in tickets.items()}
    # Each state shows the fact it is about.
    assert facts["waiting for a quote, nothing held"].hold_amount is None
    assert facts["a pending quote"].pending_quote
    assert facts["a pending reconsideration"].pending_reconsideration
    assert facts["resolved, points deducted, rated"].rated
