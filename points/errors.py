"""Why a points operation was refused. Every class is a `core.errors.HelpDeskError` with a stable
`code`; a one-off refusal of a class passes its own code (`LedgerError(message, code=...)`).

A refused operation is atomic, so it left nothing behind.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import HelpDeskError


class LedgerError(HelpDeskError):
    """A points operation was refused; nothing was changed."""

    code = "ledger_refused"


class InvalidAmount(LedgerError):
    code = "invalid_amount"


class InvalidExpiry(LedgerError):
    code = "invalid_expiry"


class ReasonRequired(LedgerError):
    code = "reason_required"

    def __init__(self):
        super().__init__(_("A reason is required for this change of points."))


class InvalidReason(LedgerError):
    code = "invalid_reason"


class InsufficientPoints(LedgerError):
    code = "insufficient_points"

    def __init__(self, *, required: int, available: int):
        self.required = required
        self.available = available
        self.missing = required - available
        super().__init__(
            _(
                "Not enough support points: %(required)s needed, %(available)s available. "
                "%(missing)s more points are needed."
            )
            % {"required": required, "available": available, "missing": self.missing}
        )


class PaymentReferenceConflict(LedgerError):
    code = "payment_reference_conflict"


class HoldConflict(LedgerError):
    """The hold is not in a state that allows the operation (e.g. settling a returned hold)."""

    code = "hold_conflict"


class OrderNotPayable(LedgerError):
    code = "order_not_payable"


class OrderNotRefundable(LedgerError):
    code = "order_not_refundable"


class WebhookRejected(LedgerError):
    """The webhook request is not a valid, signed, fresh event for an existing order."""

    code = "webhook_rejected"
