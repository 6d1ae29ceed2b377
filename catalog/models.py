from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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


class PricingKind(models.TextChoices):
    FIXED = "fixed", _("fixed")
    MINIMUM = "minimum", _("from (minimum)")
    RANGE = "range", _("range")
    HOURLY = "hourly", _("per hour")
    UPON_REQUEST = "upon_request", _("upon request")


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
    pricing_kind = models.CharField(_("pricing"), max_length=20, choices=PricingKind.choices)
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
            models.CheckConstraint(
                condition=Q(
                    pricing_kind__in=[PricingKind.FIXED, PricingKind.MINIMUM],
                    points__isnull=False,
                    max_points__isnull=True,
                    hourly_rate__isnull=True,
                )
                | Q(
                    pricing_kind=PricingKind.RANGE,
                    points__isnull=False,
                    max_points__isnull=False,
                    max_points__gt=models.F("points"),
                    hourly_rate__isnull=True,
                )
                | Q(
                    pricing_kind=PricingKind.HOURLY,
                    points__isnull=True,
                    max_points__isnull=True,
                    # Spelled out: a NULL rate makes "rate > 0" unknown, which a CHECK lets pass.
                    hourly_rate__isnull=False,
                    hourly_rate__gt=0,
                )
                | Q(
                    pricing_kind=PricingKind.UPON_REQUEST,
                    points__isnull=True,
                    max_points__isnull=True,
                    hourly_rate__isnull=True,
                ),
                name="category_price_matches_kind",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def price_label(self) -> str:
        """The price as customers see it.

        "40", "from 120", "60–2040", "60 / hour" or "upon request".
        """
        match self.pricing_kind:
            case PricingKind.FIXED:
                return str(self.points)
            case PricingKind.MINIMUM:
                return _("from %(points)s") % {"points": self.points}
            case PricingKind.RANGE:
                return f"{self.points}–{self.max_points}"
            case PricingKind.HOURLY:
                return _("%(rate)s / hour") % {"rate": self.hourly_rate}
            case _:
                return str(_("upon request"))

    @property
    def capture_points(self) -> int | None:
        """Points a new ticket captures; None when the ticket must wait for a quote."""
        match self.pricing_kind:
            case PricingKind.FIXED | PricingKind.MINIMUM | PricingKind.RANGE:
                return self.points
            case PricingKind.HOURLY:
                return self.hourly_rate
            case _:
                return None

    @property
    def cost_bounds(self) -> tuple[int, int | None] | None:
        """(minimum, maximum or None) that staff cost changes stay within without an override."""
        match self.pricing_kind:
            case PricingKind.MINIMUM:
                return (self.points, None)
            case PricingKind.RANGE:
                return (self.points, self.max_points)
            case _:
                return None
