"""Customer accounts in the admin: their balance and latest journal entries, their users, and the
staff pages that grant points or adjust them (through `points.services`, signed and with a
reason)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.audit import account_change_record, account_snapshot
from accounts.models import Account, Membership
from core.admin import changelist_url
from core.errors import HelpDeskError

from .. import services
from ..admin_forms import AdjustPointsForm, GrantPointsForm
from ..models import (
    Entry,
    Hold,
    Lot,
    Order,
    entry_available_change,
    entry_captured_change,
)
from ..selectors import accounts_with_points, points_summary
from ..templatetags.points_format import signed_points
from .common import action_page


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

    def save_model(self, request, obj, form, change):
        request.audit_before = account_snapshot(obj if change else None)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        account_change_record(
            actor=request.user, account=form.instance, before=request.audit_before
        )

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
