"""Everything that changes a ticket, one module per family of actions: filing, the thread, status
moves, cost, quotes, reconsideration, the customer's own actions, resolution, access details and
the scheduled jobs. Each refuses what `tickets.policies` does not allow.

Each function is atomic. Point movements go through `points.services` (which lock the account);
a refused ledger operation rolls back the whole ticket operation, so nothing is half-done.
Notifications are queued after commit (`tickets.notifications.notify`). Callers import from here,
never from the modules inside.
"""

from ..attachments import attachments_check
from ..errors import (
    AttachmentRejected,
    CostOutOfBounds,
    ReconsiderationPending,
    TicketError,
    TransitionNotAllowed,
)
from .access import ACCESS_DETAILS_MAX_CHARS, access_details_reveal, access_details_set
from .common import message_max_chars
from .cost import (
    MAX_LOGGED_MINUTES,
    ticket_change_cost,
    ticket_log_time,
    ticket_remove_urgency,
    ticket_wait_for_points,
)
from .customer import ticket_cancel, ticket_rate
from .filing import ticket_file
from .hotrush import tickets_compensate_late_hotrush
from .jobs import access_details_erase_due, tickets_close_quiet
from .quotes import ticket_accept_quote, ticket_decline_quote, ticket_set_quote
from .reconsideration import ticket_decide_reconsideration, ticket_request_reconsideration
from .resolution import ticket_mark_software_bug, ticket_resolve
from .status import ticket_assign, ticket_move, ticket_move_manually
from .thread import ticket_reply

__all__ = [
    "ACCESS_DETAILS_MAX_CHARS",
    "MAX_LOGGED_MINUTES",
    "AttachmentRejected",
    "CostOutOfBounds",
    "ReconsiderationPending",
    "TicketError",
    "TransitionNotAllowed",
    "access_details_erase_due",
    "access_details_reveal",
    "access_details_set",
    "attachments_check",
    "message_max_chars",
    "ticket_accept_quote",
    "ticket_assign",
    "ticket_cancel",
    "ticket_change_cost",
    "ticket_decide_reconsideration",
    "ticket_decline_quote",
    "ticket_file",
    "ticket_log_time",
    "ticket_mark_software_bug",
    "ticket_move",
    "ticket_move_manually",
    "ticket_rate",
    "ticket_remove_urgency",
    "ticket_reply",
    "ticket_request_reconsideration",
    "ticket_resolve",
    "ticket_set_quote",
    "ticket_wait_for_points",
    "tickets_close_quiet",
    "tickets_compensate_late_hotrush",
]
