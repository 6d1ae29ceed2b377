"""The refusals of ticket operations, each with a stable code (see `core.errors`).

A one-off refusal is a `TicketError` with its own code (`TicketError(message, code="…")`); the
refusals callers tell apart are classes.
"""

from core.errors import HelpDeskError


class TicketError(HelpDeskError):
    """A ticket operation was refused; nothing was changed."""

    code = "ticket_refused"


class TransitionNotAllowed(TicketError):
    """The ticket's status does not allow this move."""

    code = "transition_not_allowed"


class CostOutOfBounds(TicketError):
    """The cost is outside the category's price and no override was given."""

    code = "cost_out_of_bounds"


class ReconsiderationPending(TicketError):
    """The customer's reconsideration request still waits for a staff decision."""

    code = "reconsideration_pending"


class AttachmentRejected(TicketError):
    """A file can't be attached: too many, too large, empty, or not of an allowed type."""

    code = "attachment_rejected"
