from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, admin_link

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The e-mail outbox, to see what was sent to whom and what failed (sending is automatic)."""

    list_display = ["event", "subject_link", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["event", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["about", "=subject_id"]
    date_hierarchy = "created_at"
    list_select_related = ["subject_type"]

    @admin.display(description=_("about"), ordering="about")
    def subject_link(self, notification):
        if notification.subject_type_id is None:
            return "—"
        model = notification.subject_type.model_class()
        if model is None:
            return notification.about
        stub = model(pk=notification.subject_id)
        return admin_link(stub, notification.about or f"#{notification.subject_id}")
