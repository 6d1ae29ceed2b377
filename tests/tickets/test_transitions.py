"""The table of status moves, move by move: every move `ticket_move` makes and every one it
refuses, and the moves staff may make by hand. A change of the rules is a change of these tables."""

import pytest
from django.utils import timezone

from tests.factories import StaffUserFactory, TicketFactory
from tickets import services
from tickets.models import StatusChange, Ticket, TicketOutcome, TicketStatus

pytestmark = pytest.mark.django_db

S = TicketStatus

# From each status (rows), the statuses it may become.
ALLOWED = {
    S.AWAITING_QUOTE: {S.OPEN, S.CANCELLED},
    S.OPEN: {S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER, S.RESOLVED, S.CANCELLED},
    S.IN_PROGRESS: {S.WAITING_FOR_CUSTOMER, S.RESOLVED, S.CANCELLED},
    S.WAITING_FOR_CUSTOMER: {S.IN_PROGRESS, S.RESOLVED, S.CANCELLED},
    S.RESOLVED: {S.IN_PROGRESS, S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
# The moves staff make by hand on the ticket page.
MANUAL = {
    S.AWAITING_QUOTE: set(),
    S.OPEN: {S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER},
    S.IN_PROGRESS: {S.WAITING_FOR_CUSTOMER},
    S.WAITING_FOR_CUSTOMER: {S.IN_PROGRESS},
    S.RESOLVED: {S.IN_PROGRESS, S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
EVERY_MOVE = [(from_status, to_status) for from_status in S for to_status in S]


def ticket_in(status: TicketStatus) -> Ticket:
    resolved = status in (S.RESOLVED, S.CLOSED)
    return TicketFactory(status=status, resolved_at=timezone.now() if resolved else None)


def test_the_tables_name_every_status():
    assert set(ALLOWED) == set(MANUAL) == set(S)
    assert all(MANUAL[status] <= ALLOWED[status] for status in S)


@pytest.mark.parametrize(("from_status", "to_status"), EVERY_MOVE)
def test_every_move_is_made_or_refused_as_the_table_says(from_status, to_status):
    ticket = ticket_in(from_status)
    at = timezone.now()

    if to_status in ALLOWED[from_status]:
        services.ticket_move(ticket=ticket, to_status=to_status, actor=None, at=at)
        ticket.refresh_from_db()
        assert ticket.status == to_status
        assert StatusChange.objects.filter(
            ticket=ticket, from_status=from_status, to_status=to_status
        ).exists()
    else:
        with pytest.raises(services.TransitionNotAllowed) as refused:
            services.ticket_move(ticket=ticket, to_status=to_status, actor=None, at=at)
        assert refused.value.code == "transition_not_allowed"
        ticket.refresh_from_db()
        assert ticket.status == from_status
        assert not StatusChange.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize(("from_status", "to_status"), EVERY_MOVE)
def test_staff_move_by_hand_only_as_the_manual_table_says(from_status, to_status):
    ticket = ticket_in(from_status)
    staff = StaffUserFactory()

    if to_status in MANUAL[from_status]:
        services.ticket_move_manually(ticket=ticket, to_status=to_status, actor=staff)
        ticket.refresh_from_db()
        assert ticket.status == to_status
        assert StatusChange.objects.get(ticket=ticket).actor == staff
    else:
        with pytest.raises(services.TransitionNotAllowed) as refused:
            services.ticket_move_manually(ticket=ticket, to_status=to_status, actor=staff)
        assert refused.value.code == "transition_not_allowed"
        assert str(refused.value) == (
            f"A ticket that is {from_status.label} cannot be set to {to_status.label} by hand."
        )
        ticket.refresh_from_db()
        assert ticket.status == from_status
        assert not StatusChange.objects.filter(ticket=ticket).exists()


def test_customers_move_nothing_by_hand():
    ticket = ticket_in(S.OPEN)

    with pytest.raises(services.TicketError) as refused:
        services.ticket_move_manually(ticket=ticket, to_status=S.IN_PROGRESS, actor=ticket.filed_by)

    assert refused.value.code == "staff_only"
    ticket.refresh_from_db()
    assert ticket.status == S.OPEN


def test_reopening_clears_the_resolution():
    ticket = ticket_in(S.RESOLVED)
    ticket.outcome = TicketOutcome.SOLVED
    ticket.save(update_fields=["outcome"])

    services.ticket_move(ticket=ticket, to_status=S.IN_PROGRESS, actor=None, at=timezone.now())

    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.outcome) == (S.IN_PROGRESS, None, "")
