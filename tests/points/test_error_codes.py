"""Every refusal of the points services carries a stable, machine-readable code (what the API
will answer with), one meaning per code, and changes nothing."""

import inspect
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings

from core.errors import HelpDeskError
from points import errors, services
from points.payments import PaymentBackend
from points.services import (
    hold_refund,
    hold_release,
    hold_settle,
    lots_expire_due,
    order_cancel,
    order_create,
    order_mark_paid,
    points_adjust,
    points_grant,
    points_purchase,
    webhook_receive,
)
from tests.factories import PointPackageFactory, account_owner
from tests.points.support import T0, capture, grant, ledger_state

pytestmark = pytest.mark.django_db


def test_every_error_class_has_its_own_code():
    classes = [
        cls
        for _name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, HelpDeskError) and cls is not HelpDeskError
    ]
    codes = [cls.code for cls in classes]

    assert len(classes) == 11
    assert len(set(codes)) == len(codes)
    assert all(code.isidentifier() and code == code.lower() for code in codes)
    assert services.LedgerError is errors.LedgerError


def order_of(backend):
    def create(account):
        return order_create(
            account=account,
            package=PointPackageFactory(points=10),
            backend=backend,
            actor=account_owner(account),
        )

    return create


def paid_order(account):
    order = order_of(PaymentBackend.MANUAL)(account)
    order_mark_paid(order=order, payment_reference="PAID-1")
    return order


def released_ticket(account):
    hold = capture(account, 5)
    hold_release(ticket=hold.ticket, reason="cancelled", at=T0)
    return hold.ticket


def nothing(account):
    return None


# code: (what the refused call needs, the call)
REFUSALS = {
    "insufficient_points": (nothing, lambda account, _: capture(account, 101)),
    "invalid_amount": (
        nothing,
        lambda account, _: points_grant(account=account, points=0, reason="r", actor=None),
    ),
    "invalid_expiry": (
        nothing,
        lambda account, _: points_grant(
            account=account, points=1, reason="r", actor=None, expires_at=T0 - timedelta(days=1)
        ),
    ),
    "reason_required": (
        nothing,
        lambda account, _: points_adjust(account=account, points=-1, reason="  ", actor=None),
    ),
    "invalid_reason": (
        nothing,
        lambda account, _: points_grant(account=account, points=1, reason="a\x00b", actor=None),
    ),
    "hold_conflict": (released_ticket, lambda account, ticket: hold_settle(ticket=ticket)),
    "payment_reference_required": (
        nothing,
        lambda account, _: points_purchase(account=account, points=10, payment_reference=" "),
    ),
    "payment_reference_conflict": (
        paid_order,
        lambda account, _: points_purchase(account=account, points=11, payment_reference="PAID-1"),
    ),
    "order_not_payable": (paid_order, lambda account, order: order_cancel(order=order)),
    "order_not_paid_by_hand": (
        order_of(PaymentBackend.WEBHOOK),
        lambda account, order: order_mark_paid(order=order, payment_reference="X", by_staff=True),
    ),
    "expiry_ahead_of_time": (
        nothing,
        lambda account, _: lots_expire_due(as_of=T0 + timedelta(days=1)),
    ),
    "webhook_rejected": (
        nothing,
        lambda account, _: webhook_receive(provider=PaymentBackend.WEBHOOK, body=b"{}", headers={}),
    ),
}


@pytest.mark.parametrize("code", REFUSALS)
@override_settings(PAYMENT_WEBHOOK_SECRET="secret")
def test_a_refusal_says_its_code_and_changes_nothing(account, code):
    grant(account, 100, expires_at=T0 + timedelta(days=30))
    needs, refused_call = REFUSALS[code]
    needed = needs(account)
    before = ledger_state()

    with time_machine.travel(T0, tick=False), pytest.raises(HelpDeskError) as refused:
        refused_call(account, needed)

    assert refused.value.code == code
    assert str(refused.value)
    assert ledger_state() == before


def test_a_refund_of_captured_points_is_a_hold_conflict(account):
    grant(account, 100, expires_at=T0 + timedelta(days=30))
    hold = capture(account, 5)

    with pytest.raises(errors.HoldConflict) as refused:
        hold_refund(ticket=hold.ticket, reason="r", actor=None)

    assert refused.value.code == "hold_conflict"
