"""The catalog loaded by the data migration is exactly the one in SPEC §3."""

import pytest

from catalog.models import CategoryGroup, IssueCategory, PricingKind

FIXED, MINIMUM, RANGE, HOURLY, UPON_REQUEST = (
    PricingKind.FIXED,
    PricingKind.MINIMUM,
    PricingKind.RANGE,
    PricingKind.HOURLY,
    PricingKind.UPON_REQUEST,
)

# (category, kind, points, max_points, hourly_rate, price label, points a new ticket captures)
SPEC_CATALOG = [
    (
        "General assistance",
        [("General questions", FIXED, 0, None, None, "0", 0)],
    ),
    (
        "Technical support consulting & assistance",
        [
            ("Consultation on software features", FIXED, 10, None, None, "10", 10),
            ("Consultation on simple modification", FIXED, 25, None, None, "25", 25),
            ("Incident solving", FIXED, 40, None, None, "40", 40),
            ("Incident solving with protracted debugging", FIXED, 80, None, None, "80", 80),
            ("Product warranty issues", FIXED, 0, None, None, "0", 0),
            ("Other issues", UPON_REQUEST, None, None, None, "upon request", None),
        ],
    ),
    (
        "Installation services",
        [
            ("Installation service for points", FIXED, 150, None, None, "150", 150),
            ("Installation of 3rd-party web software", MINIMUM, 120, None, None, "from 120", 120),
            ("Installation of SSL certificate", FIXED, 150, None, None, "150", 150),
            ("Installation of server applications", MINIMUM, 250, None, None, "from 250", 250),
            ("Installation of X-Cart SEO enhancements", RANGE, 60, 2040, None, "60\u20132040", 60),
            ("Google Analytics setup", HOURLY, None, None, 60, "60 / hour", 60),
        ],
    ),
    (
        "Transfer services",
        [
            ("Transfer of X-Cart store", FIXED, 150, None, None, "150", 150),
            (
                "Transfer of heavily customized X-Cart store",
                MINIMUM,
                150,
                None,
                None,
                "from 150",
                150,
            ),
        ],
    ),
    (
        "Optimization services",
        [
            ("X-Cart performance optimization", MINIMUM, 180, None, None, "from 180", 180),
            (
                "Optimization of server applications performance",
                MINIMUM,
                180,
                None,
                None,
                "from 180",
                180,
            ),
            ("SEO analysis", MINIMUM, 100, None, None, "from 100", 100),
            ("Website security audit", MINIMUM, 180, None, None, "from 180", 180),
        ],
    ),
]


def test_groups_are_the_five_of_the_spec_in_order(db):
    groups = list(CategoryGroup.objects.all())

    assert [group.name for group in groups] == [name for name, _ in SPEC_CATALOG]
    assert all(group.is_active for group in groups)


@pytest.mark.parametrize(
    ("group_name", "categories"), SPEC_CATALOG, ids=[name for name, _ in SPEC_CATALOG]
)
def test_each_group_holds_its_categories_in_order_with_their_prices(db, group_name, categories):
    rows = list(IssueCategory.objects.filter(group__name=group_name))

    actual = [
        (
            category.name,
            category.pricing_kind,
            category.points,
            category.max_points,
            category.hourly_rate,
            category.price_label,
            category.capture_points,
        )
        for category in rows
    ]
    assert actual == categories
    assert all(category.is_active for category in rows)


def test_the_catalog_has_nineteen_categories_and_nothing_else(db):
    assert IssueCategory.objects.count() == 19 == sum(len(cats) for _, cats in SPEC_CATALOG)


def test_catalog_order_is_group_order_then_category_order(db):
    """The default ordering lists categories as the price list does, group by group."""
    names = list(IssueCategory.objects.values_list("name", flat=True))

    assert names == [category[0] for _, categories in SPEC_CATALOG for category in categories]
