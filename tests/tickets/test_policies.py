"""Which actions a ticket allows, and for whom (`tickets.policies`): the whole table, action by
action, status by status, for the customer and for staff, then each rule that depends on more than
the status, then the services refusing what the policy refuses. A change of the rules is a change of
these tables."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from catalog.models import IssueCategory, PricingKind
from helpdesk.models import User
from points.models import HoldStatus
from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.factories import IssueCategoryFactory, account_owner
from tickets import services
from tickets.models import Ticket, TicketOutcome, TicketStatus
from tickets.policies import Action, Role, TicketFacts, TicketPolicy, role_of
from tickets.transitions import MANUAL_TRANSITIONS, manual_moves

S = TicketStatus
A = Action
NOW = datetime(2027, 3, 16, 12, 0, tzinfo=UTC)
STATUSES = [
    S.AWAITING_QUOTE,
    S.OPEN,
    S.IN_PROGRESS,
    S.WAITING_FOR_CUSTOMER,
    S.RESOLVED,
    S.CLOSED,
    S.CANCELLED,
]


def typical(status: TicketStatus, **changes) -> tuple[Ticket, TicketFacts]:
    """An urgent, unassigned ticket of an hourly category, as it typically is in `status`:
    waiting for a quote with one pending, 40 points held while work goes on (answered once in
    progress), deducted once resolved (a day ago) or closed, released once cancelled (before any
    answer)."""
    answered = status in (S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER, S.RESOLVED, S.CLOSED)
    resolved = status in (S.RESOLVED, S.CLOSED)
    hold_status = {
        S.AWAITING_QUOTE: None,
        S.RESOLVED: HoldStatus.SETTLED,
        S.CLOSED: HoldStatus.SETTLED,
        S.CANCELLED: HoldStatus.RELEASED,
    }.get(status, HoldStatus.OPEN)
    fields = {
        "status": status,
        "is_urgent": True,
        "category": IssueCategory(pricing_kind=PricingKind.HOURLY, hourly_rate=40),
        "first_response_at": NOW - timedelta(days=2) if answered else None,
        "resolved_at": NOW - timedelta(days=1) if resolved else None,
        "outcome": TicketOutcome.SOLVED if resolved else "",
    }
    facts = {
        "hold_amount": 40 if hold_status else None,
        "hold_status": hold_status,
        "pending_quote": status == S.AWAITING_QUOTE,
    }
    for name, value in changes.items():
        (facts if name in TicketFacts.__dataclass_fields__ else fields)[name] = value
    return Ticket(**fields), TicketFacts(**facts)


def refusal_code(role: Role, action: Action, status: TicketStatus, **changes) -> str:
    """ "ok" when the action is allowed, else the refusal's code."""
    ticket, facts = typical(status, **changes)
    refusal = TicketPolicy(ticket, facts=facts, role=role, at=NOW).refusal(action)
    return "ok" if refusal is None else refusal.code


ok = "ok"
# For each action, what it gives in each status of STATUSES: awaiting quote, open, in progress,
# waiting for customer, resolved, closed, cancelled.
CUSTOMER_TABLE = {
    A.REPLY: (ok, ok, ok, ok, ok, "ticket_ended", "ticket_ended"),
    A.ADD_NOTE: ("staff_only",) * 7,
    A.CANCEL: (
        ok,
        ok,
        "already_answered",
        "already_answered",
        "already_answered",
        "already_answered",
        "ticket_not_active",
    ),
    A.REMOVE_URGENCY: (ok, ok, ok, ok) + ("ticket_not_active",) * 3,
    A.ACCEPT_QUOTE: (ok,) + ("no_pending_quote",) * 6,
    A.DECLINE_QUOTE: (ok,) + ("no_pending_quote",) * 6,
    A.ASK_RECONSIDERATION: ("nothing_to_reconsider", ok, ok, ok, ok, ok, "nothing_to_reconsider"),
    A.RATE: ("ticket_not_resolved",) * 4 + (ok, ok, "ticket_not_resolved"),
    A.GIVE_ACCESS_DETAILS: (ok, ok, ok, ok) + ("ticket_not_active",) * 3,
    A.REVEAL_ACCESS_DETAILS: ("staff_only",) * 7,
    A.ASSIGN: ("staff_only",) * 7,
    A.MOVE: ("staff_only",) * 7,
    A.CHANGE_COST: ("staff_only",) * 7,
    A.WAIT_FOR_POINTS: ("staff_only",) * 7,
    A.QUOTE: ("staff_only",) * 7,
    A.LOG_TIME: ("staff_only",) * 7,
    A.RESOLVE: ("staff_only",) * 7,
    A.MARK_SOFTWARE_BUG: ("staff_only",) * 7,
    A.DECIDE_RECONSIDERATION: ("staff_only",) * 7,
}
no_move = "transition_not_allowed"
no_points = "no_points_captured"
STAFF_TABLE = {
    A.REPLY: (ok, ok, ok, ok, ok, "ticket_ended", "ticket_ended"),
    A.ADD_NOTE: (ok,) * 7,
    A.CANCEL: ("customer_only",) * 7,
    A.REMOVE_URGENCY: (ok, ok, ok, ok) + ("ticket_not_active",) * 3,
    A.ACCEPT_QUOTE: ("customer_only",) * 7,
    A.DECLINE_QUOTE: ("customer_only",) * 7,
    A.ASK_RECONSIDERATION: ("customer_only",) * 7,
    A.RATE: ("customer_only",) * 7,
    A.GIVE_ACCESS_DETAILS: ("customer_only",) * 7,
    A.REVEAL_ACCESS_DETAILS: (ok,) * 7,
    A.ASSIGN: (ok,) * 7,
    A.MOVE: (no_move, ok, ok, ok, ok, no_move, no_move),
    A.CHANGE_COST: (no_points, ok, ok, ok, no_points, no_points, no_points),
    A.WAIT_FOR_POINTS: (no_points, ok, ok, ok, no_points, no_points, no_points),
    A.QUOTE: (ok,) + ("not_awaiting_quote",) * 6,
    A.LOG_TIME: (no_points, ok, ok, ok, no_points, no_points, no_points),
    A.RESOLVE: (no_move, ok, ok, ok, no_move, no_move, no_move),
    A.MARK_SOFTWARE_BUG: ("no_points_taken", ok, ok, ok, ok, ok, "no_points_taken"),
    A.DECIDE_RECONSIDERATION: ("reconsideration_decided",) * 7,
}
TABLE = [
    (role, action, status, expected)
    for role, table in [(Role.CUSTOMER, CUSTOMER_TABLE), (Role.STAFF, STAFF_TABLE)]
    for action, row in table.items()
    for status, expected in zip(STATUSES, row, strict=True)
]


def test_the_tables_cover_every_action_and_status():
    assert set(CUSTOMER_TABLE) == set(STAFF_TABLE) == set(Action)
    assert set(STATUSES) == set(S)


@pytest.mark.parametrize(("role", "action", "status", "expected"), TABLE)
def test_the_policy_table(role, action, status, expected):
    assert refusal_code(role, action, status) == expected


# --- Rules that read more than the status -------------------------------------------------------


def test_the_customer_removes_hotrush_only_until_the_ticket_is_assigned():
    assigned = {"assignee_id": 7}
    assert refusal_code(Role.CUSTOMER, A.REMOVE_URGENCY, S.OPEN, **assigned) == "ticket_assigned"
    assert refusal_code(Role.STAFF, A.REMOVE_URGENCY, S.OPEN, **assigned) == ok


@pytest.mark.parametrize("role", list(Role))
def test_a_normal_ticket_has_no_hotrush_to_remove(role):
    assert refusal_code(role, A.REMOVE_URGENCY, S.OPEN, is_urgent=False) == "not_urgent"


@override_settings(HELPDESK_REOPEN_DAYS=14)
def test_the_customer_reopens_a_resolved_ticket_within_the_window_only():
    def reply(resolved_ago):
        return refusal_code(Role.CUSTOMER, A.REPLY, S.RESOLVED, resolved_at=NOW - resolved_ago)

    assert reply(timedelta(days=14)) == ok
    assert reply(timedelta(days=14, seconds=1)) == "reopen_window_passed"
    assert refusal_code(Role.CUSTOMER, A.REPLY, S.RESOLVED, resolved_at=None) == (
        "reopen_window_passed"
    )
    # Staff replies never reopen, so the window does not limit them.
    resolved_long_ago = {"resolved_at": NOW - timedelta(days=400)}
    assert refusal_code(Role.STAFF, A.REPLY, S.RESOLVED, **resolved_long_ago) == ok


@override_settings(HELPDESK_REOPEN_DAYS=14)
def test_the_reopen_window_is_offered_only_on_a_resolved_ticket():
    resolved, facts = typical(S.RESOLVED)
    policy = TicketPolicy(resolved, facts=facts, role=Role.CUSTOMER, at=NOW)
    assert policy.reopen_until == resolved.resolved_at + timedelta(days=14)

    closed, facts = typical(S.CLOSED)
    assert TicketPolicy(closed, facts=facts, role=Role.CUSTOMER, at=NOW).reopen_until is None


def test_reconsideration_is_asked_once_and_only_of_a_cost():
    asked = {"pending_reconsideration": True}
    assert refusal_code(Role.CUSTOMER, A.ASK_RECONSIDERATION, S.OPEN, **asked) == (
        "reconsideration_pending"
    )
    assert refusal_code(Role.CUSTOMER, A.ASK_RECONSIDERATION, S.OPEN, hold_amount=0) == (
        "nothing_to_reconsider"
    )


def test_a_pending_reconsideration_is_decided_before_the_ticket_is_resolved():
    asked = {"pending_reconsideration": True}
    assert refusal_code(Role.STAFF, A.RESOLVE, S.OPEN, **asked) == "reconsideration_pending"
    assert refusal_code(Role.STAFF, A.DECIDE_RECONSIDERATION, S.OPEN, **asked) == ok
    assert refusal_code(Role.STAFF, A.DECIDE_RECONSIDERATION, S.CLOSED, **asked) == ok


def test_a_ticket_without_a_hold_is_not_resolved():
    no_hold = {"hold_amount": None, "hold_status": None}
    assert refusal_code(Role.STAFF, A.RESOLVE, S.OPEN, **no_hold) == "no_accepted_quote"


def test_a_ticket_is_rated_once():
    assert refusal_code(Role.CUSTOMER, A.RATE, S.RESOLVED, rated=True) == "already_rated"


def test_time_is_logged_on_hourly_tickets_only():
    fixed = IssueCategory(pricing_kind=PricingKind.FIXED, points=40)
    assert refusal_code(Role.STAFF, A.LOG_TIME, S.OPEN, category=fixed) == "not_hourly"


def test_a_software_bug_is_marked_once():
    bug = {"outcome": TicketOutcome.SOFTWARE_BUG}
    assert refusal_code(Role.STAFF, A.MARK_SOFTWARE_BUG, S.RESOLVED, **bug) == (
        "already_software_bug"
    )


@pytest.mark.parametrize("status", STATUSES)
def test_staff_are_offered_exactly_the_manual_moves(status):
    ticket, facts = typical(status)
    policy = TicketPolicy(ticket, facts=facts, role=Role.STAFF, at=NOW)

    assert set(manual_moves(status)) == MANUAL_TRANSITIONS[status]
    for to_status in S:
        if to_status in MANUAL_TRANSITIONS[status]:
            policy.check_manual_move(to_status)
        else:
            with pytest.raises(services.TransitionNotAllowed):
                policy.check_manual_move(to_status)


def test_the_role_is_staff_for_staff_users_only():
    assert role_of(User(is_staff=True)) == Role.STAFF
    assert role_of(User(is_staff=False)) == Role.CUSTOMER


# --- The services refuse what the policy refuses ------------------------------------------------


@pytest.mark.django_db
def test_services_refuse_with_the_policys_code_and_change_nothing():
    account = funded_account(500)
    owner = account_owner(account)
    staff = support_staff_user()
    ticket = file_ticket(account, IssueCategoryFactory(points=40), is_urgent=True)
    services.ticket_assign(ticket=ticket, assignee=staff, actor=staff)
    services.ticket_reply(ticket=ticket, author=staff, body="On it.")

    refusals = {
        "cancel after the first answer": lambda: services.ticket_cancel(ticket=ticket, actor=owner),
        "HotRush dropped once assigned": lambda: services.ticket_remove_urgency(
            ticket=ticket, actor=owner
        ),
        "a quote accepted without one": lambda: services.ticket_accept_quote(
            ticket=ticket, actor=owner
        ),
        "a rating before resolution": lambda: services.ticket_rate(
            ticket=ticket, actor=owner, score=5
        ),
        "a customer's internal note": lambda: services.ticket_reply(
            ticket=ticket, author=owner, body="Psst", internal=True
        ),
        "a customer changing the cost": lambda: services.ticket_change_cost(
            ticket=ticket, points=10, reason="Cheaper", actor=owner
        ),
        "staff cancelling for the customer": lambda: services.ticket_cancel(
            ticket=ticket, actor=staff
        ),
        "a quote on a ticket that has a price": lambda: services.ticket_set_quote(
            ticket=ticket, points=10, note="Quote", actor=staff
        ),
    }
    expected = {
        "cancel after the first answer": "already_answered",
        "HotRush dropped once assigned": "ticket_assigned",
        "a quote accepted without one": "no_pending_quote",
        "a rating before resolution": "ticket_not_resolved",
        "a customer's internal note": "staff_only",
        "a customer changing the cost": "staff_only",
        "staff cancelling for the customer": "customer_only",
        "a quote on a ticket that has a price": "not_awaiting_quote",
    }
    before = snapshot(ticket)

    codes = {}
    for name, attempt in refusals.items():
        with pytest.raises(services.TicketError) as refused:
            attempt()
        codes[name] = refused.value.code

    assert codes == expected
    assert snapshot(ticket) == before


@pytest.mark.django_db
def test_resolving_waits_for_the_reconsideration_decision():
    account = funded_account(500)
    ticket = file_ticket(account)
    services.ticket_request_reconsideration(
        ticket=ticket, actor=account_owner(account), message="Too much"
    )

    with pytest.raises(services.ReconsiderationPending) as refused:
        services.ticket_resolve(ticket=ticket, actor=support_staff_user(), reason="Done")

    assert refused.value.code == "reconsideration_pending"
    ticket.refresh_from_db()
    assert ticket.status == S.OPEN


@pytest.mark.django_db
@override_settings(HELPDESK_REOPEN_DAYS=14)
def test_a_reply_past_the_reopen_window_is_refused_with_its_code():
    account = funded_account(500)
    resolved_at = NOW - timedelta(days=15)
    ticket = file_ticket(account, at=resolved_at - timedelta(hours=1))
    services.ticket_resolve(ticket=ticket, actor=support_staff_user(), at=resolved_at)

    with pytest.raises(services.TicketError) as refused:
        services.ticket_reply(ticket=ticket, author=account_owner(account), body="Again", at=NOW)

    assert refused.value.code == "reopen_window_passed"


def snapshot(ticket: Ticket) -> tuple:
    """What a refused action must leave as it was: the ticket, its messages, cost and points."""
    ticket = Ticket.objects.select_related("hold").get(pk=ticket.pk)
    points = ticket.account.lots.values_list("remaining", flat=True)
    return (
        ticket.status,
        ticket.is_urgent,
        ticket.hold.amount,
        ticket.messages.count(),
        ticket.cost_changes.count(),
        ticket.quotes.count(),
        sorted(points),
        hasattr(ticket, "rating"),
    )
