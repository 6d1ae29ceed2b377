"""Receipts: one per paid order, gap-free numbers per year, amounts, immutability, documents."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction

from billing.amounts import split_gross
from billing.documents import receipt_pdf
from billing.models import BillingDetails, DocumentIsImmutable, Receipt
from notifications.sending import notifications_send_due
from points.services import order_mark_paid
from tests.billing.support import paid_order, pdf_text
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_paid_order_gets_one_receipt_numbered_per_year(account):
    first = paid_order(account, at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    second = paid_order(account, at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    next_year = paid_order(account, at=datetime(2027, 1, 1, 0, 30, tzinfo=UTC))

    assert first.receipt.number == "2026-000001"
    assert second.receipt.number == "2026-000002"
    assert next_year.receipt.number == "2027-000001"


def test_confirming_a_payment_again_issues_no_second_receipt(account):
    order = paid_order(account, reference="pay-1")
    order_mark_paid(order=order, payment_reference="pay-1")
    assert Receipt.objects.filter(order=order).count() == 1
    assert Receipt.objects.get().sequence == 1


def test_the_receipt_copies_buyer_seller_and_payment(account, settings):
    settings.HELPDESK_SELLER_NAME = "Vendor GmbH"
    settings.HELPDESK_SELLER_TAX_ID = "DE123"
    BillingDetails.objects.create(
        account=account, company="Buyer Ltd", address="1 Road\nTown", tax_id="GB999"
    )
    order = paid_order(account, points=250, price="300.00", reference="bank-42")
    receipt = order.receipt
    assert (receipt.seller_name, receipt.seller_tax_id) == ("Vendor GmbH", "DE123")
    assert (receipt.buyer_name, receipt.buyer_company) == (account.name, "Buyer Ltd")
    assert (receipt.buyer_address, receipt.buyer_tax_id) == ("1 Road\nTown", "GB999")
    assert (receipt.points, receipt.gross, receipt.currency) == (250, Decimal("300.00"), "USD")
    assert receipt.payment_reference == "bank-42"
    assert receipt.package_name == order.package.name

    # Later changes of the details never reach an issued receipt.
    BillingDetails.objects.filter(account=account).update(company="Renamed")
    receipt.refresh_from_db()
    assert receipt.buyer_company == "Buyer Ltd"


@pytest.mark.parametrize(
    "gross, rate, net, tax",
    [
        ("120.00", "0", "120.00", "0.00"),
        ("120.00", "20", "100.00", "20.00"),
        ("99.99", "19", "84.03", "15.96"),
        ("0.01", "20", "0.01", "0.00"),
        ("10.00", "7.5", "9.30", "0.70"),
    ],
)
def test_prices_include_tax_split_once_and_adding_up(gross, rate, net, tax):
    amounts = split_gross(Decimal(gross), Decimal(rate))
    assert (amounts.net, amounts.tax) == (Decimal(net), Decimal(tax))
    assert amounts.net + amounts.tax == Decimal(gross)


def test_the_tax_rate_setting_is_applied(account, settings):
    settings.HELPDESK_TAX_RATE = Decimal("20")
    receipt = paid_order(account, price="120.00").receipt
    assert (receipt.net, receipt.tax, receipt.gross) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("120.00"),
    )


def test_a_receipt_never_changes(account):
    receipt = paid_order(account).receipt
    receipt.gross = Decimal("1.00")
    with pytest.raises(DocumentIsImmutable):
        receipt.save()
    with pytest.raises(DocumentIsImmutable):
        Receipt.objects.filter(pk=receipt.pk).update(gross=Decimal("1.00"))
    with pytest.raises(DocumentIsImmutable):
        receipt.delete()
    with pytest.raises(DocumentIsImmutable):
        Receipt.objects.all().delete()
    receipt.refresh_from_db()
    assert receipt.gross == Decimal("120.00")


def test_the_database_refuses_a_receipt_whose_total_is_not_net_plus_tax(account):
    receipt = paid_order(account).receipt
    other_order = paid_order(AccountFactory())
    values = {
        field.attname: getattr(receipt, field.attname)
        for field in Receipt._meta.concrete_fields
        if not field.primary_key
    }
    values.update(order_id=other_order.pk, number="X-1", sequence=999, net=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Receipt.objects.create(**values)


def test_the_pdf_shows_the_figures(account, settings):
    settings.HELPDESK_TAX_RATE = Decimal("20")
    settings.HELPDESK_SELLER_NAME = "Vendor GmbH"
    receipt = paid_order(account, points=250, price="300.00", reference="bank-42").receipt
    text = pdf_text(receipt_pdf(receipt))
    for expected in (
        "Receipt",
        receipt.number,
        "Vendor GmbH",
        account.name,
        "250",
        "250.00 USD",
        "50.00 USD",
        "300.00 USD",
        "bank-42",
        "Tax (20.00 %)",
    ):
        assert expected in text, expected


def test_the_payment_e_mail_carries_the_receipt_pdf(account):
    receipt = paid_order(account).receipt
    mail.outbox.clear()
    notifications_send_due(at=receipt.issued_at.replace(year=receipt.issued_at.year + 1))
    [message] = mail.outbox
    assert receipt.number in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"receipt-{receipt.number}.pdf"
    assert mimetype == "application/pdf"
    assert receipt.number in pdf_text(content)
    assert message.to == [account.memberships.get().user.email]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE billing_receipt SET gross = 1, net = 1, tax = 0 WHERE id = %s",
        "DELETE FROM billing_receipt WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_an_issued_receipt(account, statement):
    receipt = paid_order(account).receipt
    with pytest.raises(IntegrityError, match="never change"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, [receipt.pk])
    receipt.refresh_from_db()
    assert receipt.gross == Decimal("120.00")
