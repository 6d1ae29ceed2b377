from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .pricing import (
    KIND_MAX_LENGTH,
    KindPricing,
    PricingKind,
    price_constraint,
    price_errors,
    pricing_of,
)


class CategoryGroupQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class CategoryGroup(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CategoryGroupQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("category group")
        verbose_name_plural = _("category groups")

    def __str__(self):
        return self.name


class IssueCategoryQuerySet(models.QuerySet):
    def active(self):
        """Categories customers may choose: active themselves and in an active group."""
        return self.filter(is_active=True, group__is_active=True)


class IssueCategory(models.Model):
    """A priced kind of issue. The price is structured; the customer-facing label is derived."""

    group = models.ForeignKey(
        CategoryGroup, on_delete=models.PROTECT, related_name="categories", verbose_name=_("group")
    )
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    pricing_kind = models.CharField(
        _("pricing"), max_length=KIND_MAX_LENGTH, choices=PricingKind.choices
    )
    points = models.BigIntegerField(
        _("points"),
        null=True,
        blank=True,
        help_text=_("Fixed price, minimum price or the low end of a range."),
    )
    max_points = models.BigIntegerField(
        _("maximum points"), null=True, blank=True, help_text=_("High end of a range.")
    )
    hourly_rate = models.BigIntegerField(
        _("points per hour"), null=True, blank=True, help_text=_("Hourly categories only.")
    )

    objects = IssueCategoryQuerySet.as_manager()

    class Meta:
        ordering = ["group__position", "group_id", "position", "id"]
        verbose_name = _("issue category")
        verbose_name_plural = _("issue categories")
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="category_unique_name_in_group"),
            models.CheckConstraint(
                condition=Q(points__isnull=True) | Q(points__gte=0),
                name="category_points_not_negative",
            ),
            price_constraint(),
        ]

    def __str__(self):
        return self.name

    def clean_fields(self, exclude=None):
        """Each field, then the price columns against the kind's entry in the pricing table.

        Here rather than in clean(): `exclude` names the fields a form already refused as typed
        or doesn't edit, which the price check leaves alone (one error per field).
        """
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.error_dict
        else:
            errors = {}
        for column, error in price_errors(self, skip={*(exclude or ()), *errors}).items():
            errors[column] = [error]
        if errors:
            raise ValidationError(errors)

    @property
    def pricing(self) -> KindPricing:
        """This category's entry in the pricing table (catalog.pricing)."""
        return pricing_of(self)

    @property
    def price_label(self) -> str:
        """The price as the price list shows it: "40", "from 120", "60–2040", "60 / hour"…"""
        return self.pricing.label_for(self)

    @property
    def capture_points(self) -> int | None:
        """Points a new ticket captures; None when the ticket must wait for a quote."""
        return self.pricing.capture_for(self)

    @property
    def cost_bounds(self) -> tuple[int, int | None] | None:
        """(minimum, maximum or None) that staff cost changes stay within without an override."""
        return self.pricing.bounds_for(self)
