"""Showing changes of points: one way, on the customer's page and in the admin."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def signed_points(change: int) -> str:
    """A change of points as "+1,000" or "−40" (a true minus sign); "—" when nothing changed."""
    if change > 0:
        return f"+{intcomma(change)}"
    if change < 0:
        return f"−{intcomma(-change)}"
    return "—"
