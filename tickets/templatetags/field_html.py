"""`{% form_field field %}`: includes/form_field.html's markup without a template per field."""

from django import template

from core.field_html import field_html

register = template.Library()

register.simple_tag(field_html, name="form_field")
