"""Erasure requests for staff: read, approve (irreversible, said before it is confirmed) or decline.
Exports are listed read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from core.admin import ReadOnlyAdmin, admin_link
from core.errors import HelpDeskError

from .models import DataExport, ErasureRequest, ErasureStatus
from .services import erasure_approve, erasure_decline


class ErasureConfirmForm(forms.Form):
    irreversible = forms.BooleanField(
        label=_("I understand that erasure is irreversible"),
        help_text=_(
            "Names, e-mail addresses, message texts, attachments and access details are erased "
            "for good. The ledger, the tickets' numbers, costs, dates and statuses, and the "
            "audit trail stay."
        ),
    )


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "person", "account_link", "whole_account", "status", "created_at"]
    list_filter = ["status", "whole_account"]
    list_select_related = ["user", "account"]
    date_hierarchy = "created_at"
    fields = [
        "user",
        "account",
        "whole_account",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/privacy/erasurerequest/change_form.html"

    @admin.display(description=_("person"))
    def person(self, request_row):
        return request_row.user.email

    @admin.display(description=_("account"))
    def account_link(self, request_row):
        return admin_link(request_row.account)

    def get_urls(self):
        return [
            path(
                "<int:pk>/erase/",
                self.admin_site.admin_view(self.erase_view),
                name="privacy_erasurerequest_erase",
            ),
            path(
                "<int:pk>/decline/",
                self.admin_site.admin_view(self.decline_view),
                name="privacy_erasurerequest_decline",
            ),
            *super().get_urls(),
        ]

    def _decidable(self, request, pk) -> ErasureRequest:
        if not request.user.has_perm("privacy.erase_personal_data"):
            raise PermissionDenied
        return get_object_or_404(ErasureRequest, pk=pk)

    @method_decorator(require_http_methods(["GET", "POST"]))
    def erase_view(self, request, pk):
        erasure = self._decidable(request, pk)
        change_url = reverse("admin:privacy_erasurerequest_change", args=[erasure.pk])
        form = ErasureConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                erasure_approve(request=erasure, actor=request.user)
            except HelpDeskError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("The personal data was erased."))
            return redirect(change_url)
        who = _("the whole account %(account)s") if erasure.whole_account else _("%(person)s")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": erasure,
            "title": _("Erase personal data"),
            "form": form,
            "submit": _("Erase for good"),
            "summary": format_html(
                "{} {}",
                _("Erase the personal data of"),
                who % {"account": erasure.account, "person": erasure.user.email},
            ),
            "intro": _("This cannot be undone."),
            "cancel_url": change_url,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/helpdesk/action_form.html", context)

    @method_decorator(require_http_methods(["POST"]))
    def decline_view(self, request, pk):
        erasure = self._decidable(request, pk)
        try:
            erasure_decline(request=erasure, actor=request.user)
        except HelpDeskError as error:
            messages.error(request, str(error))
        return redirect(reverse("admin:privacy_erasurerequest_change", args=[erasure.pk]))

    def render_change_form(self, request, context, *args, **kwargs):
        obj = kwargs.get("obj")
        context["may_decide"] = (
            obj is not None
            and obj.status == ErasureStatus.PENDING
            and request.user.has_perm("privacy.erase_personal_data")
        )
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "account", "requested_by", "status", "created_at", "ready_at"]
    list_filter = ["status"]
    list_select_related = ["account", "requested_by"]
    fields = ["account", "requested_by", "status", "created_at", "ready_at"]
    readonly_fields = fields
