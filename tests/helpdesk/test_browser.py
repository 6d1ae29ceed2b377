"""A customer's first visit in a real browser: the price list, then logging in."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, AccountFactory, UserFactory

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_visitor_reads_the_price_list_and_logs_in(page, screenshot):
    user = UserFactory(email="pat@example.com")
    AccountFactory(owner=user, name="Jones Hardware Ltd")

    page.set_viewport_size(DESKTOP)
    page.goto("/support/pricing/")

    expect(page).to_have_title("Support pricing · HelpDesk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Support pricing")
    for group in [
        "General assistance",
        "Technical support consulting & assistance",
        "Installation services",
        "Transfer services",
        "Optimization services",
    ]:
        expect(page.get_by_role("heading", name=group, exact=True)).to_be_visible()
    seo_row = page.get_by_role("row", name="Installation of X-Cart SEO enhancements")
    expect(seo_row).to_contain_text("60–2040")
    expect(page.get_by_role("row", name="Other issues")).to_contain_text("upon request")
    expect(page.get_by_role("row", name="Google Analytics setup")).to_contain_text("60 / hour")
    screenshot("pricing-desktop")

    page.set_viewport_size(PHONE)
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= PHONE["width"], "the page scrolls sideways on a phone"
    screenshot("pricing-phone")

    page.set_viewport_size(DESKTOP)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in").click()
    expect(page).to_have_url("/accounts/login/")
    page.get_by_label("E-mail address").fill("Pat@Example.com")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot("login-desktop")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/tickets/")

    page.goto("/support/pricing/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    expect(nav.get_by_role("link", name="My tickets")).to_be_visible()
    expect(page.get_by_role("link", name="File a ticket").first).to_be_visible()
    page.set_viewport_size(PHONE)
    screenshot("pricing-phone-logged-in")
