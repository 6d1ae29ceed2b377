"""The strict Content-Security-Policy breaks nothing: every customer page and every staff page
loads in a real browser without a single policy violation, and the admin's scripts still run."""

import pytest
from playwright.sync_api import expect

from points.models import PointPackage
from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.factories import PASSWORD, account_owner
from tests.second_factor import pass_second_factor

CUSTOMER_PAGES = [
    "/support/pricing/",
    "/tickets/",
    "/tickets/new/",
    "/tickets/{ticket}/",
    "/communication-center/support-points/",
    "/communication-center/support-points/buy/",
    "/accounts/users/",
    "/accounts/security/",
    "/accounts/privacy/",
]
STAFF_PAGES = [
    "/admin/",
    "/admin/tickets/ticket/",
    "/admin/tickets/ticket/{ticket}/change/",
    "/admin/accounts/account/",
    "/admin/accounts/account/{account}/change/",
    "/admin/accounts/account/{account}/grant/",
    "/admin/points/order/",
    "/admin/catalog/issuecategory/",
    "/admin/helpdesk/user/{customer}/change/",
]


def watch_policy_violations(page) -> list[str]:
    """Chromium reports each blocked script, style or frame on the console."""
    violations = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return violations


def log_in(page, email: str, url: str):
    page.goto(url)
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_page_violates_the_content_security_policy(page, browser, live_server):
    PointPackage.objects.create(name="Starter", points=100, price=100)
    ticket = file_ticket(funded_account(500))
    customer = account_owner(ticket.account)
    staff = support_staff_user(email="sam@helpdesk.example.com")
    ids = {"ticket": ticket.pk, "account": ticket.account_id, "customer": customer.pk}

    violations = watch_policy_violations(page)
    log_in(page, customer.email, "/accounts/login/")
    for url in CUSTOMER_PAGES:
        response = page.goto(url.format(**ids))
        assert response.status == 200, url
    assert violations == []

    staff_context = browser.new_context(base_url=live_server.url)
    staff_page = staff_context.new_page()
    staff_violations = watch_policy_violations(staff_page)
    staff_page.set_default_timeout(10_000)
    log_in(staff_page, staff.email, "/admin/login/")
    pass_second_factor(staff_page, staff)
    for url in STAFF_PAGES:
        response = staff_page.goto(url.format(**ids))
        assert response.status in (200, 403), url
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    for url in STAFF_PAGES:
        response = staff_page.goto(url.format(**ids))
        assert response.status == 200, url

    # The admin's own scripts run under the policy: "select all" ticks every row.
    staff_page.goto("/admin/catalog/issuecategory/")
    staff_page.locator("#action-toggle").check()
    expect(staff_page.locator("input.action-select").first).to_be_checked()
    assert staff_violations == []
    staff_context.close()
