"""Orders paid before receipts existed get theirs: numbered in the order they were paid, per year
of payment, dated when paid, with the seller and tax rate configured at the upgrade."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import migrations
from django.utils import timezone

CENT = Decimal("0.01")


def issue_receipts(apps, schema_editor):
    Order = apps.get_model("points", "Order")
    Receipt = apps.get_model("billing", "Receipt")
    DocumentSequence = apps.get_model("billing", "DocumentSequence")
    rate = settings.HELPDESK_TAX_RATE
    last: dict[int, int] = {}
    orders = (
        Order.objects.filter(status="paid", receipt__isnull=True)
        .select_related("account", "package")
        .order_by("paid_at", "id")
    )
    for order in orders.iterator(chunk_size=1000):
        year = timezone.localtime(order.paid_at).year
        last[year] = last.get(year, 0) + 1
        gross = order.price.quantize(CENT)
        tax = (gross * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        Receipt.objects.create(
            number=f"{year}-{last[year]:06d}",
            year=year,
            sequence=last[year],
            issued_at=order.paid_at,
            order=order,
            account=order.account,
            package_name=order.package.name if order.package_id else "",
            points=order.points,
            net=gross - tax,
            tax=tax,
            gross=gross,
            tax_rate=rate,
            currency=order.currency,
            payment_backend=order.payment_backend,
            payment_reference=order.payment_reference or "",
            paid_at=order.paid_at,
            seller_name=settings.HELPDESK_SELLER_NAME,
            seller_address=settings.HELPDESK_SELLER_ADDRESS,
            seller_tax_id=settings.HELPDESK_SELLER_TAX_ID,
            buyer_name=order.account.name,
        )
    DocumentSequence.objects.bulk_create(
        DocumentSequence(kind="receipt", year=year, last=count) for year, count in last.items()
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("points", "0009_order_refund")]
    operations = [migrations.RunPython(issue_receipts, migrations.RunPython.noop)]
