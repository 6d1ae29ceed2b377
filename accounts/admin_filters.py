"""List filters for the admin pages of models that belong to an account (lots, orders, tickets…)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.numbers import parse_id

from .models import Account


class AccountListFilter(admin.SimpleListFilter):
    """Filter by account without listing every account: only the chosen one is offered."""

    title = _("account")
    parameter_name = "account__id__exact"

    def lookups(self, request, model_admin):
        if not self.value():
            return []
        account_id = parse_id(self.value())
        account = Account.objects.filter(pk=account_id).first() if account_id else None
        # Offered even when there is no such account, so the list is filtered (to nothing).
        return [(self.value(), str(account) if account else _("no such account"))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # An id that is no account's (malformed, out of range) lists nothing.
        return queryset.filter(account_id=parse_id(self.value()))
