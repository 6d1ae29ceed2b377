"""The ledger's rows in the admin, read-only: lots, holds with their allocations, and the journal.
Only the services write them."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_filters import AccountListFilter
from core.admin import ReadOnlyAdmin, admin_link

from ..models import Entry, Hold, HoldAllocation, Lot, entry_available_change, entry_captured_change
from ..templatetags.points_format import signed_points
from .common import ExpiryListFilter


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
