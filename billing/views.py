"""The account's documents (printable page and PDF of each receipt and credit note) and its
billing details. Every document is looked up within the requester's account."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import customer_required
from accounts.models import MembershipRole
from core.errors import HelpDeskError

from . import selectors
from .documents import credit_note_html, credit_note_pdf, receipt_html, receipt_pdf
from .forms import BillingDetailsForm
from .services import billing_details_update


def _receipt(request, order_id):
    receipt = selectors.receipt_of_order(account=request.account, order_id=order_id)
    if receipt is None:
        raise Http404("No receipt for this order.")
    return receipt


def _credit_note(request, order_id):
    note = selectors.credit_note_of_order(account=request.account, order_id=order_id)
    if note is None:
        raise Http404("No credit note for this order.")
    return note


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@customer_required
@require_GET
def receipt(request, order_id):
    return HttpResponse(receipt_html(_receipt(request, order_id), printable_page=True))


@customer_required
@require_GET
def receipt_download(request, order_id):
    document = _receipt(request, order_id)
    return _pdf_response(receipt_pdf(document), f"receipt-{document.number}.pdf")


@customer_required
@require_GET
def credit_note(request, order_id):
    return HttpResponse(credit_note_html(_credit_note(request, order_id), printable_page=True))


@customer_required
@require_GET
def credit_note_download(request, order_id):
    document = _credit_note(request, order_id)
    return _pdf_response(credit_note_pdf(document), f"credit-note-{document.number}.pdf")


@customer_required
@require_http_methods(["GET", "POST"])
def billing_details(request):
    account = request.account
    details = selectors.billing_details_of(account=account)
    is_owner = request.user.membership.role == MembershipRole.OWNER
    form = BillingDetailsForm(request.POST or None, instance=details)
    if request.method == "POST" and form.is_valid():
        try:
            billing_details_update(
                account=account,
                actor=request.user,
                company=form.cleaned_data["company"],
                address=form.cleaned_data["address"],
                tax_id=form.cleaned_data["tax_id"],
            )
        except HelpDeskError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Billing details saved."))
            return redirect("billing:details")
    context = {"account": account, "details": details, "form": form, "is_owner": is_owner}
    return render(request, "billing/details.html", context)
