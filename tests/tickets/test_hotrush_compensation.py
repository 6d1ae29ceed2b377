"""HotRush compensation: a late first staff response returns the urgency surcharge, once, at the
reply or by the beat job, never after a software-bug return, and not at all when turned off."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from notifications.models import Notification
from points.models import Hold
from tests.admin_support import file_ticket, funded_account
from tests.factories import IssueCategoryFactory, StaffUserFactory, account_owner
from tickets.models import CostChange, CostChangeKind, Ticket
from tickets.services import (
    ticket_mark_software_bug,
    ticket_reply,
    tickets_compensate_late_hotrush,
)

pytestmark = pytest.mark.django_db

WEDNESDAY_10 = datetime(2027, 3, 10, 10, 0, tzinfo=UTC)  # within working hours (09–18, UTC)
SECOND = timedelta(seconds=1)
REASON = "HotRush surcharge returned: first response was late"


@pytest.fixture
def category():
    return IssueCategoryFactory()


@pytest.fixture
def staff():
    return StaffUserFactory()


def urgent_ticket(category, at=WEDNESDAY_10):
    with time_machine.travel(at, tick=False):
        return file_ticket(funded_account(), category, is_urgent=True, at=at)


def reply(ticket, staff, at):
    with time_machine.travel(at, tick=False):
        ticket_reply(ticket=ticket, author=staff, body="Looking into it.", at=at)
    ticket.refresh_from_db()


def compensations(ticket):
    return list(CostChange.objects.filter(ticket=ticket, kind=CostChangeKind.URGENCY_COMPENSATED))


def held(ticket):
    return Hold.objects.get(ticket=ticket).amount


def test_an_answer_one_second_before_the_due_time_is_on_time(category, staff):
    ticket = urgent_ticket(category)
    assert ticket.first_response_due_at == WEDNESDAY_10 + timedelta(hours=1)
    price = held(ticket)
    reply(ticket, staff, ticket.first_response_due_at - SECOND)
    assert compensations(ticket) == []
    assert held(ticket) == price and ticket.is_urgent


def test_an_answer_exactly_at_the_due_time_is_on_time(category, staff):
    ticket = urgent_ticket(category)
    reply(ticket, staff, ticket.first_response_due_at)
    assert compensations(ticket) == []


def test_an_answer_one_second_late_returns_the_surcharge(category, staff):
    ticket = urgent_ticket(category)
    price = held(ticket)
    reply(ticket, staff, ticket.first_response_due_at + SECOND)
    [change] = compensations(ticket)
    assert (change.old_points, change.new_points, change.reason) == (price, price // 2, REASON)
    assert change.actor is None
    assert held(ticket) == price // 2
    assert not ticket.is_urgent
    assert Notification.objects.filter(event="cost_changed", subject_id=ticket.pk).exists()


def test_the_due_time_counts_working_hours_only(category, staff):
    friday_evening = datetime(2027, 3, 12, 19, 0, tzinfo=UTC)
    ticket = urgent_ticket(category, at=friday_evening)
    monday_10 = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
    assert ticket.first_response_due_at == monday_10
    reply(ticket, staff, datetime(2027, 3, 13, 12, 0, tzinfo=UTC))  # a Saturday: on time
    assert compensations(ticket) == []

    late = urgent_ticket(category, at=friday_evening)
    reply(late, staff, monday_10 + SECOND)
    assert len(compensations(late)) == 1


def test_a_holiday_does_not_count(category, staff, settings):
    settings.HELPDESK_HOLIDAYS = ["2027-03-15"]
    friday_evening = datetime(2027, 3, 12, 19, 0, tzinfo=UTC)
    ticket = urgent_ticket(category, at=friday_evening)
    tuesday_10 = datetime(2027, 3, 16, 10, 0, tzinfo=UTC)
    assert ticket.first_response_due_at == tuesday_10
    reply(ticket, staff, datetime(2027, 3, 15, 17, 0, tzinfo=UTC))
    assert compensations(ticket) == []


def test_the_beat_job_compensates_unanswered_tickets_once(category, staff):
    ticket = urgent_ticket(category)
    price = held(ticket)
    due = ticket.first_response_due_at
    assert tickets_compensate_late_hotrush(at=due) == 0  # not late yet
    assert tickets_compensate_late_hotrush(at=due + SECOND) == 1
    assert tickets_compensate_late_hotrush(at=due + 2 * SECOND) == 0
    reply(ticket, staff, due + timedelta(minutes=5))  # the late answer changes nothing more
    assert len(compensations(ticket)) == 1
    assert held(ticket) == price // 2


def test_never_after_a_software_bug_return(category, staff):
    ticket = urgent_ticket(category)
    due = ticket.first_response_due_at
    with time_machine.travel(due - SECOND, tick=False):
        ticket_mark_software_bug(ticket=ticket, actor=staff, reason="Our bug", at=due - SECOND)
    assert tickets_compensate_late_hotrush(at=due + timedelta(hours=1)) == 0
    assert compensations(ticket) == []


def test_the_setting_turns_it_off(category, staff, settings):
    settings.HELPDESK_HOTRUSH_COMPENSATION = False
    ticket = urgent_ticket(category)
    due = ticket.first_response_due_at
    assert tickets_compensate_late_hotrush(at=due + SECOND) == 0
    reply(ticket, staff, due + SECOND)
    assert compensations(ticket) == []


def test_a_normal_ticket_is_never_compensated(category, staff):
    with time_machine.travel(WEDNESDAY_10, tick=False):
        ticket = file_ticket(funded_account(), category, at=WEDNESDAY_10)
    reply(ticket, staff, ticket.first_response_due_at + timedelta(hours=1))
    assert compensations(ticket) == []


def test_the_database_allows_one_compensation_per_ticket(category, staff):
    ticket = urgent_ticket(category)
    reply(ticket, staff, ticket.first_response_due_at + SECOND)
    with pytest.raises(IntegrityError), transaction.atomic():
        CostChange.objects.create(
            ticket=ticket,
            kind=CostChangeKind.URGENCY_COMPENSATED,
            old_points=1,
            new_points=0,
            created_at=WEDNESDAY_10,
        )


def test_the_ticket_page_says_whether_the_first_response_was_on_time(client, category, staff):
    on_time = urgent_ticket(category)
    reply(on_time, staff, on_time.first_response_due_at - SECOND)
    late = urgent_ticket(category)
    reply(late, staff, late.first_response_due_at + SECOND)

    client.force_login(account_owner(on_time.account))
    page = client.get(reverse("tickets:detail", args=[on_time.pk])).content.decode()
    assert "badge-on-time" in page and "badge-late" not in page

    client.force_login(account_owner(late.account))
    page = client.get(reverse("tickets:detail", args=[late.pk])).content.decode()
    assert "badge-late" in page
    assert REASON in page


def test_an_unanswered_ticket_past_its_due_time_shows_late(client, category):
    ticket = urgent_ticket(category)
    url = reverse("tickets:detail", args=[ticket.pk])
    for moment, late in (
        (ticket.first_response_due_at - SECOND, False),
        (ticket.first_response_due_at + SECOND, True),
    ):
        with time_machine.travel(moment, tick=False):
            client.force_login(account_owner(ticket.account))
            page = client.get(url)
            assert page.status_code == 200
            assert ("badge-late" in page.content.decode()) is late


def test_the_pricing_page_says_so(client, settings):
    assert "goes back to your balance" in client.get(reverse("catalog:pricing")).content.decode()
    settings.HELPDESK_HOTRUSH_COMPENSATION = False
    assert (
        "goes back to your balance" not in client.get(reverse("catalog:pricing")).content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_the_late_reply_racing_the_beat_job_compensates_once():
    # Imported here: a module-level import would collect that module's tests twice.
    from tests.points.test_concurrency import run_together

    category = IssueCategoryFactory()
    staff = StaffUserFactory()
    for _round in range(5):
        ticket = urgent_ticket(category)
        late = ticket.first_response_due_at + timedelta(minutes=1)
        outcomes = run_together(
            lambda ticket=ticket, late=late: ticket_reply(
                ticket=ticket, author=staff, body="Here.", at=late
            ),
            lambda late=late: tickets_compensate_late_hotrush(at=late),
        )
        assert all(outcome.ok for outcome in outcomes), outcomes
        assert len(compensations(ticket)) == 1
        assert not Ticket.objects.get(pk=ticket.pk).is_urgent


def test_the_management_command_runs_the_job(category):
    ticket = urgent_ticket(category)
    out = io.StringIO()
    with time_machine.travel(ticket.first_response_due_at + SECOND, tick=False):
        call_command("compensate_late_hotrush", stdout=out)
    assert "1 late tickets" in out.getvalue()
    assert len(compensations(ticket)) == 1
