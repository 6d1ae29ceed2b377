"""What the points admin pages share: the expiry filter and the page of a staff action."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
