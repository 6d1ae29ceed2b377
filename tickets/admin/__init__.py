"""The tickets' admin: the queue and the ticket page (`ticket_admin`, built from `queue`,
`ticket_page`, `actions` and `sla_report`)."""

from .ticket_admin import TicketAdmin

__all__ = ["TicketAdmin"]
