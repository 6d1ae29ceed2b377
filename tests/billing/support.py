"""Helpers of the billing tests: paid orders and the text of a PDF."""

from __future__ import annotations

import subprocess
from decimal import Decimal

from points.payments import PaymentBackend
from points.services import order_create, order_mark_paid
from tests.factories import PointPackageFactory, account_owner


def paid_order(account, *, points=100, price="120.00", reference=None, at=None):
    package = PointPackageFactory(points=points, price=Decimal(price))
    order = order_create(
        account=account,
        package=package,
        backend=PaymentBackend.MANUAL,
        actor=account_owner(account),
    )
    order_mark_paid(order=order, payment_reference=reference or f"ref-{order.pk}", at=at)
    order.refresh_from_db()
    return order


def pdf_text(content: bytes) -> str:
    """The text of a PDF, as Debian's poppler-utils extract it."""
    assert content.startswith(b"%PDF-")
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return result.stdout.decode()
