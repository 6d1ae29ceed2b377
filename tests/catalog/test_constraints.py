"""Every database constraint of the catalog refuses the bad row it guards (PostgreSQL)."""

import pytest
from django.db import IntegrityError, transaction

from catalog.models import IssueCategory, PricingKind
from tests.factories import CategoryGroupFactory

BAD_PRICES = {
    "fixed with negative points": dict(pricing_kind=PricingKind.FIXED, points=-1),
    "minimum with negative points": dict(pricing_kind=PricingKind.MINIMUM, points=-5),
    "range with negative low end": dict(pricing_kind=PricingKind.RANGE, points=-1, max_points=10),
    "range with max equal to min": dict(pricing_kind=PricingKind.RANGE, points=60, max_points=60),
    "range with max below min": dict(pricing_kind=PricingKind.RANGE, points=60, max_points=59),
    "range without max": dict(pricing_kind=PricingKind.RANGE, points=60),
    "range without min": dict(pricing_kind=PricingKind.RANGE, max_points=60),
    "hourly with rate 0": dict(pricing_kind=PricingKind.HOURLY, hourly_rate=0),
    "hourly with negative rate": dict(pricing_kind=PricingKind.HOURLY, hourly_rate=-60),
    "hourly without rate": dict(pricing_kind=PricingKind.HOURLY),
    "hourly with points": dict(pricing_kind=PricingKind.HOURLY, points=60, hourly_rate=60),
    "upon request with points": dict(pricing_kind=PricingKind.UPON_REQUEST, points=10),
    "upon request with maximum": dict(pricing_kind=PricingKind.UPON_REQUEST, max_points=10),
    "upon request with rate": dict(pricing_kind=PricingKind.UPON_REQUEST, hourly_rate=60),
    "fixed without points": dict(pricing_kind=PricingKind.FIXED),
    "minimum without points": dict(pricing_kind=PricingKind.MINIMUM),
    "fixed with a maximum": dict(pricing_kind=PricingKind.FIXED, points=10, max_points=20),
    "fixed with a rate": dict(pricing_kind=PricingKind.FIXED, points=10, hourly_rate=20),
    "unknown pricing kind": dict(pricing_kind="bargain", points=10),
}

GOOD_PRICES = {
    "fixed": dict(pricing_kind=PricingKind.FIXED, points=40),
    "fixed free": dict(pricing_kind=PricingKind.FIXED, points=0),
    "minimum": dict(pricing_kind=PricingKind.MINIMUM, points=120),
    "range": dict(pricing_kind=PricingKind.RANGE, points=60, max_points=2040),
    "range from zero": dict(pricing_kind=PricingKind.RANGE, points=0, max_points=1),
    "hourly": dict(pricing_kind=PricingKind.HOURLY, hourly_rate=60),
    "upon request": dict(pricing_kind=PricingKind.UPON_REQUEST),
}


@pytest.fixture
def group(db):
    return CategoryGroupFactory()


@pytest.mark.parametrize("price", BAD_PRICES.values(), ids=BAD_PRICES.keys())
def test_database_refuses_a_price_that_does_not_fit_its_kind(group, price):
    with pytest.raises(IntegrityError), transaction.atomic():
        IssueCategory.objects.create(group=group, name="Bad price", **price)

    assert not IssueCategory.objects.filter(name="Bad price").exists()


@pytest.mark.parametrize("price", GOOD_PRICES.values(), ids=GOOD_PRICES.keys())
def test_database_accepts_a_valid_price_of_each_kind(group, price):
    category = IssueCategory.objects.create(group=group, name="Good price", **price)

    category.refresh_from_db()
    assert category.pricing_kind == price["pricing_kind"]
    assert (category.points, category.max_points, category.hourly_rate) == (
        price.get("points"),
        price.get("max_points"),
        price.get("hourly_rate"),
    )


def test_a_name_is_unique_within_its_group(group):
    IssueCategory.objects.create(group=group, name="SEO analysis", pricing_kind="fixed", points=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        IssueCategory.objects.create(
            group=group, name="SEO analysis", pricing_kind="fixed", points=2
        )

    assert IssueCategory.objects.filter(group=group, name="SEO analysis").count() == 1


def test_the_same_name_may_appear_in_another_group(group):
    other_group = CategoryGroupFactory()
    IssueCategory.objects.create(group=group, name="Audit", pricing_kind="fixed", points=1)

    IssueCategory.objects.create(group=other_group, name="Audit", pricing_kind="fixed", points=1)

    assert IssueCategory.objects.filter(name="Audit").count() == 2


def test_group_names_are_unique(group):
    with pytest.raises(IntegrityError), transaction.atomic():
        CategoryGroupFactory(name=group.name)
