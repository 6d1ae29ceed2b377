"""Splitting a price that includes tax into net and tax, each rounded once to the cent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Amounts:
    net: Decimal
    tax: Decimal
    gross: Decimal
    tax_rate: Decimal


def split_gross(gross: Decimal, tax_rate: Decimal) -> Amounts:
    """Prices include tax: the tax is the gross amount's share at `tax_rate` percent, rounded half
    up once; the net amount is what remains, so net + tax is exactly what was paid."""
    gross = gross.quantize(CENT)
    tax = (gross * tax_rate / (100 + tax_rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Amounts(net=gross - tax, tax=tax, gross=gross, tax_rate=tax_rate)


def proportional_refund(paid: Decimal, points_removed: int, points_bought: int) -> Decimal:
    """The money for `points_removed` of `points_bought` paid `paid`: the whole amount for all of
    them, else rounded down to the cent (a refund never exceeds its share of the payment)."""
    if points_removed >= points_bought:
        return paid
    return (paid * points_removed / points_bought).quantize(CENT, rounding=ROUND_DOWN)
