"""Showing ticket text and prices: Markdown through a sanitizer, category prices in words."""

import functools
import threading

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from catalog.models import IssueCategory, PricingKind

register = template.Library()

# What a message may contain once rendered: text formatting, lists, quotes, code and links.
# Everything else (scripts, styles, images, forms, event handlers) is removed by nh3.
ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


_converters = threading.local()


@functools.lru_cache(maxsize=4096)
def _render_markdown(text: str) -> str:
    # Building a Markdown converter costs more than converting a message: one per thread, reset.
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = markdown_lib.Markdown(
            extensions=["fenced_code", "nl2br", "sane_lists"]
        )
    html = converter.reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


@register.filter
def markdown(text: str) -> str:
    """Render a message body written in Markdown to safe HTML (line breaks are kept).

    Rendered messages are cached in the process: a body never changes once written.
    """
    return mark_safe(_render_markdown(text or ""))  # noqa: S308 - sanitized by nh3


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
