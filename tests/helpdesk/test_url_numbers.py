"""Numbers in addresses: ids in paths, page numbers and ids in query strings, on the customer's
pages and in the admin. Whatever is typed (0, negative, past 32 or 64 bits, a googol, "1e5", the
digits of other scripts, superscripts), the answer is the page, its last page, "not found" or the
list without the bad filter: never a 500.
"""

import pytest

from helpdesk.models import User
from points.services import order_create
from tests.admin_support import file_ticket, funded_account
from tests.factories import PointPackageFactory, account_owner
from tests.html import find, parse, text
from tickets.services import ticket_request_reconsideration

pytestmark = pytest.mark.django_db

NUMBERS = [
    "0",
    "-1",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999",
    "1" + "0" * 100,
    "1e5",
    "١٢",
    "²",
    "%00",
    "%20",
]
POINTS = "/communication-center/support-points/"


@pytest.fixture
def setting():
    """An account with a ticket, an order and a reconsideration request; a superuser."""
    account = funded_account(500)
    ticket = file_ticket(account)
    owner = account_owner(account)
    order_create(account=account, package=PointPackageFactory(), backend="manual", actor=owner)
    ticket_request_reconsideration(ticket=ticket, actor=owner, message="Too much")
    admin = User.objects.create_superuser(email="root@helpdesk.example.com", password="x")
    return account, ticket, owner, admin


def customer_urls(ticket, n):
    return [
        f"/tickets/{n}/",
        f"/tickets/{ticket.pk}/attachments/{n}/",
        f"{POINTS}orders/{n}/",
    ]


def customer_lists(n):
    return [
        f"/tickets/?page={n}",
        f"/tickets/?q=%23{n}",
        f"/tickets/?q={n}",
        f"{POINTS}?changes={n}&progress={n}&resolved={n}",
        f"{POINTS}buy/?orders={n}",
    ]


def admin_urls(ticket, n):
    return [
        f"/admin/accounts/account/{n}/change/",
        f"/admin/accounts/account/{n}/grant/",
        f"/admin/accounts/account/{n}/adjust/",
        f"/admin/points/lot/{n}/change/",
        f"/admin/points/hold/{n}/change/",
        f"/admin/points/entry/{n}/change/",
        f"/admin/points/order/{n}/change/",
        f"/admin/points/order/{n}/mark-paid/",
        f"/admin/points/pointpackage/{n}/change/",
        f"/admin/tickets/ticket/{n}/change/",
        f"/admin/tickets/ticket/{ticket.pk}/attachments/{n}/",
        f"/admin/catalog/issuecategory/{n}/change/",
        f"/admin/catalog/categorygroup/{n}/change/",
        f"/admin/helpdesk/user/{n}/change/",
    ]


def admin_lists(n):
    return [
        f"/admin/accounts/account/?p={n}",
        f"/admin/accounts/account/?q={n}",
        f"/admin/points/lot/?account__id__exact={n}&q={n}&p={n}",
        f"/admin/points/hold/?account__id__exact={n}&q={n}",
        f"/admin/points/entry/?account__id__exact={n}&q={n}",
        f"/admin/points/order/?account__id__exact={n}&q={n}",
        f"/admin/tickets/ticket/?q={n}",
        f"/admin/tickets/ticket/?q=%23{n}",
        f"/admin/tickets/ticket/?assignee={n}&account__id__exact={n}",
        f"/admin/tickets/ticket/?category__id__exact={n}",
        f"/admin/tickets/ticket/?p={n}",
        f"/admin/tickets/ticket/sla-report/?days={n}",
        f"/admin/notifications/notification/?q={n}",
        f"/admin/catalog/issuecategory/?group__id__exact={n}",
    ]


@pytest.mark.parametrize("number", NUMBERS)
def test_ids_in_customer_addresses_are_found_or_not_found(client, setting, number):
    _account, ticket, owner, _admin = setting
    client.force_login(owner)

    for url in customer_urls(ticket, number):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/tickets/{number}/reply/",
        f"/tickets/{number}/cancel/",
        f"{POINTS}orders/{number}/cancel/",
        f"/accounts/users/{number}/remove/",
    ):
        assert client.post(url).status_code == 404, url


@pytest.mark.parametrize("number", NUMBERS)
def test_page_numbers_and_searches_on_customer_lists_answer_a_page(client, setting, number):
    client.force_login(setting[2])

    for url in customer_lists(number):
        assert client.get(url).status_code == 200, url


def test_a_page_number_past_the_end_shows_the_last_page(client, setting):
    client.force_login(setting[2])

    page = parse(client.get(f"{POINTS}?changes=99999999999999999999").content)

    section = find(page, "section", id="balance-modifications")
    assert "Welcome points" in text(section)


@pytest.mark.parametrize("number", NUMBERS)
def test_ids_in_admin_addresses_are_found_or_not_found(client, setting, number):
    _account, ticket, _owner, admin = setting
    client.force_login(admin)

    for url in admin_urls(ticket, number):
        # The admin sends a missing object back to its list with a message; custom pages 404.
        # (Django's admin reads "١٢" as 12, an object that may exist.)
        assert client.get(url).status_code in (200, 302, 404), url
    for url in admin_lists(number):
        response = client.get(url)
        assert response.status_code == 200 or response["Location"].endswith("?e=1"), url
