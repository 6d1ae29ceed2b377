"""Prices in templates: `{{ category|price_text }}` ("40 points", "free", "price on request")."""

from django import template

from catalog.pricing import price_text

register = template.Library()
register.filter("price_text", price_text)
