"""Numbers people type: ids in URLs and query strings, whole numbers and prices in forms.

Only the digits 0–9 (with an optional sign, or a decimal point in prices) are read; "1e5", "12.0",
"1,000" and the digits of other scripts are refused rather than guessed at, so what is stored is
exactly what was typed. Every number is bounded by its column (64-bit at most) and, for points, by
the business's largest single operation (`HELPDESK_MAX_POINTS_PER_OPERATION`).
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

BIGINT_MAX = 2**63 - 1
BIGINT_MIN = -(2**63)
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Digits beyond this (leading zeros aside) are out of any column's range, however many follow.
_MAX_DIGITS = len(str(BIGINT_MAX))


def points_limit() -> int:
    """The most points one operation may move (a grant, an adjustment, a ticket's cost...)."""
    return settings.HELPDESK_MAX_POINTS_PER_OPERATION


def negative_points_limit() -> int:
    return -points_limit()


def parse_id(text: str | None) -> int | None:
    """A positive database id typed in a URL or a query string, or None for anything else."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0")
    if not digits or len(digits) > _MAX_DIGITS or int(digits) > BIGINT_MAX:
        return None
    return int(digits)


class WholeNumberField(forms.IntegerField):
    """A whole number in the digits 0–9, within a 64-bit column unless tighter bounds are given.

    `min_value` and `max_value` may be callables (a setting read when the form is validated).
    """

    default_error_messages = {"invalid": _("Enter a whole number using the digits 0–9.")}

    def __init__(self, *, min_value=BIGINT_MIN, max_value=BIGINT_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if not _WHOLE_NUMBER.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-").lstrip("0") or "0"
        if len(digits) > _MAX_DIGITS:
            # Past every column: one beyond the 64-bit range, which the bound's own message
            # refuses, without making Python read a megabyte of digits.
            return sign * (BIGINT_MAX + 1)
        return sign * int(digits)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        # A bound read from a setting is checked on the server; the page would show a stale one.
        for name, bound in (("min", self.min_value), ("max", self.max_value)):
            if callable(bound):
                attrs.pop(name, None)
        return attrs


class PointsField(WholeNumberField):
    """Points of one operation: from `minimum` (0 by default) to the business's largest."""

    def __init__(self, *, minimum=0, **kwargs):
        # A model form passes its column's bounds, far wider than the business's.
        kwargs.pop("min_value", None)
        kwargs.pop("max_value", None)
        super().__init__(min_value=minimum, max_value=points_limit, **kwargs)


class AmountField(forms.DecimalField):
    """A price in the digits 0–9 with a decimal point: "1e5", "NaN" and "1,000" are refused."""

    default_error_messages = {
        "invalid": _("Enter an amount using the digits 0–9 and a decimal point, like 240.00.")
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, str):
            value = value.strip()
            if not _AMOUNT.fullmatch(value):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)
