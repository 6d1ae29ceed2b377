"""`{% queue_result_list cl %}`: the ticket queue's table, as the admin's `{% result_list %}`
renders it, with leaner rows (`tickets.admin.queue_rows`)."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from tickets.admin.queue_rows import queue_result_list

register = template.Library()


@register.tag(name="queue_result_list")
def queue_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=queue_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
