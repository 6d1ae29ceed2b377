"""Admin helpers every app's admin uses: read-only lists, links between admin pages, and lists
whose date drill-down refuses impossible dates instead of failing.

Django's `date_hierarchy` turns `?created_at__year=9999` into a range ending in year 10000, and a
year of twenty digits into an overflow: both answer 500. Here such a date is refused the way Django
refuses any other bad filter: the list reloads without it and says so.
"""

from datetime import date

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.urls import reverse
from django.utils.html import format_html

# The drill-down also reads the day after the chosen period, which must exist too.
LATEST_YEAR = date.max.year - 1


def _date_part(request, name: str) -> int | None:
    value = request.GET.get(name)
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 4:
        raise IncorrectLookupParameters(f"{name} is not a year, month or day.")
    return int(value)


class BoundedDateHierarchyChangeList(ChangeList):
    def get_filters(self, request):
        if self.date_hierarchy:
            year, month, day = (
                _date_part(request, f"{self.date_hierarchy}__{part}")
                for part in ("year", "month", "day")
            )
            if year is not None:
                try:
                    date(year, month or 1, day or 1)
                except ValueError as error:
                    raise IncorrectLookupParameters(error) from error
                if year > LATEST_YEAR:
                    raise IncorrectLookupParameters(f"{year} is beyond the last year shown.")
        return super().get_filters(request)


class BoundedDateHierarchyMixin:
    """Given to every ModelAdmin by the HelpDesk admin site (`HelpDeskAdminSite.register`). An
    admin's own ChangeList is kept when it refuses such dates too (subclasses
    `BoundedDateHierarchyChangeList`)."""

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if issubclass(changelist, BoundedDateHierarchyChangeList):
            return changelist
        return BoundedDateHierarchyChangeList


def admin_link(obj, label=None):
    """A link to `obj`'s admin page, or "—"."""
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def changelist_url(model, **filters) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    if filters:
        url += "?" + "&".join(f"{key}={value}" for key, value in filters.items())
    return url


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only services write: staff may look, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
