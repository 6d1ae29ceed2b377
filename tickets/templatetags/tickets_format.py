"""Showing ticket prices: category prices in words (message text: tickets.rendering)."""

from django import template
from django.utils.translation import gettext as _

from catalog.models import IssueCategory, PricingKind

register = template.Library()


@register.filter
def price_text(category: IssueCategory) -> str:
    """The category's price in words: "40 points", "free", "from 120 points", "price on request"."""
    match category.pricing_kind:
        case PricingKind.FIXED if category.points == 0:
            return _("free")
        case PricingKind.FIXED | PricingKind.MINIMUM | PricingKind.RANGE:
            return _("%(price)s points") % {"price": category.price_label}
        case PricingKind.HOURLY:
            return _("%(rate)s points per hour") % {"rate": category.hourly_rate}
        case _:
            return _("price on request")
