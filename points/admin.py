"""Staff views of the ledger. Lots, holds and journal entries are read-only here: every change of
points goes through `points.services` (grants, manual adjustments, marking orders paid), which
lock the account and journal the change with who did it and why.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_filters import AccountListFilter
from accounts.models import Account, Membership
from core.admin import ReadOnlyAdmin, admin_link, changelist_url
from core.errors import HelpDeskError

from . import services
from .admin_forms import AdjustPointsForm, GrantPointsForm, MarkOrderPaidForm, PointPackageForm
from .models import (
    Entry,
    Hold,
    HoldAllocation,
    Lot,
    Order,
    OrderStatus,
    PaymentBackend,
    PointPackage,
    entry_available_change,
    entry_captured_change,
)
from .selectors import accounts_with_points, points_summary
from .templatetags.points_format import signed_points


class ExpiryListFilter(admin.SimpleListFilter):
    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [("spendable", _("spendable now")), ("expired", _("expired"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "spendable":
            return queryset.spendable(now)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        return queryset


# --- Accounts ---------------------------------------------------------------------------------


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "role"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user.is_staff:
            raise forms.ValidationError(_("Staff members can't be users of a customer account."))
        return user


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "available", "captured", "next_expiry", "created_at"]
    search_fields = ["name", "memberships__user__email"]
    readonly_fields = ["points", "ledger_links", "recent_entries", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "created_at"]}),
        (_("Support points"), {"fields": ["points", "ledger_links", "recent_entries"]}),
    ]
    inlines = [MembershipInline]
    change_form_template = "admin/points/account/change_form.html"

    def get_queryset(self, request):
        return accounts_with_points(super().get_queryset(request))

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("owner"), ordering="owner_email")
    def owner(self, account):
        return account.owner_email or "—"

    @admin.display(description=_("available"), ordering="available")
    def available(self, account):
        return account.available

    @admin.display(description=_("captured"), ordering="captured")
    def captured(self, account):
        return account.captured

    @admin.display(description=_("next expiry"), ordering="next_expiry_at")
    def next_expiry(self, account):
        return account.next_expiry_at or "—"

    @admin.display(description=_("balance"))
    def points(self, account):
        summary = points_summary(account=account)
        if summary.next_expiry_at is None:
            expiry = gettext("nothing to expire")
        else:
            expiry = gettext("%(points)s points on %(date)s") % {
                "points": summary.next_expiry_points,
                "date": timezone.localtime(summary.next_expiry_at).strftime("%Y-%m-%d %H:%M"),
            }
        return format_html(
            "<strong>{}</strong> {} · <strong>{}</strong> {} · {} {}",
            summary.available,
            gettext("available"),
            summary.captured,
            gettext("captured for tickets"),
            gettext("next expiry:"),
            expiry,
        )

    @admin.display(description=_("ledger"))
    def ledger_links(self, account):
        links = [
            (changelist_url(Entry, account__id__exact=account.pk), _("Journal entries")),
            (changelist_url(Lot, account__id__exact=account.pk), _("Lots")),
            (changelist_url(Hold, account__id__exact=account.pk), _("Holds")),
            (changelist_url(Order, account__id__exact=account.pk), _("Orders")),
            (
                reverse("admin:tickets_ticket_changelist") + f"?account__id__exact={account.pk}",
                _("Tickets"),
            ),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("latest journal entries"))
    def recent_entries(self, account):
        entries = (
            Entry.objects.filter(account=account)
            .select_related("actor")
            .order_by("-created_at", "-id")[:10]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td class='num'>{}</td><td class='num'>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
                    entry.get_kind_display(),
                    signed_points(entry_available_change(entry.kind, entry.amount)),
                    signed_points(entry_captured_change(entry.kind, entry.amount)),
                    entry.actor or "—",
                    entry.reason or "—",
                )
                for entry in entries
            ),
        )
        if not rows:
            return gettext("No entries yet.")
        return format_html(
            "<table class='ledger-preview'><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("when"),
            gettext("kind"),
            gettext("available ±"),
            gettext("captured ±"),
            gettext("by"),
            gettext("reason"),
            rows,
        )

    # Custom pages: grant points, manual adjustment.

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/grant/", wrap(self.grant_view), name="points_account_grant"),
            path("<path:object_id>/adjust/", wrap(self.adjust_view), name="points_account_adjust"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_grant"] = request.user.has_perm("points.grant_points")
        context["can_adjust"] = request.user.has_perm("points.adjust_points")
        return super().render_change_form(request, context, *args, **kwargs)

    def grant_view(self, request, object_id):
        return self._points_view(
            request,
            object_id,
            permission="points.grant_points",
            form_class=GrantPointsForm,
            title=_("Grant points to %(account)s"),
            submit=_("Grant points"),
            perform=lambda account, form: services.points_grant(
                account=account,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                expires_at=form.expires_at(),
                actor=request.user,
            ),
            done=_("Granted %(points)s points to %(account)s."),
        )

    def adjust_view(self, request, object_id):
        return self._points_view(
            request,
            object_id,
            permission="points.adjust_points",
            form_class=AdjustPointsForm,
            title=_("Manual adjustment of %(account)s"),
            submit=_("Record the adjustment"),
            perform=lambda account, form: services.points_adjust(
                account=account,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            ),
            done=_("Adjusted %(account)s by %(points)s points."),
        )

    def _points_view(
        self, request, object_id, *, permission, form_class, title, submit, perform, done
    ):
        if not request.user.has_perm(permission):
            raise PermissionDenied
        account = self.get_object(request, unquote(object_id))
        if account is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                perform(account, form)
            except HelpDeskError as error:
                messages.error(request, str(error))
            else:
                points = form.cleaned_data["points"]
                message = done % {"points": points, "account": account}
                self.log_change(request, account, f"{message} {form.cleaned_data['reason']}")
                messages.success(request, message)
                return HttpResponseRedirect(
                    reverse("admin:accounts_account_change", args=[account.pk])
                )
        return action_page(
            request,
            model_admin=self,
            obj=account,
            title=title % {"account": account},
            form=form,
            submit=submit,
            summary=self.points(account),
        )


def action_page(request, *, model_admin, obj, title, form, submit, summary=None, intro=None):
    """A staff form about one object, in the admin's look (grant, adjust, mark paid)."""
    opts = model_admin.opts
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "original": obj,
        "title": title,
        "form": form,
        "submit": submit,
        "summary": summary,
        "intro": intro,
        "cancel_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
        "has_view_permission": model_admin.has_view_permission(request, obj),
    }
    return TemplateResponse(request, "admin/helpdesk/action_form.html", context)


# --- Ledger rows (read-only) ------------------------------------------------------------------


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "account",
        "kind",
        "points",
        "remaining",
        "acquired_at",
        "expires_at",
        "expired_at",
        "order",
    ]
    list_filter = [AccountListFilter, "kind", ExpiryListFilter]
    list_select_related = ["account", "order"]
    search_fields = ["id__exact", "account__name", "payment_reference"]
    show_full_result_count = False


class HoldAllocationInline(admin.TabularInline):
    model = HoldAllocation
    fields = ["lot", "amount"]
    readonly_fields = ["lot", "amount"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "ticket_link",
        "account",
        "status",
        "amount",
        "created_at",
        "settled_at",
        "released_at",
        "refunded_at",
    ]
    list_filter = [AccountListFilter, "status"]
    list_select_related = ["account", "ticket"]
    search_fields = ["ticket__id__exact", "account__name"]
    inlines = [HoldAllocationInline]
    show_full_result_count = False

    @admin.display(description=_("ticket"), ordering="ticket_id")
    def ticket_link(self, hold):
        return admin_link(hold.ticket)


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "kind",
        "available_change",
        "captured_change",
        "lot_link",
        "ticket_link",
        "order",
        "actor",
        "reason",
    ]
    list_filter = [AccountListFilter, "kind"]
    list_select_related = ["account", "lot", "hold", "order", "actor"]
    search_fields = ["account__name", "reason", "hold__ticket__id__exact", "actor__email"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("available ±"))
    def available_change(self, entry):
        return signed_points(entry_available_change(entry.kind, entry.amount))

    @admin.display(description=_("captured ±"))
    def captured_change(self, entry):
        return signed_points(entry_captured_change(entry.kind, entry.amount))

    @admin.display(description=_("lot"), ordering="lot_id")
    def lot_link(self, entry):
        return admin_link(entry.lot, f"#{entry.lot_id}")

    @admin.display(description=_("ticket"))
    def ticket_link(self, entry):
        if entry.hold is None:
            return "—"
        url = reverse("admin:tickets_ticket_change", args=[entry.hold.ticket_id])
        return format_html('<a href="{}">#{}</a>', url, entry.hold.ticket_id)


# --- Packages and orders ----------------------------------------------------------------------


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
            order.status == OrderStatus.PENDING and order.payment_backend == PaymentBackend.MANUAL
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
        if order.payment_backend != PaymentBackend.MANUAL:
            messages.error(
                request,
                gettext("Order #%(id)s is paid through %(backend)s, not by hand.")
                % {"id": order.pk, "backend": order.get_payment_backend_display()},
            )
        elif request.method == "POST" and form.is_valid():
            reference = form.cleaned_data["payment_reference"]
            try:
                lot = services.order_mark_paid(
                    order=order, payment_reference=reference, actor=request.user
                )
            except HelpDeskError as error:
                messages.error(request, str(error))
            else:
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
