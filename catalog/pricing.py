"""The pricing table: everything that depends on a category's pricing kind, one entry per kind.

An issue category's price is its pricing kind plus up to three whole-number columns (`points`,
`max_points`, `hourly_rate`). Each `KindPricing` entry of `PRICING` says, for its kind, which
columns are used (the others stay empty) and what bounds them; how the price reads in the price
list ("from 120") and in words ("from 120 points", "free"); what a new ticket holds; within which
bounds staff change a ticket's cost; whether staff log time on it or it waits for a quote; and how
the price list's legend explains it. From the table come the choices (`PricingKind`), the
database constraint `category_price_matches_kind`, the validation of the model (and so of the
admin), the admin's help and every price text.

A new pricing kind is one entry in `PRICING_TABLE` plus a migration (`makemigrations catalog`:
the field's new choice and the regenerated constraint). Nothing else branches on the kind: code
outside the catalog asks the category's entry (`category.pricing.logs_time`,
`.waits_for_quote`, `category.capture_points`, `category.cost_bounds`) instead of comparing kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple, Protocol

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The price columns of an issue category, in the order of the admin's form.
PRICE_COLUMNS = ("points", "max_points", "hourly_rate")
# Length of the column that stores the kind (`IssueCategory.pricing_kind`); every kind fits it.
KIND_MAX_LENGTH = 20
PRICE_CONSTRAINT_NAME = "category_price_matches_kind"


class Priced(Protocol):
    """An issue category, or anything else with its price columns."""

    pricing_kind: str
    points: int | None
    max_points: int | None
    hourly_rate: int | None


class Above(NamedTuple):
    """`column` must be greater than `other` (both set)."""

    column: str
    other: str
    message: str | Promise


@dataclass(frozen=True, kw_only=True)
class KindPricing:
    """What one pricing kind means, for every place that needs it."""

    kind: str  # stored in IssueCategory.pricing_kind
    name: str | Promise  # the choice staff see
    columns: tuple[str, ...]  # price columns this kind uses; the others stay empty
    # Used columns that must be above 0 (any price column is ≥ 0 by its own constraint).
    positive: tuple[str, ...] = ()
    above: Above | None = None
    # The price as the price list shows it; %(column)s placeholders.
    label: str | Promise
    # The price in words; %(price)s is the label.
    text: str | Promise
    # The words instead of `text` when the held price is 0.
    zero_text: str | Promise | None = None
    # The column whose value a new ticket holds; None: the ticket waits for a quote first.
    capture: str | None
    # (low column, high column or None): the cost staff set stays within them unless overridden.
    bounds: tuple[str, str | None] | None = None
    # Staff log time and the cost follows it (the hourly rate × hours).
    logs_time: bool = False
    # The price list's legend: (example price columns, what such a price means).
    legend: tuple[tuple[dict[str, int], str | Promise], ...] = ()

    @property
    def waits_for_quote(self) -> bool:
        """A new ticket holds nothing: staff quote a price, the customer accepts it first."""
        return self.capture is None

    def label_for(self, priced: Priced) -> str:
        return str(self.label) % _columns(priced)

    def text_for(self, priced: Priced) -> str:
        if self.zero_text is not None and self.capture_for(priced) == 0:
            return str(self.zero_text)
        return str(self.text) % {**_columns(priced), "price": self.label_for(priced)}

    def capture_for(self, priced: Priced) -> int | None:
        return None if self.capture is None else getattr(priced, self.capture)

    def bounds_for(self, priced: Priced) -> tuple[int, int | None] | None:
        if self.bounds is None:
            return None
        low, high = self.bounds
        return (getattr(priced, low), None if high is None else getattr(priced, high))

    def errors_for(
        self, priced: Priced, *, skip: Collection[str] = ()
    ) -> dict[str, ValidationError]:
        """{column: ValidationError} for the price columns that don't fit this kind.

        Columns in `skip` (already refused as typed, or not being edited) are left out.
        """
        errors: dict[str, ValidationError] = {}
        for column in PRICE_COLUMNS:
            if column in skip:
                continue
            value = getattr(priced, column)
            if column in self.columns and value is None:
                errors[column] = ValidationError(
                    _("Required for “%(kind)s” pricing."),
                    code="required_for_kind",
                    params={"kind": self.name},
                )
            elif column not in self.columns and value is not None:
                errors[column] = ValidationError(
                    _("Leave empty for “%(kind)s” pricing."),
                    code="not_for_kind",
                    params={"kind": self.name},
                )
            elif column in self.positive and value is not None and value < 1:
                errors[column] = ValidationError(
                    _("Must be at least %(minimum)s."), code="not_positive", params={"minimum": 1}
                )
        rule = self.above
        if rule and not {rule.column, rule.other} & {*skip, *errors}:
            value, other = getattr(priced, rule.column), getattr(priced, rule.other)
            if value is not None and other is not None and value <= other:
                errors[rule.column] = ValidationError(rule.message, code="not_above")
        return errors

    def condition(self) -> dict[str, object]:
        """The constraint's lookups for a row of this kind (the kind itself aside)."""
        lookups: dict[str, object] = {}
        for column in PRICE_COLUMNS:
            # Spelled out: a NULL makes "column > x" unknown, which a CHECK lets pass.
            lookups[f"{column}__isnull"] = column not in self.columns
            if column in self.positive:
                lookups[f"{column}__gt"] = 0
        if self.above:
            lookups[f"{self.above.column}__gt"] = F(self.above.other)
        return lookups


PRICING_TABLE = (
    KindPricing(
        kind="fixed",
        name=_("fixed"),
        columns=("points",),
        label="%(points)s",
        text=_("%(price)s points"),
        zero_text=_("free"),
        capture="points",
        legend=(
            ({"points": 40}, _("A fixed price: the ticket costs exactly this many points.")),
            ({"points": 0}, _("Free: no points are taken.")),
        ),
    ),
    KindPricing(
        kind="minimum",
        name=_("from (minimum)"),
        columns=("points",),
        label=_("from %(points)s"),
        text=_("%(price)s points"),
        capture="points",
        bounds=("points", None),
        legend=(
            (
                {"points": 120},
                _(
                    "A starting price. We hold this amount when you file; if the work needs more, "
                    "the cost can go up, and we tell you why."
                ),
            ),
        ),
    ),
    KindPricing(
        kind="range",
        name=_("range"),
        columns=("points", "max_points"),
        above=Above("max_points", "points", _("Must be greater than the low end of the range.")),
        label="%(points)s–%(max_points)s",
        text=_("%(price)s points"),
        capture="points",
        bounds=("points", "max_points"),
        legend=(
            (
                {"points": 60, "max_points": 2040},
                _(
                    "A range. We hold the lower figure when you file; the final cost is set within "
                    "the range according to the work your case needs."
                ),
            ),
        ),
    ),
    KindPricing(
        kind="hourly",
        name=_("per hour"),
        columns=("hourly_rate",),
        positive=("hourly_rate",),
        label=_("%(hourly_rate)s / hour"),
        text=_("%(hourly_rate)s points per hour"),
        capture="hourly_rate",  # one hour is held up front
        logs_time=True,
        legend=(
            (
                {"hourly_rate": 60},
                _(
                    "Paid by the hour. One hour is held up front; the final cost is the time "
                    "actually spent, rounded up to whole points."
                ),
            ),
        ),
    ),
    KindPricing(
        kind="upon_request",
        name=_("upon request"),
        columns=(),
        label=_("upon request"),
        text=_("price on request"),
        capture=None,
        legend=(
            (
                {},
                _(
                    "Nothing is held at first. We send you a quote; if you accept it, the points "
                    "are held and work begins; if you decline, the ticket is cancelled at no cost."
                ),
            ),
        ),
    ),
)

PRICING: dict[str, KindPricing] = {entry.kind: entry for entry in PRICING_TABLE}

# The kinds as choices, built from the table in its order; each member is named after its kind
# upper-cased: PricingKind.FIXED == "fixed", PricingKind.UPON_REQUEST == "upon_request".
PricingKind = models.TextChoices(
    "PricingKind",
    [(entry.kind.upper(), (entry.kind, entry.name)) for entry in PRICING_TABLE],
    module=__name__,
)


def pricing_of(priced: Priced) -> KindPricing:
    return PRICING[priced.pricing_kind]


def price_text(priced: Priced) -> str:
    """The price in words: "40 points", "free", "from 120 points", "60 points per hour"…"""
    return pricing_of(priced).text_for(priced)


def price_errors(priced: Priced, *, skip: Collection[str] = ()) -> dict[str, ValidationError]:
    """{column: ValidationError} where the price columns don't fit the kind; an unknown kind
    (refused as a choice) or a skipped one has none to report.
    """
    if "pricing_kind" in skip or priced.pricing_kind not in PRICING:
        return {}
    return pricing_of(priced).errors_for(priced, skip=skip)


def price_constraint() -> models.CheckConstraint:
    """The CHECK that a row's price columns fit its kind: one clause per group of kinds whose
    columns follow the same rules, in the table's order.
    """
    clauses = [
        Q(pricing_kind=kinds[0], **lookups)
        if len(kinds) == 1
        else Q(pricing_kind__in=kinds, **lookups)
        for lookups, kinds in _grouped(lambda entry: entry.condition())
    ]
    condition = clauses[0]
    for clause in clauses[1:]:
        condition |= clause
    return models.CheckConstraint(condition=condition, name=PRICE_CONSTRAINT_NAME)


def price_legend() -> list[tuple[str, str]]:
    """(example label, what it means) for each kind's examples, for the price list's legend."""
    return [
        (entry.label_for(_example(columns)), str(meaning))
        for entry in PRICING.values()
        for columns, meaning in entry.legend
    ]


def kinds_by_columns() -> list[tuple[tuple[str, ...], list[KindPricing]]]:
    """(columns, the kinds that use exactly them), in the table's order."""
    return [
        (columns, [PRICING[kind] for kind in kinds])
        for columns, kinds in _grouped(lambda entry: entry.columns)
    ]


def _grouped(key: Callable[[KindPricing], object]) -> list[tuple[object, list[str]]]:
    groups: list[tuple[object, list[str]]] = []
    for entry in PRICING.values():
        value = key(entry)
        for known, kinds in groups:
            if known == value:
                kinds.append(entry.kind)
                break
        else:
            groups.append((value, [entry.kind]))
    return groups


def _columns(priced: Priced) -> dict[str, int | None]:
    return {column: getattr(priced, column) for column in PRICE_COLUMNS}


def _example(columns: dict[str, int]) -> SimpleNamespace:
    return SimpleNamespace(**{**dict.fromkeys(PRICE_COLUMNS), **columns})
