"""What the ledger lets the apps above it do at its moments (they register from `AppConfig.ready`):
billing issues a receipt when an order is paid, in the same transaction as the payment."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Lot, Order

OrderPaidListener = Callable[["Order", "Lot"], None]

_order_paid: list[OrderPaidListener] = []


def register_order_paid(listener: OrderPaidListener) -> None:
    """Call `listener(order, lot)` inside the transaction that records an order's payment."""
    if listener not in _order_paid:
        _order_paid.append(listener)


def order_paid(order: Order, lot: Lot) -> None:
    for listener in _order_paid:
        listener(order, lot)
