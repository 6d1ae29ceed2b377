"""A customer in a real browser: sign up, buy points, file a ticket, follow its points, reply with a
file; and running short of points without losing what was typed."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from points.models import PointPackage
from points.services import lots_expire_due, points_purchase
from tests.factories import PASSWORD, AccountFactory, StaffUserFactory, UserFactory
from tests.web import PNG, category
from tickets.models import Attachment, Ticket
from tickets.services import ticket_cancel, ticket_file, ticket_resolve

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

DESCRIPTION = "Since the upgrade the checkout page is blank.\n\nSteps: add to cart, then checkout."


def assert_fits_a_phone(page):
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def packages():
    PointPackage.objects.create(name="Starter", points=100, price=100, position=1)
    PointPackage.objects.create(name="Standard", points=250, price=240, position=2)
    PointPackage.objects.create(name="Business", points=500, price=450, position=3)


def choose_category(page, name):
    select = page.get_by_label("Issue category")
    option = select.locator("option", has_text=name).first
    select.select_option(value=option.get_attribute("value"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sign_up_buy_points_file_a_ticket_and_reply_with_an_attachment(page, screenshot):
    packages()
    page.set_viewport_size(DESKTOP)

    # Sign up: the address gets a link; the link finishes the account, which lands on its
    # (empty) points page.
    page.goto("/accounts/signup/")
    page.get_by_label("E-mail address").fill("pat@example.com")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    link = re.search(r"http://[^/]+(/accounts/signup/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.get_by_label("First name").fill("Pat")
    page.get_by_label("Last name").fill("Jones")
    page.get_by_label("Company or your name").fill("Jones Hardware Ltd")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Technical support points")

    # Buy 100 points with the demo backend.
    page.get_by_role("link", name="Buy points").first.click()
    expect(page).to_have_url("/communication-center/support-points/buy/")
    screenshot("buy-points-page")
    assert_fits_a_phone(page)
    screenshot("buy-points-page-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Buy 100 points").click()
    expect(page.get_by_role("status").first).to_contain_text("100 points were added")

    # File a 40-point ticket.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("File a ticket")
    expect(page.get_by_role("complementary", name="Your support points")).to_contain_text(
        "100 points available"
    )
    choose_category(page, "Incident solving — 40 points")
    page.get_by_label("Subject").fill("Checkout page is blank")
    page.get_by_label("Description").fill(DESCRIPTION)
    screenshot("new-ticket-page")
    assert_fits_a_phone(page)
    screenshot("new-ticket-page-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="File ticket").click()

    ticket = Ticket.objects.get()
    expect(page).to_have_url(f"/tickets/{ticket.pk}/")
    expect(page.get_by_role("status").first).to_contain_text("40 points are captured")
    expect(page.locator(".facts")).to_contain_text("40 points (captured)")

    # My tickets lists it with its captured points.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
    expect(page.locator(".ticket-row")).to_contain_text("40 captured")
    screenshot("my-tickets-page")
    assert_fits_a_phone(page)
    screenshot("my-tickets-page-phone")
    page.set_viewport_size(DESKTOP)

    # The points page shows the capture.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support points").click()
    expect(page.locator(".stat").nth(0)).to_contain_text("60 points")
    expect(page.locator(".stat").nth(1)).to_contain_text("40 points")
    in_progress = page.locator("#tickets-in-progress")
    expect(in_progress.get_by_role("row", name="Checkout page is blank")).to_contain_text("40")
    expect(
        page.get_by_role("img", name="Points expiring in each of the coming months")
    ).to_be_visible()
    screenshot("points-page")
    assert_fits_a_phone(page)
    screenshot("points-page-phone")
    page.set_viewport_size(DESKTOP)

    # Reply with an attachment, from the ticket.
    in_progress.get_by_role("link", name="Checkout page is blank").click()
    page.get_by_label("Your reply").fill("Here is a **screenshot** of the blank page.")
    page.get_by_label("Attachments").set_input_files(
        files=[{"name": "blank-checkout.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").first).to_contain_text("Your reply is sent.")
    last = page.locator(".thread .msg").last
    expect(last).to_contain_text("Here is a screenshot of the blank page.")
    expect(last.locator("strong")).to_have_text("screenshot")
    with page.expect_download() as download:
        last.get_by_role("link", name="blank-checkout.png").click()
    assert download.value.suggested_filename == "blank-checkout.png"
    assert Attachment.objects.get().name == "blank-checkout.png"
    screenshot("ticket-page")
    assert_fits_a_phone(page)
    screenshot("ticket-page-phone")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_running_short_of_points_keeps_the_ticket_while_buying(page, screenshot):
    packages()
    user = UserFactory(email="sam@example.com")
    AccountFactory(owner=user, name="Sam's Store")
    page.set_viewport_size(DESKTOP)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/tickets/")

    page.goto("/tickets/new/")
    choose_category(page, "Incident solving — 40 points")
    page.get_by_label("Subject").fill("Orders are not e-mailed")
    page.get_by_label("Description").fill("No order confirmation since Monday <sendmail>.")
    page.get_by_label("HotRush: first response within 1 working hour").check()
    page.get_by_role("button", name="File ticket").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("80 more points are needed.")
    expect(alert).to_contain_text(
        "This ticket costs 80 points: 40 × 2 for HotRush. You have 0 available."
    )
    expect(page.get_by_label("Subject")).to_have_value("Orders are not e-mailed")
    expect(page.get_by_label("Description")).to_have_value(
        "No order confirmation since Monday <sendmail>."
    )
    expect(page.get_by_label("HotRush: first response within 1 working hour")).to_be_checked()
    assert not Ticket.objects.exists()
    screenshot("new-ticket-insufficient")
    assert_fits_a_phone(page)
    screenshot("new-ticket-insufficient-phone")
    page.set_viewport_size(DESKTOP)

    alert.get_by_role("link", name="Buy points").click()
    page.get_by_role("button", name="Buy 100 points").click()
    page.get_by_role("link", name="Continue filing your ticket").click()

    expect(page.get_by_label("Subject")).to_have_value("Orders are not e-mailed")
    expect(page.get_by_label("HotRush: first response within 1 working hour")).to_be_checked()
    page.get_by_role("button", name="File ticket").click()
    expect(page.get_by_role("status").first).to_contain_text("80 points are captured")
    assert Ticket.objects.get().subject == "Orders are not e-mailed"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_points_page_with_a_history_of_purchases_tickets_and_expiry(page, screenshot):
    now = timezone.now()
    user = UserFactory(email="alex@example.com", first_name="Alex", last_name="Demo")
    account = AccountFactory(owner=user, name="Demo Shop Ltd")
    for days_ago, points in [(800, 300), (715, 150), (400, 200), (20, 500)]:
        points_purchase(
            account=account,
            points=points,
            payment_reference=f"history-{days_ago}",
            actor=user,
            at=now - timedelta(days=days_ago),
        )
    lots_expire_due()
    staff = StaffUserFactory()
    for subject, name, resolve in [
        ("Checkout page shows a blank screen", "Incident solving", True),
        ("How do I configure shipping zones?", "Consultation on software features", True),
        ("Install an SSL certificate on the new domain", "Installation of SSL certificate", False),
        ("Refund by mistake", "Consultation on simple modification", None),
    ]:
        ticket = ticket_file(
            account=account,
            filed_by=user,
            category=category(name),
            subject=subject,
            description="Details in the thread.",
        )
        if resolve:
            ticket_resolve(ticket=ticket, actor=staff, reason="Solved")
        elif resolve is None:
            ticket_cancel(ticket=ticket, actor=user)
    page.set_viewport_size(DESKTOP)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("alex@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/tickets/")

    page.goto("/communication-center/support-points/")

    expect(page.locator("#balance-modifications tbody tr")).to_have_count(6)
    expect(page.locator("#resolved-tickets tbody tr")).to_have_count(2)
    expect(page.locator("#tickets-in-progress tbody tr")).to_have_count(1)
    expect(page.locator(".expiry-chart rect")).to_have_count(2)
    screenshot("points-page-history")
    assert_fits_a_phone(page)
    screenshot("points-page-history-phone")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restored_draft_is_announced_and_can_be_discarded(page, screenshot):
    user = UserFactory(email="lee@example.com")
    AccountFactory(owner=user, name="Lee's Lamps")
    page.set_viewport_size(DESKTOP)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("lee@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/tickets/")

    page.goto("/tickets/new/")
    choose_category(page, "Incident solving — 40 points")
    page.get_by_label("Subject").fill("Lamp images are blurry")
    page.get_by_label("Description").fill("Since the theme update every product image is blurry.")
    page.get_by_label("HotRush: first response within 1 working hour").check()
    page.get_by_role("button", name="File ticket").click()
    expect(page.get_by_role("alert")).to_contain_text("80 points: 40 × 2 for HotRush")

    # Coming back later: the draft is there, and the page says so.
    page.goto("/tickets/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New ticket").click()
    notice = page.locator("#draft-notice")
    expect(notice).to_contain_text("We restored the ticket you were writing.")
    expect(notice).to_contain_text("HotRush is ticked")
    expect(page.get_by_label("Subject")).to_have_value("Lamp images are blurry")
    expect(page.get_by_label("HotRush: first response within 1 working hour")).to_be_checked()
    screenshot("new-ticket-draft-restored")
    assert_fits_a_phone(page)
    screenshot("new-ticket-draft-restored-phone")
    page.set_viewport_size(DESKTOP)

    notice.get_by_role("button", name="Discard draft").click()

    expect(page.get_by_role("status").first).to_contain_text("The draft is discarded.")
    expect(page.locator("#draft-notice")).to_have_count(0)
    expect(page.get_by_label("Subject")).to_have_value("")
    expect(page.get_by_label("HotRush: first response within 1 working hour")).not_to_be_checked()
    page.reload()
    expect(page.locator("#draft-notice")).to_have_count(0)
    assert not Ticket.objects.exists()
