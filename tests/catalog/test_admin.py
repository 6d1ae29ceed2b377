"""The price catalog in the admin: ordering, activation and prices, edited by staff who hold the
catalog permissions; support staff may only look.
"""

import pytest
from django.contrib.auth.models import Permission

from catalog.models import CategoryGroup, IssueCategory, PricingKind
from catalog.selectors import catalog_groups_active
from tests.admin_support import support_staff_user
from tests.factories import CategoryGroupFactory, IssueCategoryFactory, StaffUserFactory
from tests.html import find, find_all, parse, text

pytestmark = pytest.mark.django_db

CATEGORIES = "/admin/catalog/issuecategory/"
GROUPS = "/admin/catalog/categorygroup/"


@pytest.fixture
def manager(client):
    """A staff member (not a superuser) allowed to edit the catalog."""
    user = StaffUserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="catalog",
            codename__in=[
                "view_categorygroup",
                "change_categorygroup",
                "add_categorygroup",
                "view_issuecategory",
                "change_issuecategory",
                "add_issuecategory",
            ],
        )
    )
    client.force_login(user)
    return client


def category_form(group, **overrides):
    data = {
        "group": group.pk,
        "name": "Custom work",
        "position": "5",
        "is_active": "on",
        "pricing_kind": PricingKind.FIXED,
        "points": "",
        "max_points": "",
        "hourly_rate": "",
    }
    data.update(overrides)
    return data


def test_category_list_shows_the_price_label_of_each_pricing_kind(manager):
    group = CategoryGroupFactory(name="Test installation services")
    IssueCategoryFactory(group=group, name="SSL", points=150, position=1)
    IssueCategoryFactory(group=group, name="Server apps", minimum=True, points=250, position=2)
    IssueCategoryFactory(group=group, name="SEO", range=True, position=3)
    IssueCategoryFactory(group=group, name="Analytics", hourly=True, position=4)
    IssueCategoryFactory(group=group, name="Other", upon_request=True, position=5)

    page = parse(manager.get(CATEGORIES, {"group__id__exact": group.pk}).content)

    rows = find_all(find(find(page, "table", id="result_list"), "tbody"), "tr")
    prices = {
        text(find(row, None, class_="field-name")): text(find(row, None, class_="field-price"))
        for row in rows
    }
    assert prices == {
        "SSL": "150",
        "Server apps": "from 250",
        "SEO": "60–2040",
        "Analytics": "60 / hour",
        "Other": "upon request",
    }


def test_reorder_and_deactivate_from_the_list(manager):
    group = CategoryGroupFactory()
    first = IssueCategoryFactory(group=group, name="First", position=1)
    second = IssueCategoryFactory(group=group, name="Second", position=2)

    response = manager.post(
        CATEGORIES + f"?group__id__exact={group.pk}",
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-id": first.pk,
            "form-0-position": "3",
            "form-0-is_active": "on",
            "form-1-id": second.pk,
            "form-1-position": "1",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.position, first.is_active) == (3, True)
    assert (second.position, second.is_active) == (1, False)
    shown = [c.name for g in catalog_groups_active() if g == group for c in g.active_categories]
    assert shown == ["First"]


def test_deactivate_and_activate_actions(manager):
    category = IssueCategoryFactory(name="Old service")

    response = manager.post(
        CATEGORIES,
        {"action": "deactivate", "_selected_action": [category.pk]},
        follow=True,
    )
    assert "1 deactivated; customers no longer see it." in text(parse(response.content))
    assert not IssueCategory.objects.active().filter(pk=category.pk).exists()

    manager.post(CATEGORIES, {"action": "activate", "_selected_action": [category.pk]})
    assert IssueCategory.objects.active().filter(pk=category.pk).exists()


def test_deactivating_a_group_hides_its_categories(manager):
    group = CategoryGroupFactory(name="Test transfer services")
    IssueCategoryFactory(group=group)

    manager.post(GROUPS, {"action": "deactivate", "_selected_action": [group.pk]})

    assert group not in catalog_groups_active()
    assert not IssueCategory.objects.active().filter(group=group).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"pricing_kind": "fixed"}, "points", "Required for “fixed” pricing."),
        ({"pricing_kind": "hourly", "hourly_rate": ""}, "hourly_rate", "Required"),
        (
            {"pricing_kind": "hourly", "hourly_rate": "60", "points": "10"},
            "points",
            "Leave empty for “per hour” pricing.",
        ),
        (
            {"pricing_kind": "range", "points": "100", "max_points": "50"},
            "max_points",
            "Must be greater than the low end of the range.",
        ),
        (
            {"pricing_kind": "minimum", "points": "-5"},
            "points",
            "Ensure this value is greater than or equal to 0.",
        ),
    ],
)
def test_price_fields_must_match_the_pricing_kind(manager, overrides, field, error):
    group = CategoryGroupFactory()

    response = manager.post(CATEGORIES + "add/", category_form(group, **overrides))

    assert response.status_code == 200
    errors = find(parse(response.content), "ul", id=f"id_{field}_error")
    assert error in text(errors)
    assert not IssueCategory.objects.filter(name="Custom work").exists()


def test_add_a_range_category(manager):
    group = CategoryGroupFactory()

    response = manager.post(
        CATEGORIES + "add/",
        category_form(group, pricing_kind="range", points="60", max_points="600"),
    )

    assert response.status_code == 302
    category = IssueCategory.objects.get(name="Custom work")
    assert category.price_label == "60–600"


def test_support_staff_can_look_but_not_change_the_catalog(client):
    client.force_login(support_staff_user())
    category = IssueCategoryFactory(points=40)

    assert client.get(CATEGORIES).status_code == 200
    assert client.get(GROUPS).status_code == 200
    response = client.post(
        f"{CATEGORIES}{category.pk}/change/",
        category_form(category.group, points="1"),
    )
    assert response.status_code == 403
    category.refresh_from_db()
    assert category.points == 40
    assert CategoryGroup.objects.filter(pk=category.group_id, is_active=True).exists()


# --- Prices checked through the pricing table --------------------------------------------------

VALID_PRICES = {
    "fixed": ("fixed", {"points": "40"}),
    "minimum": ("from (minimum)", {"points": "120"}),
    "range": ("range", {"points": "60", "max_points": "2040"}),
    "hourly": ("per hour", {"hourly_rate": "60"}),
    "upon_request": ("upon request", {}),
}
PRICE_COLUMNS = ["points", "max_points", "hourly_rate"]


def _price_errors(response) -> dict[str, str]:
    root = parse(response.content)
    return {
        column: text(errors)
        for column in PRICE_COLUMNS
        for errors in find_all(root, "ul", id=f"id_{column}_error")
    }


@pytest.mark.parametrize("kind", VALID_PRICES)
@pytest.mark.parametrize("column", PRICE_COLUMNS)
def test_the_admin_refuses_each_column_that_does_not_fit_the_kind(manager, kind, column):
    name, price = VALID_PRICES[kind]
    typed = dict(price)
    if column in price:
        del typed[column]
        expected = f"Required for “{name}” pricing."
    else:
        typed[column] = "7"
        expected = f"Leave empty for “{name}” pricing."

    response = manager.post(
        CATEGORIES + "add/", category_form(CategoryGroupFactory(), pricing_kind=kind, **typed)
    )

    assert response.status_code == 200
    assert _price_errors(response) == {column: expected}
    assert not IssueCategory.objects.filter(name="Custom work").exists()


@pytest.mark.parametrize("kind", VALID_PRICES)
def test_the_admin_saves_a_valid_price_of_each_kind(manager, kind):
    response = manager.post(
        CATEGORIES + "add/",
        category_form(CategoryGroupFactory(), pricing_kind=kind, **VALID_PRICES[kind][1]),
    )

    assert response.status_code == 302
    assert IssueCategory.objects.get(name="Custom work").pricing_kind == kind


@pytest.mark.parametrize("typed", ["abc", "-1", "1e5"])
def test_a_price_refused_as_typed_gets_that_one_error_only(manager, typed):
    response = manager.post(
        CATEGORIES + "add/",
        category_form(CategoryGroupFactory(), pricing_kind="range", points=typed, max_points="5"),
    )

    errors = find(parse(response.content), "ul", id="id_points_error")
    assert len(find_all(errors, "li")) == 1
    assert "Required" not in text(errors)
    assert "max_points" not in _price_errors(response)


def test_the_group_page_refuses_a_category_price_that_does_not_fit_its_kind(manager):
    group = CategoryGroupFactory()
    category = IssueCategoryFactory(group=group, name="Audit", points=40)

    response = manager.post(
        GROUPS + f"{group.pk}/change/",
        {
            "name": group.name,
            "position": group.position,
            "is_active": "on",
            "categories-TOTAL_FORMS": "1",
            "categories-INITIAL_FORMS": "1",
            "categories-0-id": category.pk,
            "categories-0-group": group.pk,
            "categories-0-name": "Audit",
            "categories-0-position": "1",
            "categories-0-is_active": "on",
            "categories-0-pricing_kind": "hourly",
            "categories-0-points": "40",
            "categories-0-max_points": "",
            "categories-0-hourly_rate": "",
        },
    )

    assert response.status_code == 200
    page_text = text(parse(response.content))
    assert "Leave empty for “per hour” pricing." in page_text
    assert "Required for “per hour” pricing." in page_text
    category.refresh_from_db()
    assert (category.pricing_kind, category.points) == ("fixed", 40)


def test_the_price_help_says_which_fields_each_kind_uses(manager):
    page_text = text(parse(manager.get(CATEGORIES + "add/").content))

    assert (
        "“fixed” and “from (minimum)” use “points”; “range” uses “points” and “maximum points”; "
        "“per hour” uses “points per hour”; “upon request” uses none. "
        "A change applies to tickets filed afterwards."
    ) in page_text


# --- Numbers out of bounds --------------------------------------------------------------------

OUT_OF_BOUNDS = [
    "-1",
    "100001",  # more than the largest single operation (HELPDESK_MAX_POINTS_PER_OPERATION)
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "1" + "0" * 100,
    "9" * 100_000,
    "1e5",
    "40.0",
    "1,000",
    "١٢",
    "４０",
    "0x28",
]


@pytest.mark.parametrize("typed", OUT_OF_BOUNDS)
@pytest.mark.parametrize(
    ("kind", "field", "others"),
    [
        (PricingKind.FIXED, "points", {}),
        (PricingKind.RANGE, "points", {"max_points": "2040"}),
        (PricingKind.RANGE, "max_points", {"points": "60"}),
        (PricingKind.HOURLY, "hourly_rate", {}),
    ],
)
def test_a_price_out_of_bounds_is_refused_next_to_the_field(manager, typed, kind, field, others):
    group = CategoryGroupFactory()

    response = manager.post(
        CATEGORIES + "add/",
        category_form(group, pricing_kind=kind, **{field: typed, **others}),
    )

    assert response.status_code == 200
    assert text(find(parse(response.content), "ul", id=f"id_{field}_error"))
    assert not IssueCategory.objects.filter(name="Custom work").exists()


def test_a_price_in_plain_digits_up_to_the_limit_is_saved(manager):
    group = CategoryGroupFactory()

    response = manager.post(
        CATEGORIES + "add/",
        category_form(group, pricing_kind=PricingKind.RANGE, points=" 60 ", max_points="100000"),
    )

    assert response.status_code == 302
    assert IssueCategory.objects.get(name="Custom work").price_label == "60–100000"


def test_an_hourly_rate_of_zero_is_refused(manager):
    response = manager.post(
        CATEGORIES + "add/",
        category_form(CategoryGroupFactory(), pricing_kind=PricingKind.HOURLY, hourly_rate="0"),
    )

    assert text(find(parse(response.content), "ul", id="id_hourly_rate_error")) == (
        "Must be at least 1."
    )


@pytest.mark.parametrize("typed", ["2147483648", "9223372036854775808", "1" + "0" * 100, "-1"])
def test_a_position_out_of_its_column_is_refused_in_the_form_and_the_list(manager, typed):
    group = CategoryGroupFactory()
    category = IssueCategoryFactory(group=group, position=1)

    form = manager.post(CATEGORIES + "add/", category_form(group, points="40", position=typed))
    listed = manager.post(
        CATEGORIES + f"?group__id__exact={group.pk}",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": category.pk,
            "form-0-position": typed,
            "form-0-is_active": "on",
            "_save": "Save",
        },
    )
    grouped = manager.post(
        GROUPS + f"{group.pk}/change/",
        {
            "name": group.name,
            "position": typed,
            "is_active": "on",
            "categories-TOTAL_FORMS": "0",
            "categories-INITIAL_FORMS": "0",
        },
    )

    assert form.status_code == listed.status_code == grouped.status_code == 200
    assert text(find(parse(form.content), "ul", id="id_position_error"))
    assert find_all(parse(listed.content), "ul", class_="errorlist")
    assert find_all(parse(grouped.content), "ul", class_="errorlist")
    category.refresh_from_db()
    assert category.position == 1
    assert CategoryGroup.objects.get(pk=group.pk).position == group.position
    assert not IssueCategory.objects.filter(name="Custom work").exists()
