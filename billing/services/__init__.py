"""Issuing receipts and credit notes, refunds, and the account's billing details.

- `receipts`: the receipt of a paid order (called by the ledger when the order is paid);
- `refunds`: refunding a paid order's unused points with a credit note;
- `details`: the billing details the account owner edits.
"""

from .details import billing_details_update
from .receipts import receipt_issue_for_paid_order
from .refunds import order_refund, order_refund_bound

__all__ = [
    "billing_details_update",
    "order_refund",
    "order_refund_bound",
    "receipt_issue_for_paid_order",
]
