"""The pricing table (catalog.pricing): per kind, which price columns it takes, how the price reads,
what a new ticket holds and within which bounds its cost moves; and that a new kind is one entry.
"""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.template import Context, Template

from catalog import pricing
from catalog.admin import price_columns_help
from catalog.models import IssueCategory, PricingKind
from catalog.pricing import Above, KindPricing, price_constraint, price_errors, price_text
from tests.factories import CategoryGroupFactory

# kind: (columns it takes, a price of it, label, text, capture, bounds, logs time, waits for quote)
EXPECTED = {
    "fixed": (
        {"points"},
        {"points": 40},
        "40",
        "40 points",
        40,
        None,
        False,
        False,
    ),
    "minimum": (
        {"points"},
        {"points": 120},
        "from 120",
        "from 120 points",
        120,
        (120, None),
        False,
        False,
    ),
    "range": (
        {"points", "max_points"},
        {"points": 60, "max_points": 2040},
        "60\u20132040",
        "60\u20132040 points",
        60,
        (60, 2040),
        False,
        False,
    ),
    "hourly": (
        {"hourly_rate"},
        {"hourly_rate": 60},
        "60 / hour",
        "60 points per hour",
        60,
        None,
        True,
        False,
    ),
    "upon_request": (
        set(),
        {},
        "upon request",
        "price on request",
        None,
        None,
        False,
        True,
    ),
}
NAMES = {
    "fixed": "fixed",
    "minimum": "from (minimum)",
    "range": "range",
    "hourly": "per hour",
    "upon_request": "upon request",
}
COLUMNS = ["points", "max_points", "hourly_rate"]


def category(kind, **columns):
    return IssueCategory(pricing_kind=kind, **columns)


def test_the_kinds_are_the_five_of_the_table_in_order():
    assert PricingKind.choices == list(NAMES.items())
    assert list(pricing.PRICING) == list(EXPECTED)
    assert (PricingKind.FIXED, PricingKind.UPON_REQUEST) == ("fixed", "upon_request")
    column = IssueCategory._meta.get_field("pricing_kind")
    assert all(len(kind) <= column.max_length for kind in pricing.PRICING)


@pytest.mark.parametrize("kind", EXPECTED)
def test_each_kind_reads_holds_and_bounds_its_price(kind):
    _, price, label, text, capture, bounds, logs_time, waits_for_quote = EXPECTED[kind]
    priced = category(kind, **price)

    assert priced.price_label == label
    assert price_text(priced) == text
    assert priced.capture_points == capture
    assert priced.cost_bounds == bounds
    assert priced.pricing.logs_time is logs_time
    assert priced.pricing.waits_for_quote is waits_for_quote


@pytest.mark.parametrize("kind", EXPECTED)
def test_templates_show_a_price_in_words_with_the_price_text_filter(kind):
    template = Template("{% load catalog_pricing %}{{ category|price_text }}")

    shown = template.render(Context({"category": category(kind, **EXPECTED[kind][1])}))

    assert shown == EXPECTED[kind][3]


def test_a_free_fixed_price_reads_free_but_a_zero_minimum_or_range_does_not():
    assert price_text(category("fixed", points=0)) == "free"
    assert price_text(category("minimum", points=0)) == "from 0 points"
    assert price_text(category("range", points=0, max_points=1)) == "0\u20131 points"


@pytest.mark.parametrize("kind", EXPECTED)
def test_a_price_of_each_kind_passes_the_model_validation(db, kind):
    priced = category(kind, group=CategoryGroupFactory(), name="Valid", **EXPECTED[kind][1])

    priced.full_clean()


def _missing_and_extra():
    for kind, (columns, *_) in EXPECTED.items():
        for column in COLUMNS:
            yield kind, column, column in columns


@pytest.mark.parametrize(("kind", "column", "required"), list(_missing_and_extra()))
def test_each_kind_requires_its_columns_and_refuses_the_others(db, kind, column, required):
    price = dict(EXPECTED[kind][1])
    if required:
        del price[column]
    else:
        price[column] = 7
    priced = category(kind, group=CategoryGroupFactory(), name="Invalid", **price)

    with pytest.raises(ValidationError) as refused:
        priced.full_clean()

    [error] = refused.value.error_dict[column]
    if required:
        assert error.code == "required_for_kind"
        assert error.messages == [f"Required for “{NAMES[kind]}” pricing."]
    else:
        assert error.code == "not_for_kind"
        assert error.messages == [f"Leave empty for “{NAMES[kind]}” pricing."]
    assert set(refused.value.error_dict) == {column}


@pytest.mark.parametrize(
    ("kind", "price", "column", "code", "message"),
    [
        ("hourly", {"hourly_rate": 0}, "hourly_rate", "not_positive", "Must be at least 1."),
        ("hourly", {"hourly_rate": -3}, "hourly_rate", "not_positive", "Must be at least 1."),
        (
            "range",
            {"points": 60, "max_points": 60},
            "max_points",
            "not_above",
            "Must be greater than the low end of the range.",
        ),
        (
            "range",
            {"points": 60, "max_points": 10},
            "max_points",
            "not_above",
            "Must be greater than the low end of the range.",
        ),
    ],
)
def test_the_kinds_bounds_are_checked_with_one_error_per_field(kind, price, column, code, message):
    errors = price_errors(category(kind, **price))

    assert errors[column].code == code
    assert errors[column].messages == [message]
    assert set(errors) == {column}


def test_a_column_already_refused_or_not_edited_is_left_alone():
    priced = category("range", points=None, max_points=5)

    assert set(price_errors(priced)) == {"points"}
    assert price_errors(priced, skip={"points"}) == {}
    assert price_errors(priced, skip={"pricing_kind"}) == {}
    assert price_errors(category("bargain", points=10)) == {}


def test_the_database_constraint_is_built_from_the_table_and_needs_no_migration(db):
    constraint = next(
        c for c in IssueCategory._meta.constraints if c.name == "category_price_matches_kind"
    )

    assert constraint == price_constraint()
    # The constraint and the choices equal those of the migrations, so nothing is to migrate.
    call_command("makemigrations", "catalog", check=True, dry_run=True, verbosity=0)


def test_kinds_with_the_same_rules_share_one_clause_of_the_constraint():
    clauses = price_constraint().condition.children

    assert [dict(clause.children).get("pricing_kind__in") for clause in clauses] == [
        ["fixed", "minimum"],
        None,
        None,
        None,
    ]
    assert [dict(clause.children).get("pricing_kind") for clause in clauses[1:]] == [
        "range",
        "hourly",
        "upon_request",
    ]


def test_the_legend_explains_an_example_of_each_kind_in_the_table_order():
    terms = [term for term, _ in pricing.price_legend()]

    assert terms == ["40", "0", "from 120", "60\u20132040", "60 / hour", "upon request"]


@pytest.mark.parametrize("entry", pricing.PRICING_TABLE, ids=lambda entry: entry.kind)
def test_every_legend_example_is_a_valid_price_of_its_kind(entry):
    for columns, _ in entry.legend:
        assert price_errors(category(entry.kind, **columns)) == {}


# --- A new kind is one entry ---------------------------------------------------------------------

CAPPED = KindPricing(
    kind="capped_hourly",
    name="capped hourly",
    columns=("hourly_rate", "max_points"),
    positive=("hourly_rate",),
    above=Above("max_points", "hourly_rate", "The cap must be more than one hour."),
    label="%(hourly_rate)s / hour, at most %(max_points)s",
    text="%(hourly_rate)s points per hour, %(max_points)s at most",
    capture="hourly_rate",
    bounds=("hourly_rate", "max_points"),
    logs_time=True,
    legend=(({"hourly_rate": 50, "max_points": 400}, "Hourly, never above the cap."),),
)


@pytest.fixture
def capped(monkeypatch):
    """A throwaway kind added to the table alone (its choice and constraint are a migration's)."""
    monkeypatch.setitem(pricing.PRICING, CAPPED.kind, CAPPED)
    return CAPPED.kind


def test_a_new_kind_reads_holds_and_bounds_its_price_from_its_entry(capped):
    priced = category(capped, hourly_rate=50, max_points=400)

    assert priced.price_label == "50 / hour, at most 400"
    assert price_text(priced) == "50 points per hour, 400 at most"
    assert priced.capture_points == 50
    assert priced.cost_bounds == (50, 400)
    assert priced.pricing.logs_time is True
    assert priced.pricing.waits_for_quote is False
    assert price_errors(priced) == {}


def test_a_new_kind_validates_its_columns_from_its_entry(capped):
    errors = price_errors(category(capped, points=5, hourly_rate=0))
    assert {column: error.messages for column, error in errors.items()} == {
        "points": ["Leave empty for “capped hourly” pricing."],
        "max_points": ["Required for “capped hourly” pricing."],
        "hourly_rate": ["Must be at least 1."],
    }

    errors = price_errors(category(capped, hourly_rate=50, max_points=50))
    assert {column: error.messages for column, error in errors.items()} == {
        "max_points": ["The cap must be more than one hour."]
    }


@pytest.mark.django_db
def test_a_new_kind_gets_its_own_clause_in_the_constraint(capped):
    constraint = price_constraint()
    assert dict(constraint.condition.children[-1].children)["pricing_kind"] == capped

    constraint.validate(IssueCategory, category(capped, hourly_rate=50, max_points=400))
    for bad in [
        category(capped, hourly_rate=50, max_points=50),
        category(capped, hourly_rate=0, max_points=400),
        category(capped, hourly_rate=50),
        category(capped, points=1, hourly_rate=50, max_points=400),
    ]:
        with pytest.raises(ValidationError):
            constraint.validate(IssueCategory, bad)


def test_a_new_kind_is_explained_in_the_legend_and_the_admin_help(capped):
    assert pricing.price_legend()[-1] == ("50 / hour, at most 400", "Hourly, never above the cap.")
    assert "“capped hourly” uses “points per hour” and “maximum points”" in price_columns_help()


def test_a_new_kind_with_the_rules_of_another_joins_its_clause(monkeypatch):
    monkeypatch.setitem(
        pricing.PRICING,
        "flat",
        KindPricing(
            kind="flat",
            name="flat",
            columns=("points",),
            label="%(points)s",
            text="%(price)s points",
            capture="points",
        ),
    )

    clauses = price_constraint().condition.children

    assert dict(clauses[0].children)["pricing_kind__in"] == ["fixed", "minimum", "flat"]
    assert len(clauses) == 4
