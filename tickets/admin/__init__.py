"""The tickets' admin: the queue and the ticket page (`ticket_admin`, built from `queue`,
`ticket_page`, `actions` and `sla_report`), and the e-mail outbox (`outbox`)."""

from .outbox import NotificationAdmin
from .ticket_admin import TicketAdmin

__all__ = ["NotificationAdmin", "TicketAdmin"]
