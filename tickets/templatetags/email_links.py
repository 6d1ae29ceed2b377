"""Absolute links for e-mails: customers go to their ticket page, staff to the admin."""

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.simple_tag
def absolute_url(view_name: str, *args) -> str:
    """`HELPDESK_BASE_URL` + the path of `view_name`."""
    return settings.HELPDESK_BASE_URL.rstrip("/") + reverse(view_name, args=args)


@register.simple_tag
def admin_ticket_url(ticket) -> str:
    return absolute_url("admin:tickets_ticket_change", ticket.pk)
