"""The customer's documents and billing details, through HTTP."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, MembershipRole
from billing.models import BillingDetails
from tests.billing.support import paid_order, pdf_text
from tests.factories import AccountFactory, UserFactory, account_owner

pytestmark = pytest.mark.django_db

DETAILS_URL = reverse("billing:details")


@pytest.fixture
def owner_client(client, account):
    client.force_login(account_owner(account))
    return client


def test_the_receipt_is_a_printable_page_and_a_pdf(owner_client, account):
    order = paid_order(account, reference="bank-7")
    page = owner_client.get(reverse("billing:receipt", args=[order.pk]))
    assert page.status_code == 200
    assert order.receipt.number in page.content.decode()
    assert "bank-7" in page.content.decode()

    download = owner_client.get(reverse("billing:receipt_pdf", args=[order.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert f'filename="receipt-{order.receipt.number}.pdf"' in download["Content-Disposition"]
    assert order.receipt.number in pdf_text(download.content)


def test_the_points_page_and_the_order_link_to_the_receipt(owner_client, account):
    order = paid_order(account)
    receipt_url = reverse("billing:receipt_pdf", args=[order.pk])
    assert receipt_url in owner_client.get(reverse("points:overview")).content.decode()
    assert (
        receipt_url in owner_client.get(reverse("points:order", args=[order.pk])).content.decode()
    )


@pytest.mark.parametrize("name", ["billing:receipt", "billing:receipt_pdf"])
def test_another_accounts_receipt_is_not_found(owner_client, name):
    others = paid_order(AccountFactory())
    assert owner_client.get(reverse(name, args=[others.pk])).status_code == 404
    assert owner_client.get(reverse(name, args=[2**62])).status_code == 404


def test_documents_need_a_customer_login(client, account):
    order = paid_order(account)
    response = client.get(reverse("billing:receipt_pdf", args=[order.pk]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_owner_edits_the_billing_details(owner_client, account):
    response = owner_client.post(
        DETAILS_URL, {"company": " Buyer Ltd ", "address": "1 Road\nTown", "tax_id": "GB1"}
    )
    assert response.status_code == 302
    details = BillingDetails.objects.get(account=account)
    assert (details.company, details.address, details.tax_id) == (
        "Buyer Ltd",
        "1 Road\nTown",
        "GB1",
    )
    assert paid_order(account).receipt.buyer_company == "Buyer Ltd"


def test_a_secondary_user_sees_but_cannot_change_the_billing_details(client, account):
    member = UserFactory()
    Membership.objects.create(account=account, user=member, role=MembershipRole.MEMBER)
    BillingDetails.objects.create(account=account, company="Buyer Ltd")
    client.force_login(member)
    page = client.get(DETAILS_URL).content.decode()
    assert "Buyer Ltd" in page and "<form" not in page.split("<main", 1)[-1].split("</main>")[0]
    client.post(DETAILS_URL, {"company": "Hijacked", "address": "", "tax_id": ""})
    assert BillingDetails.objects.get(account=account).company == "Buyer Ltd"


@pytest.mark.parametrize(
    "field, value",
    [("company", "x" * 201), ("address", "y" * 1001), ("tax_id", "z" * 51)],
)
def test_oversized_billing_details_are_refused_next_to_the_field(
    owner_client, account, field, value
):
    data = {"company": "", "address": "", "tax_id": "", field: value}
    response = owner_client.post(DETAILS_URL, data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode() or "error" in response.content.decode()
    assert not BillingDetails.objects.filter(account=account).exists()


def test_the_billing_details_keep_an_account_of_its_own(owner_client, account):
    other = AccountFactory()
    owner_client.post(
        DETAILS_URL, {"company": "Mine", "address": "", "tax_id": "", "account": other.pk}
    )
    assert not BillingDetails.objects.filter(account=other).exists()
    assert BillingDetails.objects.get(account=account).company == "Mine"


def test_the_document_pages_make_a_fixed_number_of_queries(
    owner_client, account, django_assert_max_num_queries
):
    orders = [paid_order(account) for _ in range(3)]
    for order in orders:
        # session, user, membership and account, the receipt
        with django_assert_max_num_queries(4):
            owner_client.get(reverse("billing:receipt", args=[order.pk]))
    with django_assert_max_num_queries(5):
        owner_client.get(DETAILS_URL)


def test_the_points_page_query_count_does_not_grow_with_receipts(
    owner_client, account, django_assert_max_num_queries
):
    paid_order(account)
    with CaptureQueriesContext(connection) as one:
        owner_client.get(reverse("points:overview"))
    for _ in range(5):
        paid_order(account)
    with django_assert_max_num_queries(len(one.captured_queries)):
        owner_client.get(reverse("points:overview"))
