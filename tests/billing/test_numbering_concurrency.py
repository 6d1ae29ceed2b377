"""Gap-free numbering under real concurrent payments on PostgreSQL (threads, own connections)."""

import threading
import traceback

import pytest
from django.db import connection, transaction

from billing.models import CreditNote, Receipt
from billing.services import order_refund
from points.payments import PaymentBackend
from points.services import order_create, order_mark_paid
from tests.factories import AccountFactory, PointPackageFactory, StaffUserFactory, account_owner

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 12


def run_together(operations):
    barrier = threading.Barrier(len(operations))
    errors = []

    def run(operation):
        try:
            connection.ensure_connection()
            barrier.wait(30)
            operation()
        except BaseException:
            errors.append(traceback.format_exc())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(op,), daemon=True) for op in operations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return errors


def _orders(count):
    package = PointPackageFactory()
    orders = []
    for _ in range(count):
        account = AccountFactory()  # one account each: nothing but the counter serializes them
        orders.append(
            order_create(
                account=account,
                package=package,
                backend=PaymentBackend.MANUAL,
                actor=account_owner(account),
            )
        )
    return orders


def test_orders_paid_at_once_get_distinct_numbers_without_holes():
    orders = _orders(ORDERS)
    errors = run_together(
        [
            lambda order=order: order_mark_paid(order=order, payment_reference=f"r{order.pk}")
            for order in orders
        ]
    )
    assert not errors, "\n".join(errors)
    sequences = sorted(Receipt.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, ORDERS + 1))


class Abandoned(Exception):
    pass


def test_a_payment_rolled_back_gives_its_number_back():
    orders = _orders(ORDERS)

    def pay_then_fail(order):
        with transaction.atomic():
            order_mark_paid(order=order, payment_reference=f"r{order.pk}")
            raise Abandoned

    operations = [
        (lambda order=order: pay_then_fail(order))
        if index % 3 == 0
        else (lambda order=order: order_mark_paid(order=order, payment_reference=f"r{order.pk}"))
        for index, order in enumerate(orders)
    ]
    errors = run_together(operations)
    assert len(errors) == len(orders[::3])
    assert all("Abandoned" in error for error in errors)
    issued = sorted(Receipt.objects.values_list("sequence", flat=True))
    assert issued == list(range(1, ORDERS - len(orders[::3]) + 1))


def test_two_refunds_of_one_order_at_once_issue_one_credit_note():
    [order] = _orders(1)
    order_mark_paid(order=order, payment_reference="r1")
    receipt = Receipt.objects.get(order=order)
    staff = StaffUserFactory()
    errors = run_together(
        [lambda: order_refund(receipt=receipt, reason="r", actor=staff) for _ in range(4)]
    )
    assert len(errors) == 3
    assert all("refunded already" in error for error in errors)
    assert CreditNote.objects.get().sequence == 1
