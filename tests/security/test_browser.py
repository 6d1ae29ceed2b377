"""Enrolment and recovery codes in a real browser, under the strict Content-Security-Policy."""

from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.admin_support import support_staff_user
from tests.factories import PASSWORD, AccountFactory, UserFactory
from tests.helpdesk.test_csp_browser import watch_policy_violations


def log_in(page, email):
    page.goto("/admin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_staff_enrol_with_the_qr_page_then_sign_in_with_a_recovery_code(page, screenshot):
    staff = support_staff_user(email="sam@helpdesk.example.com")
    violations = watch_policy_violations(page)

    log_in(page, staff.email)

    expect(page).to_have_url("/accounts/two-factor/setup/?next=%2Fadmin%2F")
    qr = page.get_by_alt_text("QR code with the secret below")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    screenshot("two-factor-setup")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code from the app").fill(str(totp(key)).zfill(6))
    page.get_by_role("button", name="Turn on").click()

    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    recovery_code = codes.nth(0).inner_text()
    screenshot("two-factor-recovery-codes")
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("#dash-overdue")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    log_in(page, staff.email)
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_label("Code").fill(recovery_code)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#dash-overdue")).to_be_visible()
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_customer_turns_on_two_factor_from_the_security_page(page):
    customer = UserFactory(email="pat@example.com")
    AccountFactory(owner=customer)
    violations = watch_policy_violations(page)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(customer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Security").click()
    expect(page.get_by_role("heading", name="Signed-in sessions")).to_be_visible()
    expect(page.get_by_text("this one")).to_be_visible()
    page.get_by_role("link", name="Turn on two-factor sign-in").click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code from the app").fill(str(totp(key)).zfill(6))
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()

    expect(page.get_by_text("10 recovery codes left.")).to_be_visible()
    assert violations == []
