from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, admin_link

from .models import InboundEmail


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdmin):
    """Every e-mail received, accepted or rejected with the reason, linked to its ticket."""

    list_display = ["received_at", "sender", "subject", "status", "outcome", "ticket_link"]
    list_filter = ["status", "outcome", "source"]
    search_fields = ["sender", "subject", "=message_key"]
    date_hierarchy = "received_at"
    list_select_related = ["ticket"]
    fields = [
        "received_at",
        "source",
        "message_key",
        "sender",
        "recipient",
        "subject",
        "raw_size",
        "status",
        "outcome",
        "reason",
        "ticket_link",
        "answered",
    ]
    readonly_fields = ["ticket_link"]

    @admin.display(description=_("ticket"), ordering="ticket")
    def ticket_link(self, inbound):
        return admin_link(inbound.ticket)
