"""Refunds: the unused points of a paid order leave the account, a credit note says how much money
goes back; once only, never more than paid, never for points already used or expired."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, AuditKind
from billing.documents import credit_note_pdf
from billing.models import CreditNote
from billing.services import order_refund, order_refund_bound
from core.errors import HelpDeskError
from notifications.models import Notification
from notifications.sending import notifications_send_due
from points.models import Entry, EntryKind, Lot
from points.selectors import points_summary
from points.services import balance_alert_set, hold_capture, hold_settle, lots_expire_due
from tests.billing.support import paid_order, pdf_text
from tests.factories import StaffUserFactory, TicketFactory, account_owner
from tests.points.support import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def available(account):
    return points_summary(account=account, at=timezone.now()).available


def test_a_refund_of_an_unused_order_returns_everything(account, staff):
    receipt = paid_order(account, points=100, price="120.00").receipt
    note = order_refund(receipt=receipt, reason="Customer changed plans", actor=staff)
    assert (note.points, note.gross, note.currency) == (100, Decimal("120.00"), "USD")
    assert note.number.startswith(f"CN-{note.issued_at.year}-")
    assert available(account) == 0
    [entry] = Entry.objects.filter(kind=EntryKind.ORDER_REFUND)
    assert (entry.amount, entry.order_id, entry.reason) == (100, receipt.order_id, note.reason)
    assert_ledger_consistent()


def test_a_refund_is_in_the_audit_trail(account, staff):
    receipt = paid_order(account, points=100, price="120.00").receipt
    note = order_refund(receipt=receipt, reason="Customer changed plans", actor=staff)
    event = AuditEvent.objects.get(kind=AuditKind.REFUND)
    assert (event.actor_id, event.account_id, event.reason) == (
        staff.pk,
        account.pk,
        "Customer changed plans",
    )
    assert event.changes == {
        "order": receipt.order_id,
        "receipt": receipt.number,
        "credit_note": note.number,
        "points": 100,
        "amount": "120.00",
        "currency": "USD",
    }


def test_points_captured_or_deducted_stay_and_the_money_is_proportional(account, staff):
    receipt = paid_order(account, points=100, price="100.00").receipt
    settled = TicketFactory(account=account)
    hold_capture(ticket=settled, points=30)
    hold_settle(ticket=settled)
    hold_capture(ticket=TicketFactory(account=account), points=10)

    points, bound = order_refund_bound(receipt=receipt)
    assert (points, bound) == (60, Decimal("60.00"))
    note = order_refund(receipt=receipt, reason="Partly used", actor=staff)
    assert (note.points, note.gross) == (60, Decimal("60.00"))
    summary = points_summary(account=account, at=timezone.now())
    assert (summary.available, summary.captured) == (0, 10)
    assert_ledger_consistent()


def test_the_proportional_amount_is_rounded_down_to_the_cent(account, staff):
    receipt = paid_order(account, points=3, price="10.00").receipt
    hold_capture(ticket=TicketFactory(account=account), points=1)
    assert order_refund_bound(receipt=receipt) == (2, Decimal("6.66"))


def test_staff_may_refund_less_but_never_more(account, staff):
    receipt = paid_order(account, points=100, price="100.00").receipt
    for too_much in (Decimal("100.01"), Decimal("0"), Decimal("-1"), Decimal("1.001")):
        with pytest.raises(HelpDeskError) as refused:
            order_refund(receipt=receipt, reason="r", actor=staff, amount=too_much)
        assert refused.value.code == "refund_amount_out_of_bounds"
    assert available(account) == 100  # a refused refund removed nothing
    note = order_refund(receipt=receipt, reason="Fee kept", actor=staff, amount=Decimal("90.00"))
    assert (note.points, note.gross) == (100, Decimal("90.00"))


def test_an_order_is_refunded_once(account, staff):
    receipt = paid_order(account).receipt
    order_refund(receipt=receipt, reason="first", actor=staff)
    with pytest.raises(HelpDeskError) as refused:
        order_refund(receipt=receipt, reason="again", actor=staff)
    assert refused.value.code == "order_refunded_already"
    assert CreditNote.objects.count() == 1
    assert Entry.objects.filter(kind=EntryKind.ORDER_REFUND).count() == 1


def test_nothing_left_to_refund_is_refused(account, staff):
    receipt = paid_order(account, points=50).receipt
    settled = TicketFactory(account=account)
    hold_capture(ticket=settled, points=50)
    hold_settle(ticket=settled)
    with pytest.raises(HelpDeskError) as refused:
        order_refund(receipt=receipt, reason="r", actor=staff)
    assert refused.value.code == "order_nothing_to_refund"
    assert not CreditNote.objects.exists()


def test_expired_points_are_not_refunded(account, staff):
    receipt = paid_order(account, points=50).receipt
    lot = Lot.objects.get(order_id=receipt.order_id)
    later = lot.expires_at + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        lots_expire_due(as_of=later)
        with pytest.raises(HelpDeskError) as refused:
            order_refund(receipt=receipt, reason="r", actor=staff)
    assert refused.value.code == "order_nothing_to_refund"


def test_a_reason_is_required(account, staff):
    receipt = paid_order(account).receipt
    with pytest.raises(HelpDeskError):
        order_refund(receipt=receipt, reason="   ", actor=staff)
    assert available(account) == 100


def test_the_credit_note_numbers_run_apart_from_receipts(account, staff):
    first = order_refund(receipt=paid_order(account).receipt, reason="r", actor=staff)
    second = order_refund(receipt=paid_order(account).receipt, reason="r", actor=staff)
    assert (first.sequence, second.sequence) == (1, 2)


def test_the_credit_note_pdf_and_e_mail(account, staff):
    receipt = paid_order(account, points=100, price="120.00").receipt
    note = order_refund(receipt=receipt, reason="Customer changed plans", actor=staff)
    text = pdf_text(credit_note_pdf(note))
    for expected in ("Credit note", note.number, receipt.number, "120.00 USD", "changed plans"):
        assert expected in text, expected

    mail.outbox.clear()
    notifications_send_due(at=timezone.now() + timedelta(hours=1))
    refund_mail = next(m for m in mail.outbox if note.number in m.subject)
    [(filename, content, _mimetype)] = refund_mail.attachments
    assert filename == f"credit-note-{note.number}.pdf"
    assert note.number in pdf_text(content)


def test_the_customer_sees_the_refund_with_its_credit_note(client, account, staff):
    receipt = paid_order(account).receipt
    order_refund(receipt=receipt, reason="Customer changed plans", actor=staff)
    client.force_login(account_owner(account))
    page = client.get(reverse("points:overview")).content.decode()
    assert reverse("billing:credit_note_pdf", args=[receipt.order_id]) in page
    assert "Customer changed plans" in page
    note_page = client.get(reverse("billing:credit_note", args=[receipt.order_id]))
    assert CreditNote.objects.get().number in note_page.content.decode()
    order_page = client.get(reverse("points:order", args=[receipt.order_id])).content.decode()
    assert "100 unused points removed" in order_page
    assert reverse("billing:credit_note", args=[receipt.order_id]) in order_page


# --- The admin ------------------------------------------------------------------------------------


def refund_url(order_id):
    return reverse("admin:billing_order_refund", args=[order_id])


def test_staff_without_the_permission_cannot_refund(client, account, staff):
    order = paid_order(account)
    client.force_login(staff)
    assert client.get(refund_url(order.pk)).status_code == 403
    assert client.post(refund_url(order.pk), {"reason": "r", "amount": "1"}).status_code == 403
    assert not CreditNote.objects.exists()


def test_staff_refund_an_order_in_the_admin(client, account, staff):
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["refund_order", "view_order"])
    )
    order = paid_order(account, points=100, price="100.00")
    client.force_login(staff)
    order_page = client.get(reverse("admin:points_order_change", args=[order.pk]))
    assert refund_url(order.pk) in order_page.content.decode()
    form = client.get(refund_url(order.pk))
    assert 'value="100.00"' in form.content.decode()

    response = client.post(refund_url(order.pk), {"reason": "Duplicate purchase", "amount": "80"})
    note = CreditNote.objects.get()
    assert response["Location"] == reverse("admin:billing_creditnote_change", args=[note.pk])
    assert (note.gross, note.issued_by) == (Decimal("80.00"), staff)

    again = client.post(refund_url(order.pk), {"reason": "Again", "amount": "1"}, follow=True)
    assert "refunded already" in again.content.decode()
    assert CreditNote.objects.count() == 1


@pytest.mark.parametrize("amount", ["abc", "1e400", "9" * 40, "NaN", "-5", "100.001"])
def test_the_admin_refuses_malformed_amounts(client, account, staff, amount):
    staff.user_permissions.add(Permission.objects.get(codename="refund_order"))
    order = paid_order(account)
    client.force_login(staff)
    response = client.post(refund_url(order.pk), {"reason": "r", "amount": amount})
    assert response.status_code == 200
    assert not CreditNote.objects.exists()
    assert available(account) == 100


def test_refunding_an_order_with_no_receipt_is_not_found(client, staff):
    staff.user_permissions.add(Permission.objects.get(codename="refund_order"))
    client.force_login(staff)
    assert client.get(refund_url(2**62)).status_code == 404


# --- check_ledger covers the new entry kind -------------------------------------------------------


def _check_ledger_lines(at):
    out = io.StringIO()
    with time_machine.travel(at, tick=False):
        try:
            call_command("check_ledger", stdout=out, stderr=io.StringIO(), no_color=True)
        except SystemExit:
            pass
    return out.getvalue().splitlines()


def test_check_ledger_counts_refunded_points_and_names_tampering(account, staff):
    receipt = paid_order(account, points=100).receipt
    order_refund(receipt=receipt, reason="r", actor=staff)
    at = timezone.now() + timedelta(seconds=1)
    assert _check_ledger_lines(at) == ["Ledger is consistent."]

    lot = Lot.objects.get(order_id=receipt.order_id)
    with connection.cursor() as cursor:  # points given back behind the journal's back
        cursor.execute("UPDATE points_lot SET remaining = 40 WHERE id = %s", [lot.pk])
    lines = _check_ledger_lines(at)
    assert f"account {account.pk}: lot {lot.pk} remaining vs journal: expected 0, found 40" in lines


def test_the_document_lists_in_the_admin_are_read_only_with_bounded_queries(
    client, account, django_assert_max_num_queries
):
    superuser = StaffUserFactory(is_superuser=True)
    receipts = [paid_order(account).receipt for _ in range(4)]
    order_refund(receipt=receipts[0], reason="r", actor=superuser)
    client.force_login(superuser)
    for name in ("admin:billing_receipt_changelist", "admin:billing_creditnote_changelist"):
        with django_assert_max_num_queries(12):
            page = client.get(reverse(name))
        assert page.status_code == 200
    changelist = client.get(reverse("admin:billing_receipt_changelist")).content.decode()
    assert refund_url(receipts[1].order_id) in changelist
    assert refund_url(receipts[0].order_id) not in changelist
    change = client.get(reverse("admin:billing_receipt_change", args=[receipts[1].pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    delete_url = reverse("admin:billing_receipt_delete", args=[receipts[1].pk])
    assert client.post(delete_url).status_code == 403


def test_a_refund_below_the_low_balance_threshold_sends_the_alert(account, staff):
    receipt = paid_order(account, points=100).receipt
    balance_alert_set(
        account=account, actor=account_owner(account), threshold=10, at=timezone.now()
    )
    order_refund(receipt=receipt, reason="r", actor=staff)
    assert Notification.objects.filter(event="points_low").count() == 1
