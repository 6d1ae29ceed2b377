"""The e-mail outbox in the admin: what was sent to whom and what failed."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from ..models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The e-mail outbox, to see what was sent to whom and what failed (sending is automatic)."""

    list_display = ["event", "account", "ticket", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["event", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["account", "ticket"]
    search_fields = ["account__name", "=ticket__id"]
    date_hierarchy = "created_at"
