"""Receipts and credit notes in the admin: read-only (a document never changes once issued); a
paid order is refunded from its receipt (or its order's page) through `billing.services`."""

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from core.admin import ReadOnlyAdmin
from core.errors import HelpDeskError

from .forms import RefundForm
from .models import BillingDetails, CreditNote, Receipt
from .services import order_refund, order_refund_bound

DOCUMENT_FIELDS = ["number", "issued_at", "buyer_name", "points", "gross", "currency"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = [*DOCUMENT_FIELDS, "order", "payment_backend", "refund_link"]
    list_select_related = ["order", "credit_note"]
    search_fields = ["number", "buyer_name", "buyer_company", "payment_reference", "order__id"]
    date_hierarchy = "issued_at"
    change_form_template = "admin/billing/receipt/change_form.html"

    @admin.display(description="")
    def refund_link(self, receipt):
        if hasattr(receipt, "credit_note"):
            return receipt.credit_note.number
        url = reverse("admin:billing_order_refund", args=[receipt.order_id])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("Refund"))

    def get_urls(self):
        return [
            path(
                "refund-order/<int:order_id>/",
                self.admin_site.admin_view(self.refund_view),
                name="billing_order_refund",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request, order_id):
        if not request.user.has_perm("billing.refund_order"):
            raise PermissionDenied
        receipt = get_object_or_404(Receipt, order_id=order_id)
        points, bound = order_refund_bound(receipt=receipt)
        form = RefundForm(request.POST or None, initial={"amount": bound})
        if request.method == "POST" and form.is_valid():
            try:
                note = order_refund(
                    receipt=receipt,
                    reason=form.cleaned_data["reason"],
                    amount=Decimal(form.cleaned_data["amount"]),
                    actor=request.user,
                )
            except HelpDeskError as error:
                messages.error(request, error.message)
            else:
                message = gettext(
                    "Order #%(id)s refunded: %(points)s points removed, %(amount)s %(currency)s "
                    "returned (credit note %(number)s)."
                ) % {
                    "id": order_id,
                    "points": note.points,
                    "amount": note.gross,
                    "currency": note.currency,
                    "number": note.number,
                }
                self.log_change(request, receipt, message)
                messages.success(request, message)
                return HttpResponseRedirect(
                    reverse("admin:billing_creditnote_change", args=[note.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": receipt,
            "title": gettext("Refund order #%(id)s") % {"id": order_id},
            "form": form,
            "submit": gettext("Refund and issue a credit note"),
            "summary": format_html(
                "{} · {}: <strong>{}</strong> · {} {}",
                receipt.number,
                receipt.buyer_name,
                gettext("%(points)s unused points to remove") % {"points": points},
                gettext("at most"),
                f"{bound} {receipt.currency}",
            ),
            "intro": gettext(
                "The order's unused points leave the account; points captured for tickets or "
                "already deducted stay. The money refunded is at most the payment's share of the "
                "points removed."
            ),
            "cancel_url": reverse("admin:billing_receipt_change", args=[receipt.pk]),
            "has_view_permission": self.has_view_permission(request, receipt),
        }
        return TemplateResponse(request, "admin/helpdesk/action_form.html", context)


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = [*DOCUMENT_FIELDS, "receipt", "issued_by"]
    list_select_related = ["receipt", "issued_by"]
    search_fields = ["number", "buyer_name", "receipt__number"]
    date_hierarchy = "issued_at"


@admin.register(BillingDetails)
class BillingDetailsAdmin(ReadOnlyAdmin):
    list_display = ["account", "company", "tax_id", "updated_at"]
    list_select_related = ["account"]
    search_fields = ["account__name", "company", "tax_id"]
