"""The status moves: which status a ticket may become from each, and which of those moves staff
make by hand. The one table of them; `tickets.services.ticket_move` and `tickets.policies` read it.
"""

from .models import TicketStatus

S = TicketStatus

# The allowed status moves (`tickets.services.ticket_move` checks them). Moves into
# RESOLVED and CANCELLED carry ledger effects and are made by the services that resolve, cancel,
# mark a software bug or decline a quote.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_QUOTE: frozenset({S.OPEN, S.CANCELLED}),
    S.OPEN: frozenset({S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER, S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.WAITING_FOR_CUSTOMER, S.RESOLVED, S.CANCELLED}),
    S.WAITING_FOR_CUSTOMER: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
# The moves staff may make by hand (the others happen through the actions above).
MANUAL_TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_QUOTE: frozenset(),
    S.OPEN: frozenset({S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER}),
    S.IN_PROGRESS: frozenset({S.WAITING_FOR_CUSTOMER}),
    S.WAITING_FOR_CUSTOMER: frozenset({S.IN_PROGRESS}),
    S.RESOLVED: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}


def manual_moves(status: str) -> list[TicketStatus]:
    """The statuses staff may move a ticket in `status` to by hand, in the statuses' order."""
    return [to_status for to_status in S if to_status in MANUAL_TRANSITIONS[status]]
