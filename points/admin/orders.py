"""Point packages and orders in the admin. Orders are read-only; staff mark an order paid by hand
where its payment backend lets them (`points.services.order_mark_paid`)."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_filters import AccountListFilter
from core.admin import ReadOnlyAdmin
from core.errors import HelpDeskError

from .. import services
from ..admin_forms import MarkOrderPaidForm, PointPackageForm
from ..models import Order, OrderStatus, PointPackage
from ..payments import backend_named
from .common import action_page


@admin.register(PointPackage)
class PointPackageAdmin(admin.ModelAdmin):
    form = PointPackageForm
    list_display = ["name", "points", "price", "currency", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "account",
        "points",
        "price_with_currency",
        "status",
        "payment_backend",
        "created_at",
        "paid_at",
        "payment_reference",
        "mark_paid_link",
    ]
    list_filter = ["status", "payment_backend", AccountListFilter]
    list_select_related = ["account"]
    search_fields = ["id__exact", "payment_reference", "account__name", "created_by__email"]
    date_hierarchy = "created_at"
    change_form_template = "admin/points/order/change_form.html"

    @admin.display(description=_("price"), ordering="price")
    def price_with_currency(self, order):
        return f"{order.price} {order.currency}"

    @admin.display(description="")
    def mark_paid_link(self, order):
        if not self._can_be_marked_paid(order):
            return ""
        url = reverse("admin:points_order_mark_paid", args=[order.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("Mark paid"))

    @staticmethod
    def _can_be_marked_paid(order) -> bool:
        return (
            order.status == OrderStatus.PENDING
            and backend_named(order.payment_backend).staff_marks_paid
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/mark-paid/",
                self.admin_site.admin_view(self.mark_paid_view),
                name="points_order_mark_paid",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        order = context.get("original")
        context["can_mark_paid"] = (
            order is not None
            and self._can_be_marked_paid(order)
            and request.user.has_perm("points.mark_order_paid")
        )
        return super().render_change_form(request, context, *args, **kwargs)

    def mark_paid_view(self, request, object_id):
        if not request.user.has_perm("points.mark_order_paid"):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = MarkOrderPaidForm(request.POST or None)
        try:
            # Said before staff type a reference; the service refuses it again anyway.
            services.order_check_staff_may_mark_paid(order=order)
            if request.method == "POST" and form.is_valid():
                reference = form.cleaned_data["payment_reference"]
                lot = services.order_mark_paid(
                    order=order, payment_reference=reference, actor=request.user, by_staff=True
                )
                message = gettext(
                    "Order #%(id)s marked paid (reference %(reference)s): %(points)s points added "
                    "to %(account)s."
                ) % {
                    "id": order.pk,
                    "reference": reference,
                    "points": lot.points,
                    "account": order.account,
                }
                self.log_change(request, order, message)
                messages.success(request, message)
                return HttpResponseRedirect(reverse("admin:points_order_change", args=[order.pk]))
        except HelpDeskError as error:
            messages.error(request, str(error))
        return action_page(
            request,
            model_admin=self,
            obj=order,
            title=gettext("Mark order #%(id)s paid") % {"id": order.pk},
            form=form,
            submit=gettext("Mark paid"),
            summary=format_html(
                "{}: <strong>{}</strong> · {} {} · {}",
                order.account,
                gettext("%(points)s points") % {"points": order.points},
                order.price,
                order.currency,
                order.get_status_display(),
            ),
        )
