"""Communication center → Technical support points: the statement, buying points, orders, and the
payment provider's webhook."""

import logging

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import customer_required
from accounts.models import MembershipRole
from core.csv_export import csv_response, csv_text
from core.errors import HelpDeskError
from core.pagination import paginate

from . import selectors
from .charts import expiry_chart
from .forms import BalanceAlertForm, CheckoutForm
from .models import EntryKind, OrderStatus, entry_available_change
from .overview_rows import entry_rows, hold_rows
from .payments import PaymentBackend, configured_backend
from .services import (
    OrderNotPayable,
    PaymentReferenceConflict,
    WebhookRejected,
    balance_alert_set,
    balance_alert_subscribe,
    order_cancel,
    order_checkout,
    webhook_receive,
)

logger = logging.getLogger(__name__)

PER_PAGE = 20


def _safe_next(request, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


@customer_required
@require_GET
def overview(request):
    account = request.account
    now = timezone.now()
    modifications = paginate(
        request,
        selectors.entry_rows(selectors.balance_modifications(account=account)),
        param="changes",
        per_page=PER_PAGE,
        fragment="balance-modifications",
    )
    modifications.object_list = entry_rows(modifications.object_list)
    in_progress = paginate(
        request,
        selectors.hold_rows(selectors.holds_in_progress(account=account)),
        param="progress",
        per_page=PER_PAGE,
        fragment="tickets-in-progress",
    )
    in_progress.object_list = hold_rows(in_progress.object_list)
    resolved = paginate(
        request,
        selectors.hold_rows(selectors.holds_deducted(account=account)),
        param="resolved",
        per_page=PER_PAGE,
        fragment="resolved-tickets",
    )
    resolved.object_list = hold_rows(resolved.object_list)
    context = {
        "account": account,
        "summary": selectors.points_summary(account=account, at=now),
        "modifications": modifications,
        "in_progress": in_progress,
        "resolved": resolved,
        "chart": expiry_chart(selectors.expiry_forecast(account=account, at=now)),
        "EntryKind": EntryKind,
        "alert": selectors.balance_alert_of(account=account, user=request.user),
        "is_owner": request.user.membership.role == MembershipRole.OWNER,
    }
    return render(request, "points/overview.html", context)


@customer_required
@require_POST
def balance_alert(request):
    """The low-balance alert: the owner sets the threshold, any user opts in or out."""
    account = request.account
    is_owner = request.user.membership.role == MembershipRole.OWNER
    form = BalanceAlertForm(request.POST, is_owner=is_owner)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(reverse("points:overview") + "#low-balance")
    try:
        if is_owner:
            balance_alert_set(
                account=account,
                actor=request.user,
                threshold=form.cleaned_data["threshold"],
                at=timezone.now(),
            )
        else:
            balance_alert_subscribe(
                account=account, user=request.user, subscribed=form.cleaned_data["subscribed"]
            )
    except HelpDeskError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Low-balance alert saved."))
    return redirect(reverse("points:overview") + "#low-balance")


@customer_required
@require_GET
def export(request):
    """The whole statement as CSV, every journal line of the account, streamed.

    Each line is dated when the change happened (an expiry at its lot's expiry instant) and also
    carries when it was recorded (when the expiry job ran).
    """
    account = request.account
    zone = timezone.get_current_timezone()

    def rows():
        yield [
            _("Date"),
            _("Recorded"),
            _("Change"),
            _("Points"),
            _("Available points change"),
            _("Ticket"),
            _("Order"),
            _("Lot"),
            _("Lot expires"),
            _("Reason"),
        ]
        for entry in selectors.statement_entries(account=account).iterator(chunk_size=2000):
            ticket = entry.hold.ticket if entry.hold_id else None
            yield [
                timezone.localtime(entry.dated_at, zone).isoformat(timespec="seconds"),
                timezone.localtime(entry.created_at, zone).isoformat(timespec="seconds"),
                entry.get_kind_display(),
                entry.amount,
                entry_available_change(entry.kind, entry.amount),
                f"#{ticket.pk} {csv_text(ticket.subject)}" if ticket else "",
                f"#{entry.order_id}" if entry.order_id else "",
                f"#{entry.lot_id}",
                timezone.localtime(entry.lot.expires_at, zone).date().isoformat(),
                csv_text(entry.reason),
            ]

    return csv_response(rows(), filename=f"support-points-{timezone.localdate():%Y-%m-%d}.csv")


@customer_required
@require_http_methods(["GET", "POST"])
def buy(request):
    account = request.account
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            try:
                order = order_checkout(
                    account=account, package=form.cleaned_data["package"], actor=request.user
                )
            except HelpDeskError as error:
                messages.error(request, str(error))
            else:
                if order.status == OrderStatus.PAID:
                    messages.success(
                        request,
                        _("Payment received: %(points)s points were added to your balance.")
                        % {"points": order.points},
                    )
                else:
                    messages.info(
                        request,
                        _(
                            "Order #%(id)s is placed. Its points are added as soon as the "
                            "payment arrives."
                        )
                        % {"id": order.pk},
                    )
                url = reverse("points:order", args=[order.pk])
                if next_url:
                    url += "?" + urlencode({"next": next_url})
                return redirect(url)
        else:
            for error in form.errors.get("package", []):
                messages.error(request, error)
    orders = paginate(
        request,
        selectors.orders_for_account(account=account),
        param="orders",
        per_page=10,
        fragment="orders",
    )
    context = {
        "packages": list(selectors.packages_on_sale()),
        "summary": selectors.points_summary(account=account),
        "orders": orders,
        "backend": configured_backend(),
        "next_url": next_url,
    }
    return render(request, "points/buy.html", context)


@customer_required
@require_GET
def order_detail(request, pk):
    order = get_object_or_404(selectors.orders_for_account(account=request.account), pk=pk)
    context = {
        "order": order,
        "refund": selectors.order_refund_entry(order=order),
        "next_url": _safe_next(request, request.GET.get("next")),
        "OrderStatus": OrderStatus,
    }
    return render(request, "points/order.html", context)


@customer_required
@require_POST
def order_cancel_view(request, pk):
    order = get_object_or_404(selectors.orders_for_account(account=request.account), pk=pk)
    try:
        order_cancel(order=order)
    except HelpDeskError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Order #%(id)s is cancelled.") % {"id": order.pk})
    return redirect("points:order", pk=order.pk)


@csrf_exempt
@require_POST
def webhook(request):
    """The payment provider's signed events (see points.payments.webhook for the format)."""
    # Read one byte past the limit, never the whole body: the service refuses what is too large.
    body = request.read(settings.PAYMENT_WEBHOOK_MAX_BYTES + 1)
    try:
        result = webhook_receive(
            provider=PaymentBackend.WEBHOOK, body=body, headers=request.headers
        )
    except WebhookRejected as error:
        logger.warning("Payment webhook refused: %s", error)
        return JsonResponse({"error": str(error)}, status=400)
    except (PaymentReferenceConflict, OrderNotPayable) as error:
        logger.error("Payment webhook conflicts with an order: %s", error)
        return JsonResponse({"error": str(error)}, status=409)
    return JsonResponse(
        {"status": result.status, "order": result.order.pk if result.order else None}
    )
