"""The public price list at /support/pricing/."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog.models import CategoryGroup, IssueCategory
from tests.catalog.test_default_catalog import SPEC_CATALOG
from tests.factories import (
    AccountFactory,
    CategoryGroupFactory,
    IssueCategoryFactory,
    PointPackageFactory,
    UserFactory,
)
from tests.html import attr, find, find_all, parse, text

pytestmark = pytest.mark.django_db

URL = "/support/pricing/"


def price_list(response) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(group heading, [(category, price label), ...]), ...] as the page shows them."""
    root = parse(response.content)
    groups = []
    for section in find_all(root, "section", class_="price-group"):
        heading = text(find_all(section, "h3")[0])
        rows = [
            (text(find_all(row, "th")[0]), text(find_all(row, "td")[0]))
            for row in find_all(find_all(section, "tbody")[0], "tr")
        ]
        groups.append((heading, rows))
    return groups


def test_pricing_url_is_public(client):
    assert reverse("catalog:pricing") == URL

    response = client.get(URL)

    assert response.status_code == 200
    root = parse(response.content)
    assert text(find(root, "h1")) == "Support pricing"
    assert text(find(root, "title")) == "Support pricing · HelpDesk"


def test_page_lists_every_active_category_with_its_label_grouped_in_order(client):
    response = client.get(URL)

    expected = [
        (group, [(category[0], category[5]) for category in categories])
        for group, categories in SPEC_CATALOG
    ]
    assert price_list(response) == expected
    shown = {label for _, rows in price_list(response) for _, label in rows}
    assert {"0", "40", "from 120", "60\u20132040", "60 / hour", "upon request"} <= shown


def test_inactive_category_and_every_category_of_an_inactive_group_are_hidden(client):
    IssueCategory.objects.filter(name="SEO analysis").update(is_active=False)
    CategoryGroup.objects.filter(name="Transfer services").update(is_active=False)

    response = client.get(URL)

    groups = dict(price_list(response))
    assert "Transfer services" not in groups
    assert [name for name, _ in groups["Optimization services"]] == [
        "X-Cart performance optimization",
        "Optimization of server applications performance",
        "Website security audit",
    ]
    page_text = text(parse(response.content))
    assert "SEO analysis" not in page_text
    assert "Transfer of X-Cart store" not in page_text
    assert "Transfer of heavily customized X-Cart store" not in page_text


def test_a_group_without_active_categories_shows_no_empty_table(client):
    group = CategoryGroupFactory(name="Retired services")
    IssueCategoryFactory(group=group, name="Old service", is_active=False)

    response = client.get(URL)

    assert "Retired services" not in dict(price_list(response))


def test_page_explains_incidents_points_and_price_labels(client):
    page_text = text(parse(client.get(URL).content))

    for phrase in [
        "One ticket, one issue",
        "two years from the day you buy it",
        "within one business day",
        "costs twice the usual points",
        "within one working hour",
        "we may change the cost",
        "deducted",
        "bug in our software, every point comes back",
        "reconsider the cost",
        "A starting price",
        "A range",
        "Paid by the hour",
        "We send you a quote",
    ]:
        assert phrase in page_text


def test_the_legend_reads_an_example_of_each_pricing_kind(client):
    legend = find(parse(client.get(URL).content), "aside", class_="pricing-legend")

    terms = [text(term) for term in find_all(legend, "dt")]
    assert terms == ["40", "0", "from 120", "60\u20132040", "60 / hour", "upon request"]
    meanings = [text(meaning) for meaning in find_all(legend, "dd")]
    assert meanings[0] == "A fixed price: the ticket costs exactly this many points."
    assert meanings[1] == "Free: no points are taken."
    assert meanings[5].startswith("Nothing is held at first. We send you a quote;")


def test_anonymous_visitor_is_invited_to_sign_up(client):
    root = parse(client.get(URL).content)

    links = {attr(a, "href") for a in find_all(root, "a")}
    assert reverse("signup") in links
    assert reverse("login") in links


def test_customer_is_invited_to_file_a_ticket(client):
    client.force_login(UserFactory())

    root = parse(client.get(URL).content)

    file_links = [a for a in find_all(root, "a") if text(a) == "File a ticket"]
    assert file_links
    assert {attr(a, "href") for a in file_links} == {"/tickets/new/"}


def test_query_count_does_not_grow_with_the_catalog_or_the_packages(
    client, django_assert_num_queries
):
    PointPackageFactory()
    with django_assert_num_queries(3):  # groups, categories, packages
        client.get(URL)

    for group in CategoryGroupFactory.create_batch(5):
        IssueCategoryFactory.create_batch(4, group=group)
    PointPackageFactory.create_batch(10)

    with django_assert_num_queries(3):
        response = client.get(URL)
    assert len(price_list(response)) == 10
    assert len(packages(response)) == 11


def test_query_count_for_a_logged_in_customer_is_bounded(client, django_assert_max_num_queries):
    client.force_login(UserFactory())

    with django_assert_max_num_queries(5):  # session, user, groups, categories, packages
        response = client.get(URL)

    assert "Log out" in text(parse(response.content))


# --- What a point costs -------------------------------------------------------------------------


def packages(response) -> list[tuple[str, str, str, str]]:
    """[(package, points, price, price per point), ...] as the page shows them."""
    section = find(parse(response.content), "section", id="packages")
    return [
        (text(find(row, "th")), *(text(cell) for cell in find_all(row, "td")))
        for row in find_all(find(section, "tbody"), "tr")
    ]


def test_anyone_sees_the_point_packages_with_their_price_per_point(client):
    PointPackageFactory(name="Starter", points=100, price=Decimal("100.00"), position=1)
    PointPackageFactory(name="Standard", points=250, price=Decimal("240.00"), position=2)
    PointPackageFactory(name="Bulk", points=2000, price=Decimal("190.00"), position=3)
    PointPackageFactory(name="Thirds", points=3, price=Decimal("1.00"), currency="EUR", position=4)
    PointPackageFactory(name="Retired", is_active=False)

    response = client.get(URL)

    assert packages(response) == [
        ("Starter", "100", "100.00 USD", "1.00 USD"),
        ("Standard", "250", "240.00 USD", "0.96 USD"),
        ("Bulk", "2,000", "190.00 USD", "0.095 USD"),
        ("Thirds", "3", "1.00 EUR", "0.3333 EUR"),
    ]
    section = find(parse(response.content), "section", id="packages")
    assert [text(th) for th in find_all(find(section, "thead"), "th")] == [
        "Package",
        "Points",
        "Price",
        "Price per point",
    ]
    signup = find(section, "a", class_="button")
    assert (text(signup), attr(signup, "href")) == ("Sign up to buy points", reverse("signup"))


def test_a_customer_is_offered_to_buy_points_from_the_packages(client):
    PointPackageFactory()
    client.force_login(AccountFactory().memberships.get().user)

    section = find(parse(client.get(URL).content), "section", id="packages")

    buy = find(section, "a", class_="button")
    assert (text(buy), attr(buy, "href")) == ("Buy points", reverse("points:buy"))


def test_without_packages_on_sale_the_page_says_so(client):
    PointPackageFactory(is_active=False)

    section = find(parse(client.get(URL).content), "section", id="packages")

    assert "No point packages are on sale right now" in text(section)
    assert not find_all(section, "table")


def test_hotrush_is_named_and_explained(client):
    page_text = text(parse(client.get(URL).content))

    assert "HotRush tickets" in page_text
    assert "Tick HotRush when you file a ticket. It costs twice the usual points" in page_text
    assert "Urgent" not in page_text


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_visitor_sees_what_points_cost_and_goes_on_to_sign_up(page, screenshot):
    PointPackageFactory(name="Starter", points=100, price=Decimal("100.00"), position=1)
    PointPackageFactory(name="Standard", points=250, price=Decimal("240.00"), position=2)
    PointPackageFactory(name="Business", points=500, price=Decimal("450.00"), position=3)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(URL)

    packages = page.get_by_role("region", name="What support points cost")
    expect(packages.get_by_role("row", name="Standard")).to_contain_text("240.00 USD")
    expect(packages.get_by_role("row", name="Standard")).to_contain_text("0.96 USD")
    expect(packages.get_by_role("row", name="Business")).to_contain_text("0.90 USD")
    expect(page.get_by_role("heading", name="HotRush tickets")).to_be_visible()
    screenshot("pricing-page")
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot("pricing-page-phone")

    packages.get_by_role("link", name="Sign up to buy points").click()
    expect(page).to_have_url(reverse("signup"))
