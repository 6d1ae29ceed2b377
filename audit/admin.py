"""The audit trail in the admin: browse and filter (person, kind, account, date), export the
filtered rows as CSV. Nothing here adds, changes or deletes a row."""

from __future__ import annotations

import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.csv_export import csv_response, csv_text

from .models import AuditEvent

# Rows fetched at a time by the CSV export (a server-side cursor on PostgreSQL).
EXPORT_CHUNK = 2000


class AccountFilter(admin.SimpleListFilter):
    """By account id: the accounts of the latest rows are offered, any id can be given in the
    address (`?account=12`)."""

    title = _("account")
    parameter_name = "account"

    def lookups(self, request, model_admin):
        recent = (
            AuditEvent.objects.filter(account_id__isnull=False)
            .order_by("-account_id")
            .values_list("account_id", flat=True)
            .distinct()[:20]
        )
        return [(str(account_id), f"#{account_id}") for account_id in recent]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            return queryset.none()
        return queryset.filter(account_id=int(value))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "kind", "account_link", "object", "client_address"]
    list_filter = [("actor", admin.RelatedOnlyFieldListFilter), "kind", AccountFilter, "created_at"]
    list_select_related = ["actor", "content_type"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "created_at",
        "actor",
        "kind",
        "account_id",
        "object",
        "changes",
        "reason",
        "client_address",
    ]
    readonly_fields = fields
    change_list_template = "admin/audit/auditevent/change_list.html"

    @admin.display(description=_("account"), ordering="account_id")
    def account_link(self, event):
        if event.account_id is None:
            return "—"
        url = reverse("admin:accounts_account_change", args=[event.account_id])
        return format_html('<a href="{}">#{}</a>', url, event.account_id)

    @admin.display(description=_("object"))
    def object(self, event):
        return event.object_label or "—"

    def get_urls(self):
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_csv),
                name="audit_auditevent_export",
            ),
            *super().get_urls(),
        ]

    def export_csv(self, request):
        """The rows the list shows with its current filters, all of them, streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        events = self.get_changelist_instance(request).get_queryset(request)
        zone = timezone.get_current_timezone()

        def rows():
            yield ["when", "who", "what", "account", "object", "changes", "reason", "client"]
            for event in events.iterator(chunk_size=EXPORT_CHUNK):
                yield [
                    timezone.localtime(event.created_at, zone).isoformat(timespec="seconds"),
                    csv_text(event.actor.email) if event.actor_id else "",
                    event.kind,
                    event.account_id or "",
                    event.object_label,
                    csv_text(_json(event.changes)),
                    csv_text(event.reason),
                    event.client_address or "",
                ]

        return csv_response(rows(), filename=f"audit-{timezone.localdate():%Y-%m-%d}.csv")


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if value else ""
