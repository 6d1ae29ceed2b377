"""Every change of points: plain functions, each atomic, locked per account, journaled.

Locking order (always the same, so concurrent operations never deadlock): the account row first
(`accounts.locks`), then the lots, holds and allocations of that account. The jobs lock the
accounts of a batch in ascending id order before touching their lots.

A refused operation raises a `points.errors.LedgerError` subclass that says what was wrong, and,
being atomic, leaves nothing behind.

One module per family of actions; import them from here:
- `lots`: purchases, grants, manual adjustments, and the lots' expiry dates;
- `holds`: the points captured for a ticket (capture, change, settle, release, refund);
- `orders`: orders of points (checkout through the payment backend, mark paid, cancel);
- `refunds`: removing a refunded order's unused points;
- `webhooks`: a payment provider's signed events;
- `expiry`, `reminders`: the scheduled jobs' work;
- `alerts`: the low-balance alert, checked after every change of available points;
- `validation`: the checks they share (amounts, grant expiry, reasons).

Every entry of the journal is written through `points.journal`. The errors are exported here
too, for the callers that import them from here.
"""

from ..errors import (
    HoldConflict,
    InsufficientPoints,
    InvalidAmount,
    InvalidExpiry,
    InvalidReason,
    LedgerError,
    OrderNotPayable,
    OrderNotRefundable,
    PaymentReferenceConflict,
    ReasonRequired,
    WebhookRejected,
)
from .alerts import (
    balance_alert_check,
    balance_alert_set,
    balance_alert_subscribe,
    balance_alerts_check,
)
from .expiry import ExpiryResult, lots_expire_due
from .holds import hold_capture, hold_change, hold_refund, hold_release, hold_settle
from .lots import (
    points_adjust,
    points_grant,
    points_purchase,
    purchase_lot_expiry,
    return_lot_expiry,
)
from .orders import (
    order_cancel,
    order_check_staff_may_mark_paid,
    order_checkout,
    order_create,
    order_mark_paid,
)
from .refunds import order_points_refund, refundable_points
from .reminders import ReminderResult, lots_remind_expiring
from .validation import JOURNAL_REASON_MAX_CHARS, validate_points
from .webhooks import WebhookResult, webhook_receive

__all__ = [
    "JOURNAL_REASON_MAX_CHARS",
    "ExpiryResult",
    "HoldConflict",
    "InsufficientPoints",
    "InvalidAmount",
    "InvalidExpiry",
    "InvalidReason",
    "LedgerError",
    "OrderNotPayable",
    "OrderNotRefundable",
    "PaymentReferenceConflict",
    "ReasonRequired",
    "ReminderResult",
    "WebhookRejected",
    "WebhookResult",
    "balance_alert_check",
    "balance_alert_set",
    "balance_alert_subscribe",
    "balance_alerts_check",
    "hold_capture",
    "hold_change",
    "hold_refund",
    "hold_release",
    "hold_settle",
    "lots_expire_due",
    "lots_remind_expiring",
    "order_cancel",
    "order_check_staff_may_mark_paid",
    "order_checkout",
    "order_create",
    "order_mark_paid",
    "order_points_refund",
    "points_adjust",
    "points_grant",
    "points_purchase",
    "purchase_lot_expiry",
    "refundable_points",
    "return_lot_expiry",
    "validate_points",
    "webhook_receive",
]
