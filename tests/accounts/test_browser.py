"""Signing up in a real browser, on a phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.factories import PASSWORD

PHONE = {"width": 375, "height": 812}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_signup_forms_keep_input_and_show_errors_at_the_fields(page, screenshot):
    page.set_viewport_size(PHONE)
    page.goto("/accounts/signup/")
    page.get_by_label("E-mail address").fill("pat@example")
    page.get_by_role("button", name="Continue").click()

    email = page.get_by_label("E-mail address")
    expect(email).to_have_value("pat@example")
    expect(email).to_have_accessible_description(re.compile("Enter a valid email address."))
    assert not mail.outbox
    email.fill("PAT@example.com")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    expect(page.get_by_role("status").first).to_contain_text("pat@example.com")
    screenshot("signup-check-inbox-phone")

    link = re.search(r"http://[^/]+(/accounts/signup/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish creating your account")
    page.get_by_label("First name").fill("Pat")
    page.get_by_label("Company or your name").fill("Jones Hardware Ltd")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill("not the same")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_label("First name")).to_have_value("Pat")
    expect(page.get_by_label("Company or your name")).to_have_value("Jones Hardware Ltd")
    expect(page.locator("#field-password2")).to_contain_text("didn’t match")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("signup-errors-phone")
