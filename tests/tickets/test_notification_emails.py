"""E-mail notifications (locmem mail, Celery tasks run eagerly): who gets which e-mail, with what,
and a link to the ticket — the customer's ticket page, or the admin page for staff.
"""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Membership, MembershipRole
from tests.admin_support import file_ticket, funded_account, support_staff_user, ticket_url
from tests.factories import IssueCategoryFactory, StaffUserFactory, UserFactory, account_owner
from tickets.services import (
    ticket_assign,
    ticket_reply,
    ticket_request_reconsideration,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = support_staff_user(email="sam@helpdesk.example.com")
    client.force_login(user)
    return user


@pytest.fixture
def account():
    """An account with its owner and a secondary user (e.g. their webmaster)."""
    account = funded_account(500, name="Jones Hardware Ltd")
    webmaster = UserFactory(email="webmaster@jones.example.com")
    Membership.objects.create(account=account, user=webmaster, role=MembershipRole.MEMBER)
    return account


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what is queued after commit (the send task) as the test's transaction never commits."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def customer_emails(account):
    return sorted(account.memberships.values_list("user__email", flat=True))


def customer_link(ticket):
    return settings.HELPDESK_BASE_URL.rstrip("/") + f"/tickets/{ticket.pk}/"


def admin_link(ticket):
    return settings.HELPDESK_BASE_URL.rstrip("/") + ticket_url(ticket)


def one_copy_each(mailoutbox, addresses):
    """The e-mail, once every address got its own copy (each with its own reply address)."""
    assert sorted(address for mail in mailoutbox for address in mail.to) == sorted(addresses)
    assert all(len(mail.to) == 1 for mail in mailoutbox)
    assert len({(mail.subject, mail.body) for mail in mailoutbox}) == 1, "the same e-mail"
    return mailoutbox[0]


def html_of(mail):
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    return html


def assert_links_to(mail, link):
    assert link in mail.body
    assert f'href="{link}"' in html_of(mail)


def post(client, ticket, action, data, *args):
    return client.post(ticket_url(ticket, action, *args), data)


def test_staff_reply_emails_every_user_of_the_account(
    client, staff, account, mailoutbox, run_on_commit
):
    ticket = file_ticket(account, subject="Cart & checkout <broken>")
    mailoutbox.clear()

    run_on_commit(
        post,
        client,
        ticket,
        "reply",
        {"reply-body": "Please clear the cache & retry.", "reply-visibility": "public"},
    )

    mail = one_copy_each(mailoutbox, customer_emails(account))
    # Plain text is not HTML-escaped; the HTML part is.
    assert mail.subject == f"Support replied on #{ticket.pk}: Cart & checkout <broken>"
    assert "Cart & checkout <broken>" in mail.body
    assert "Please clear the cache & retry." in mail.body
    assert "Please clear the cache &amp; retry." in html_of(mail)
    assert_links_to(mail, customer_link(ticket))


def test_internal_notes_email_nobody(client, staff, account, mailoutbox, run_on_commit):
    ticket = file_ticket(account)
    mailoutbox.clear()

    run_on_commit(
        post, client, ticket, "reply", {"reply-body": "Secret", "reply-visibility": "internal"}
    )

    assert mailoutbox == []


def test_cost_change_email_says_old_and_new_cost_and_why(
    client, staff, account, mailoutbox, run_on_commit
):
    ticket = file_ticket(account, IssueCategoryFactory(minimum=True, points=120))
    mailoutbox.clear()

    run_on_commit(
        post,
        client,
        ticket,
        "change_cost",
        {"cost-points": "180", "cost-reason": "Two extra modules to debug."},
    )

    mail = one_copy_each(mailoutbox, customer_emails(account))
    assert mail.subject == f"The cost of ticket #{ticket.pk} changed"
    assert "The cost of your ticket changed from 120 to 180 points." in mail.body
    assert "Reason: Two extra modules to debug." in mail.body
    assert_links_to(mail, customer_link(ticket))


def test_a_refused_increase_emails_nobody(client, staff, mailoutbox, run_on_commit):
    ticket = file_ticket(funded_account(130), IssueCategoryFactory(minimum=True, points=120))
    mailoutbox.clear()

    run_on_commit(
        post, client, ticket, "change_cost", {"cost-points": "500", "cost-reason": "Big job"}
    )

    assert mailoutbox == []


def test_more_points_needed_email_says_how_many_to_buy(
    client, staff, account, mailoutbox, run_on_commit
):
    # 500 granted, 120 captured: 380 available. 600 needs 480 more than held: 100 missing.
    ticket = file_ticket(account, IssueCategoryFactory(minimum=True, points=120))
    mailoutbox.clear()

    run_on_commit(
        post,
        client,
        ticket,
        "wait_for_points",
        {"wait-points": "600", "wait-reason": "A full store migration."},
    )

    mail = one_copy_each(mailoutbox, customer_emails(account))
    assert mail.subject == f"Ticket #{ticket.pk}: more support points are needed"
    assert "raise the cost of your ticket from 120 to 600 points" in mail.body
    assert "Reason: A full store migration." in mail.body
    assert "Please buy at least 100 points" in mail.body
    buy = settings.HELPDESK_BASE_URL.rstrip("/") + reverse("points:buy")
    assert buy in mail.body
    assert f'href="{buy}"' in html_of(mail)
    assert_links_to(mail, customer_link(ticket))


def test_log_time_emails_the_new_cost(client, staff, account, mailoutbox, run_on_commit):
    ticket = file_ticket(account, IssueCategoryFactory(hourly=True, hourly_rate=60))
    mailoutbox.clear()

    run_on_commit(
        post, client, ticket, "log_time", {"time-minutes": "120", "time-note": "GA goals"}
    )

    mail = one_copy_each(mailoutbox, customer_emails(account))
    assert "from 60 to 120 points" in mail.body
    assert "2 h logged in total: GA goals" in mail.body


def test_urgency_removal_emails_the_returned_surcharge(
    client, staff, account, mailoutbox, run_on_commit
):
    ticket = file_ticket(account, IssueCategoryFactory(points=40), is_urgent=True)
    mailoutbox.clear()

    run_on_commit(post, client, ticket, "remove_urgency", {"urgency-reason": "A known bug"})

    mail = one_copy_each(mailoutbox, customer_emails(account))
    assert "no longer HotRush" in mail.body
    assert "from 80 to 40 points" in mail.body
    assert "Reason: A known bug" in mail.body


def test_quote_email_asks_to_accept_or_decline(client, staff, account, mailoutbox, run_on_commit):
    ticket = file_ticket(account, IssueCategoryFactory(upon_request=True))
    mailoutbox.clear()

    run_on_commit(
        post, client, ticket, "quote", {"quote-points": "75", "quote-note": "Three modules"}
    )

    mail = one_copy_each(mailoutbox, customer_emails(account))
    assert mail.subject == f"A quote for ticket #{ticket.pk} is waiting for you"
    assert "Support quoted 75 points for your ticket." in mail.body
    assert "accept or decline" in mail.body
    assert_links_to(mail, customer_link(ticket))


def test_resolution_email_says_what_was_deducted(client, staff, account, mailoutbox, run_on_commit):
    ticket = file_ticket(account, IssueCategoryFactory(points=40))
    mailoutbox.clear()

    run_on_commit(post, client, ticket, "resolve", {"resolve-reason": "Cache cleared"})

    mail = one_copy_each(mailoutbox, customer_emails(account))
    assert mail.subject == f"Ticket #{ticket.pk} is resolved"
    assert "Your ticket is resolved; 40 points were deducted." in mail.body
    assert_links_to(mail, customer_link(ticket))


def test_software_bug_email_says_points_came_back(
    client, staff, account, mailoutbox, run_on_commit
):
    ticket = file_ticket(account, IssueCategoryFactory(points=40))
    mailoutbox.clear()

    run_on_commit(post, client, ticket, "software_bug", {"bug-reason": "Bug #77"})

    mail = one_copy_each(mailoutbox, customer_emails(account))
    assert mail.subject == f"Points of ticket #{ticket.pk} returned"
    assert "all 40 points of this ticket were returned" in mail.body
    assert_links_to(mail, customer_link(ticket))


def test_reconsideration_decision_email(client, staff, account, mailoutbox, run_on_commit):
    ticket = file_ticket(account, IssueCategoryFactory(points=40))
    asked = ticket_request_reconsideration(
        ticket=ticket, actor=account_owner(account), message="Too much"
    )
    mailoutbox.clear()

    run_on_commit(
        post,
        client,
        ticket,
        "reconsideration",
        {
            f"reconsider-{asked.pk}-decision": "lower",
            f"reconsider-{asked.pk}-new_points": "20",
            f"reconsider-{asked.pk}-reason": "Fair point.",
        },
        asked.pk,
    )

    mail = one_copy_each(mailoutbox, customer_emails(account))
    assert "The cost of your ticket was lowered." in mail.body
    assert "Reason: Fair point." in mail.body


def test_new_ticket_emails_every_active_staff_member_with_an_admin_link(
    staff, mailoutbox, run_on_commit
):
    colleague = StaffUserFactory(email="kim@helpdesk.example.com")
    StaffUserFactory(email="gone@helpdesk.example.com", is_active=False)

    ticket = run_on_commit(file_ticket, subject="Shop down", is_urgent=True)

    mail = one_copy_each(mailoutbox, [staff.email, colleague.email])
    assert mail.subject == f"New ticket #{ticket.pk}: Shop down"
    assert "It is HotRush (urgent): the first response is due within one working hour." in mail.body
    assert_links_to(mail, admin_link(ticket))
    assert customer_link(ticket) not in mail.body


def test_customer_reply_emails_the_assignee_only(staff, account, mailoutbox, run_on_commit):
    StaffUserFactory(email="kim@helpdesk.example.com")
    ticket = file_ticket(account)
    ticket_assign(ticket=ticket, assignee=staff, actor=staff)
    mailoutbox.clear()

    run_on_commit(
        ticket_reply, ticket=ticket, author=account_owner(account), body="It still fails."
    )

    [mail] = mailoutbox
    assert mail.to == [staff.email]
    assert mail.subject == f"Customer reply on #{ticket.pk}: {ticket.subject}"
    assert "It still fails." in mail.body
    assert_links_to(mail, admin_link(ticket))


def test_reconsideration_request_emails_staff_with_an_admin_link(
    staff, account, mailoutbox, run_on_commit
):
    ticket = file_ticket(account)
    mailoutbox.clear()

    run_on_commit(
        ticket_request_reconsideration,
        ticket=ticket,
        actor=account_owner(account),
        message="It was your bug.",
    )

    [mail] = mailoutbox
    assert mail.to == [staff.email]
    assert "It was your bug." in mail.body
    assert_links_to(mail, admin_link(ticket))


def test_other_accounts_hear_nothing(client, staff, account, mailoutbox, run_on_commit):
    bystander = funded_account(100)
    ticket = file_ticket(account)
    mailoutbox.clear()

    run_on_commit(post, client, ticket, "resolve", {"resolve-reason": "Done"})

    addresses = {address for mail in mailoutbox for address in mail.to}
    assert account_owner(bystander).email not in addresses
