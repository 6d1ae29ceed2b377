from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.functional import lazy
from django.utils.text import get_text_list
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.numbers import PointsField

from .models import CategoryGroup, IssueCategory
from .pricing import kinds_by_columns


def price_columns_help() -> str:
    """Which price fields each pricing kind uses, from the pricing table."""
    uses = []
    for columns, kinds in kinds_by_columns():
        names = get_text_list([f"“{kind.name}”" for kind in kinds], gettext("and"))
        fields = [f"“{IssueCategory._meta.get_field(column).verbose_name}”" for column in columns]
        uses.append(
            ngettext("%(kinds)s uses %(fields)s", "%(kinds)s use %(fields)s", len(kinds))
            % {"kinds": names, "fields": get_text_list(fields, gettext("and")) or gettext("none")}
        )
    return gettext("%(uses)s. A change applies to tickets filed afterwards.") % {
        "uses": "; ".join(uses)
    }


class IssueCategoryForm(forms.ModelForm):
    """The model checks the price fields against the kind (catalog.pricing), next to each field."""

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
                "description": lazy(price_columns_help, str)(),
            },
        ),
    ]

    def get_ordering(self, request):
        return ["group__position", "group_id", "position", "id"]

    @admin.display(description=_("price (points)"))
    def price(self, category):
        return category.price_label
