"""In a real browser: support staff change a ticket's cost in the admin with a reason, and the
customer then sees the new cost and the reason on their ticket page.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from helpdesk.models import User
from tests.admin_support import file_ticket, funded_account, support_staff_user
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, IssueCategoryFactory, UserFactory
from tests.second_factor import pass_second_factor
from tickets.models import Ticket
from tickets.services import ticket_assign, ticket_reply

DESKTOP = {"width": 1440, "height": 1000}
REASON = "Two third-party plugins conflict; tracing them needs more debugging."


def busy_queue(staff):
    """A few other tickets, so the queue shows overdue, due-soon and answered rows."""
    now = timezone.now()
    overdue = file_ticket(
        funded_account(300, name="Baker Street Books"),
        IssueCategoryFactory(name="Installation of SSL certificate", points=150),
        subject="SSL certificate expired",
        is_urgent=True,
    )
    Ticket.objects.filter(pk=overdue.pk).update(first_response_due_at=now - timedelta(hours=2))
    soon = file_ticket(
        funded_account(300, name="Corner Garden Shop"),
        IssueCategoryFactory(name="Consultation on software features", points=10),
        subject="How do I set up discounts?",
    )
    Ticket.objects.filter(pk=soon.pk).update(first_response_due_at=now + timedelta(minutes=35))
    answered = file_ticket(
        funded_account(300, name="Delta Outdoor Gear"),
        IssueCategoryFactory(name="Incident solving", points=40),
        subject="Orders are not e-mailed to us",
    )
    ticket_assign(ticket=answered, assignee=staff, actor=staff)
    ticket_reply(ticket=answered, author=staff, body="We are looking into the mail settings.")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_staff_change_the_cost_and_the_customer_sees_it_with_the_reason(
    page, browser, live_server, screenshot
):
    staff = support_staff_user(email="sam@helpdesk.example.com", first_name="Sam")
    customer = UserFactory(email="pat@jones.example.com", first_name="Pat", last_name="Jones")
    account = funded_account(500, owner=customer, name="Jones Hardware Ltd")
    ticket = file_ticket(
        account,
        IssueCategoryFactory(name="Installation of server applications", minimum=True, points=250),
        subject="Install Elasticsearch for the store search",
        description="Please install Elasticsearch 8 on our VPS and connect the store search.",
    )
    ticket_reply(
        ticket=ticket, author=staff, body="The VPS has 2 GB RAM; check the heap.", internal=True
    )
    busy_queue(staff)

    # Staff log in to the admin through its login form.
    page.set_viewport_size(DESKTOP)
    page.goto("/admin/")
    expect(page).to_have_url("/admin/login/?next=/admin/")
    page.get_by_label("E-mail address").fill("sam@helpdesk.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor(page, staff)
    expect(page.get_by_role("link", name="Tickets", exact=True).first).to_be_visible()

    page.goto("/admin/tickets/ticket/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("SSL certificate expired")
    expect(rows.first.locator(".sla-overdue")).to_contain_text("overdue by")
    expect(rows.nth(1).locator(".sla-due-soon")).to_contain_text("due in")
    results = page.locator("#changelist .results")
    assert results.evaluate("el => el.scrollWidth <= el.clientWidth"), "the queue scrolls sideways"
    screenshot("admin-ticket-queue")

    page.get_by_role("link", name="Install Elasticsearch for the store search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Install Elasticsearch for the store search"
    )
    expect(page.locator(".hd-internal")).to_contain_text("The VPS has 2 GB RAM")
    cost_panel = page.locator(".hd-cost-panel")
    expect(cost_panel).to_contain_text("250 points")

    change_cost = cost_panel.locator("details", has=page.locator("summary", has_text="Change cost"))
    change_cost.locator("summary").click()
    change_cost.get_by_label("New cost (points)").fill("400")
    change_cost.get_by_label("Reason").fill(REASON)
    change_cost.locator("form").get_by_role("button", name="Change cost").click()

    expect(page.locator(".messagelist")).to_contain_text("Cost changed from 250 to 400 points.")
    expect(cost_panel).to_contain_text("400 points")
    expect(page.locator(".hd-history").first).to_contain_text(REASON)
    screenshot("admin-ticket-page")

    # The customer, in a browser of their own.
    context = browser.new_context(base_url=live_server.url)
    customer_page = context.new_page()
    customer_page.set_default_timeout(10_000)
    customer_page.goto("/accounts/login/")
    customer_page.get_by_label("E-mail address").fill("pat@jones.example.com")
    customer_page.get_by_label("Password").fill(PASSWORD)
    customer_page.get_by_role("button", name="Log in").click()
    customer_page.wait_for_url("**/tickets/")

    customer_page.goto(f"/tickets/{ticket.pk}/")
    expect(customer_page.locator(".fact-cost")).to_contain_text("400")
    cost_history = customer_page.locator("#cost")
    expect(cost_history).to_contain_text("250 → 400")
    expect(cost_history).to_contain_text(REASON)
    expect(customer_page.get_by_text("The VPS has 2 GB RAM")).to_have_count(0)
    customer_page.set_viewport_size(DESKTOP)
    ARTIFACTS.mkdir(exist_ok=True)
    customer_page.screenshot(path=str(ARTIFACTS / "customer-ticket-new-cost.png"), full_page=True)
    context.close()


def log_in(page, email):
    page.goto("/admin/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor(page, User.objects.get(email=email))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_queue_fits_a_1280_pixel_screen_and_the_dashboard_leads_to_it(page, screenshot):
    staff = support_staff_user(email="sam@helpdesk.example.com", first_name="Sam", last_name="Reed")
    busy_queue(staff)
    file_ticket(
        funded_account(900, name="Northwind Traders International Holdings"),
        IssueCategoryFactory(name="Optimization of server applications performance", points=180),
        subject="After moving to the new server every category page takes twelve seconds",
        is_urgent=True,
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, "sam@helpdesk.example.com")

    # The admin's home page is the dashboard.
    expect(page.locator("#dash-overdue")).to_contain_text("SSL certificate expired")
    expect(page.locator("#dash-mine")).to_contain_text("Orders are not e-mailed to us")
    screenshot("admin-dashboard-1280")
    page.locator("#dash-overdue").get_by_role("link", name="Open in the queue").click()
    expect(page).to_have_url("/admin/tickets/ticket/?sla=overdue")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)

    page.goto("/admin/tickets/ticket/")
    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    screenshot("admin-ticket-queue-1280")
    results = page.locator("#changelist .results")
    assert results.evaluate("el => el.scrollWidth <= el.clientWidth"), "the queue scrolls sideways"
    last_header = page.locator("#result_list thead th").last
    box = last_header.bounding_box()
    assert box["x"] + box["width"] <= 1280, "the last column is cut off"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
