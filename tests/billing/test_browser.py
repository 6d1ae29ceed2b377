"""A customer in a real browser: billing details, the receipt of a purchase from the points page,
and the low-balance alert."""

import pytest
from playwright.sync_api import expect

from billing.models import BillingDetails
from points.models import BalanceAlert
from tests.billing.support import paid_order
from tests.factories import PASSWORD, AccountFactory, UserFactory

PHONE = {"width": 375, "height": 812}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_owner_sets_billing_details_opens_the_receipt_and_sets_an_alert(page, screenshot):
    user = UserFactory(email="alex@example.com")
    account = AccountFactory(owner=user, name="Demo Shop Ltd")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("alex@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/tickets/")

    page.goto("/communication-center/support-points/")
    page.get_by_role("link", name="Billing details").click()
    page.get_by_label("Company").fill("Demo Shop GmbH")
    page.get_by_label("Address").fill("Hauptstraße 1\n10115 Berlin")
    page.get_by_label("Tax id").fill("DE123456789")
    page.get_by_role("button", name="Save billing details").click()
    expect(page.get_by_text("Billing details saved.")).to_be_visible()
    assert BillingDetails.objects.get(account=account).company == "Demo Shop GmbH"

    order = paid_order(account, points=250, price="240.00", reference="bank-9")
    page.goto("/communication-center/support-points/")
    page.locator("#balance-modifications").get_by_role("link", name="Receipt").click()
    expect(page.get_by_role("heading", name="Receipt")).to_be_visible()
    expect(page.get_by_text(order.receipt.number)).to_be_visible()
    expect(page.get_by_text("Demo Shop GmbH")).to_be_visible()
    expect(page.get_by_text("240.00 USD").first).to_be_visible()
    screenshot("receipt-page")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"receipt-{order.receipt.number}.pdf"

    page.goto("/communication-center/support-points/")
    page.get_by_label("E-mail when available points fall below").fill("100")
    page.locator("#low-balance").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Low-balance alert saved.")).to_be_visible()
    assert BalanceAlert.objects.get(account=account).threshold == 100
    screenshot("points-page-low-balance")
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the points page scrolls sideways on a phone ({width}px)"
