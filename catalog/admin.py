from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.numbers import PointsField

from .models import CategoryGroup, IssueCategory, PricingKind

# Which price fields each pricing kind uses; the others must stay empty (the model's CHECK
# constraint says the same, this gives the error next to the field instead of a database error).
PRICE_FIELDS = {
    PricingKind.FIXED: {"points"},
    PricingKind.MINIMUM: {"points"},
    PricingKind.RANGE: {"points", "max_points"},
    PricingKind.HOURLY: {"hourly_rate"},
    PricingKind.UPON_REQUEST: set(),
}
# Minimums above the fields' own, 0.
MINIMUM_VALUE = {"hourly_rate": 1}


class IssueCategoryForm(forms.ModelForm):
    class Meta:
        model = IssueCategory
        fields = [
            "group",
            "name",
            "position",
            "is_active",
            "pricing_kind",
            "points",
            "max_points",
            "hourly_rate",
        ]
        # A price is at most the largest single operation (HELPDESK_MAX_POINTS_PER_OPERATION).
        field_classes = {
            "points": PointsField,
            "max_points": PointsField,
            "hourly_rate": PointsField,
        }

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("pricing_kind")
        if kind not in PRICE_FIELDS:
            return cleaned
        kind_label = PricingKind(kind).label
        for field in ("points", "max_points", "hourly_rate"):
            if field in self.errors:
                continue  # already refused as typed (not a number, out of bounds)
            value = cleaned.get(field)
            if field in PRICE_FIELDS[kind] and value is None:
                self.add_error(field, _("Required for “%(kind)s” pricing.") % {"kind": kind_label})
            elif field not in PRICE_FIELDS[kind] and value is not None:
                self.add_error(
                    field, _("Leave empty for “%(kind)s” pricing.") % {"kind": kind_label}
                )
            elif field in MINIMUM_VALUE and value is not None and value < MINIMUM_VALUE[field]:
                self.add_error(
                    field,
                    _("Must be at least %(minimum)s.") % {"minimum": MINIMUM_VALUE[field]},
                )
        low, high = cleaned.get("points"), cleaned.get("max_points")
        if kind == PricingKind.RANGE and low is not None and high is not None and high <= low:
            self.add_error("max_points", _("Must be greater than the low end of the range."))
        return cleaned


class IssueCategoryInline(admin.TabularInline):
    model = IssueCategory
    form = IssueCategoryForm
    fields = [
        "name",
        "position",
        "is_active",
        "pricing_kind",
        "points",
        "max_points",
        "hourly_rate",
    ]
    extra = 0
    ordering = ["position", "id"]
    show_change_link = True


@admin.action(description=_("Activate selected"))
def activate(modeladmin, request, queryset):
    count = queryset.update(is_active=True)
    modeladmin.message_user(
        request,
        ngettext("%(count)d activated.", "%(count)d activated.", count) % {"count": count},
        messages.SUCCESS,
    )


@admin.action(description=_("Deactivate selected (hidden from customers)"))
def deactivate(modeladmin, request, queryset):
    count = queryset.update(is_active=False)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d deactivated; customers no longer see it.",
            "%(count)d deactivated; customers no longer see them.",
            count,
        )
        % {"count": count},
        messages.SUCCESS,
    )


@admin.register(CategoryGroup)
class CategoryGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active", "category_count"]
    list_editable = ["position", "is_active"]
    list_display_links = ["name"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    actions = [activate, deactivate]
    inlines = [IssueCategoryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(category_total=Count("categories"))

    @admin.display(description=_("categories"), ordering="category_total")
    def category_count(self, group):
        return group.category_total


@admin.register(IssueCategory)
class IssueCategoryAdmin(admin.ModelAdmin):
    form = IssueCategoryForm
    list_display = ["name", "group", "position", "is_active", "pricing_kind", "price"]
    list_editable = ["position", "is_active"]
    list_display_links = ["name"]
    list_filter = ["is_active", "pricing_kind", "group"]
    list_select_related = ["group"]
    search_fields = ["name", "group__name"]
    actions = [activate, deactivate]
    fieldsets = [
        (None, {"fields": ["group", "name", "position", "is_active"]}),
        (
            _("Price"),
            {
                "fields": ["pricing_kind", ("points", "max_points"), "hourly_rate"],
                "description": _(
                    "Fixed and minimum prices use “points”; a range uses “points” to “maximum "
                    "points”; hourly pricing uses “points per hour”; “upon request” uses none. "
                    "A change applies to tickets filed afterwards."
                ),
            },
        ),
    ]

    def get_ordering(self, request):
        return ["group__position", "group_id", "position", "id"]

    @admin.display(description=_("price (points)"))
    def price(self, category):
        return category.price_label
