"""The numbers staff type on the admin ticket page: a new cost, a quote, logged minutes, a lowered
cost on reconsideration. Each is bounded by the business (HELPDESK_MAX_POINTS_PER_OPERATION, a day
of minutes) and by its column; out of bounds is an error next to the field, never a 500, and
changes nothing. The ticket services refuse the same, whichever channel calls them.
"""

import pytest

from points.services import InvalidAmount
from tests.admin_support import (
    assert_ledger_clean,
    balance,
    file_ticket,
    funded_account,
    messages_of,
    support_staff_user,
    ticket_url,
)
from tests.factories import IssueCategoryFactory, account_owner
from tests.html import find, parse, text
from tickets.models import CostChange, Quote, TimeLog
from tickets.services import (
    TicketError,
    ticket_change_cost,
    ticket_log_time,
    ticket_request_reconsideration,
    ticket_set_quote,
    ticket_wait_for_points,
)

pytestmark = pytest.mark.django_db

LIMIT = 100_000
BIGINT_MAX = 2**63 - 1
OUT_OF_BOUNDS = [
    "-1",
    "100001",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "1" + "0" * 100,
    "9" * 100_000,
    "1e5",
    "12.5",
    "1,000",
    "١٢",
    "²",
    "",
]


@pytest.fixture
def staff():
    return support_staff_user()


@pytest.fixture
def client(client, staff):
    client.force_login(staff)
    return client


def state(ticket):
    """Everything a refused number must leave as it was."""
    return (
        balance(ticket.account),
        CostChange.objects.filter(ticket=ticket).count(),
        list(Quote.objects.filter(ticket=ticket).values_list("points", "status")),
        TimeLog.objects.filter(ticket=ticket).count(),
    )


def field_error(response, html_name: str) -> str:
    assert response.status_code == 200
    field = find(parse(response.content), "div", class_=f"hd-field-{html_name}")
    return text(find(field, "ul", class_="errorlist"))


@pytest.mark.parametrize("typed", OUT_OF_BOUNDS)
def test_a_new_cost_out_of_bounds_is_refused_next_to_the_field(client, typed):
    ticket = file_ticket(funded_account(500), IssueCategoryFactory(minimum=True))
    before = state(ticket)

    response = client.post(
        ticket_url(ticket, "change_cost"),
        {"cost-points": typed, "cost-reason": "More work", "cost-override": "on"},
    )

    assert field_error(response, "cost-points")
    assert state(ticket) == before
    assert_ledger_clean()


@pytest.mark.parametrize(("typed", "cost"), [(" 150 ", 150), ("+130", 130), ("0", 0)])
def test_a_new_cost_in_plain_digits_is_set(client, typed, cost):
    ticket = file_ticket(funded_account(500), IssueCategoryFactory(minimum=True))

    response = client.post(
        ticket_url(ticket, "change_cost"),
        {"cost-points": typed, "cost-reason": "Scope changed", "cost-override": "on"},
    )

    assert response.status_code == 302
    assert balance(ticket.account)[1] == cost
    assert_ledger_clean()


@pytest.mark.parametrize("typed", OUT_OF_BOUNDS)
def test_a_quote_out_of_bounds_is_refused_next_to_the_field(client, typed):
    ticket = file_ticket(funded_account(500), IssueCategoryFactory(upon_request=True))
    before = state(ticket)

    response = client.post(
        ticket_url(ticket, "quote"), {"quote-points": typed, "quote-note": "Migration"}
    )

    assert field_error(response, "quote-points")
    assert state(ticket) == before
    assert_ledger_clean()


def test_the_largest_quote_is_accepted(client):
    ticket = file_ticket(funded_account(500), IssueCategoryFactory(upon_request=True))

    response = client.post(
        ticket_url(ticket, "quote"), {"quote-points": "100000", "quote-note": "A big job"}
    )

    assert response.status_code == 302
    assert Quote.objects.get(ticket=ticket).points == LIMIT


@pytest.mark.parametrize(
    "typed", ["0", "-1", "1441", "2147483648", "9223372036854775808", "1e3", "٣٠", "30.5", ""]
)
def test_logged_minutes_out_of_bounds_are_refused_next_to_the_field(client, typed):
    ticket = file_ticket(funded_account(500), IssueCategoryFactory(hourly=True, hourly_rate=60))
    before = state(ticket)

    response = client.post(
        ticket_url(ticket, "log_time"), {"time-minutes": typed, "time-note": "Work"}
    )

    assert field_error(response, "time-minutes")
    assert state(ticket) == before
    assert_ledger_clean()


def test_a_full_day_of_minutes_is_logged(client):
    ticket = file_ticket(funded_account(5000), IssueCategoryFactory(hourly=True, hourly_rate=60))

    response = client.post(
        ticket_url(ticket, "log_time"), {"time-minutes": " 1440 ", "time-note": "Migration day"}
    )

    assert response.status_code == 302
    assert balance(ticket.account)[1] == 24 * 60
    assert_ledger_clean()


@pytest.mark.parametrize("typed", OUT_OF_BOUNDS)
def test_a_lowered_cost_out_of_bounds_is_refused_next_to_the_field(client, typed):
    ticket = file_ticket(funded_account(500))
    asked = ticket_request_reconsideration(
        ticket=ticket, actor=account_owner(ticket.account), message="Too much"
    )
    before = state(ticket)
    prefix = f"reconsider-{asked.pk}"

    response = client.post(
        ticket_url(ticket, "reconsideration", asked.pk),
        {f"{prefix}-decision": "lower", f"{prefix}-new_points": typed, f"{prefix}-reason": "Ok"},
    )

    if typed:
        assert field_error(response, f"{prefix}-new_points")
    else:
        assert field_error(response, f"{prefix}-new_points") == "Say what the cost becomes."
    assert state(ticket) == before
    asked.refresh_from_db()
    assert asked.status == "pending"
    assert_ledger_clean()


@pytest.mark.parametrize("typed", ["0", "-5", "9223372036854775808", "1e5", "١٢"])
def test_a_forged_wait_for_points_amount_is_refused(client, typed):
    ticket = file_ticket(funded_account(50))
    before = state(ticket)

    response = client.post(
        ticket_url(ticket, "wait_for_points"), {"wait-points": typed, "wait-reason": "More work"}
    )

    assert messages_of(response) == ["Please correct the errors below."]
    assert state(ticket) == before
    assert_ledger_clean()


# --- The services, whichever channel calls them ---------------------------------------------


@pytest.mark.parametrize("points", [LIMIT + 1, 2**31, BIGINT_MAX + 1, 10**100])
def test_ticket_services_refuse_points_beyond_the_limit(staff, points):
    ticket = file_ticket(funded_account(500), IssueCategoryFactory(minimum=True))
    quoted = file_ticket(funded_account(500), IssueCategoryFactory(upon_request=True))
    before = state(ticket), state(quoted)

    with pytest.raises(InvalidAmount):
        ticket_change_cost(ticket=ticket, points=points, reason="x", actor=staff, override=True)
    with pytest.raises(InvalidAmount):
        ticket_set_quote(ticket=quoted, points=points, note="x", actor=staff)
    with pytest.raises(InvalidAmount):
        ticket_wait_for_points(ticket=ticket, points=points, reason="x", actor=staff)

    assert (state(ticket), state(quoted)) == before
    assert_ledger_clean()


@pytest.mark.parametrize("minutes", [0, -1, 1441, 2**31, 2**63])
def test_ticket_log_time_refuses_minutes_outside_a_day(staff, minutes):
    ticket = file_ticket(funded_account(500), IssueCategoryFactory(hourly=True, hourly_rate=60))
    before = state(ticket)

    with pytest.raises(TicketError, match="from 1 to 1440 minutes"):
        ticket_log_time(ticket=ticket, minutes=minutes, note="x", actor=staff)

    assert state(ticket) == before


def test_logging_time_past_the_limit_of_one_cost_is_refused(staff, settings):
    ticket = file_ticket(funded_account(500), IssueCategoryFactory(hourly=True, hourly_rate=60))
    settings.HELPDESK_MAX_POINTS_PER_OPERATION = 100
    ticket_log_time(ticket=ticket, minutes=100, note="x", actor=staff)
    before = state(ticket)

    with pytest.raises(InvalidAmount):
        ticket_log_time(ticket=ticket, minutes=1, note="x", actor=staff)

    assert state(ticket) == before
    assert_ledger_clean()
