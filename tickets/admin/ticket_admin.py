"""Staff work tickets here: the queue, and a ticket page with its thread, reply form, assignment,
status moves and the cost panel.

The ticket's own fields are never edited through a model form: every change is a small form
posting to its own admin URL (`actions`)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_filters import AccountListFilter
from core.numbers import parse_id

from ..admin_selectors import QUEUE_ORDERING, ticket_queue
from ..models import Ticket
from .actions import TicketActionViews
from .queue import (
    AssigneeFilter,
    FirstResponseFilter,
    QueueChangeList,
    QueueColumns,
    StatusFilter,
    WaitingForFilter,
)
from .sla_report import SlaReportView
from .ticket_page import TicketPageViews


@admin.register(Ticket)
class TicketAdmin(
    QueueColumns, TicketPageViews, TicketActionViews, SlaReportView, admin.ModelAdmin
):
    list_display = [
        "number",
        "subject",
        "account",
        "category_and_price",
        "state",
        "assignee",
        "captured_points",
        "first_response",
        "last_activity",
    ]
    list_display_links = ["number", "subject"]
    list_filter = [
        StatusFilter,
        FirstResponseFilter,
        WaitingForFilter,
        "is_urgent",
        AssigneeFilter,
        "category",
        AccountListFilter,
    ]
    search_fields = [
        "subject",
        "account__name",
        "account__memberships__user__email",
        "filed_by__email",
    ]
    search_help_text = _("Number (#123), subject, account name or a customer's e-mail address.")
    list_per_page = 50
    # The filtered count is shown; counting every ticket again on each page is not worth it.
    show_full_result_count = False
    change_form_template = "admin/tickets/ticket/change_form.html"
    change_list_template = "admin/tickets/ticket/change_list.html"

    def get_queryset(self, request):
        return ticket_queue(super().get_queryset(request))

    def get_ordering(self, request):
        return QUEUE_ORDERING

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = parse_id(search_term.strip().removeprefix("#"))
        if number is not None:
            queryset |= self.get_queryset(request).filter(pk=number)
        return queryset, may_have_duplicates

    def has_add_permission(self, request):
        # Customers file tickets; staff work them.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # The queue and the ticket page are wide work pages: without the admin's app sidebar.
        return super().changelist_view(
            request,
            {
                "title": gettext("Ticket queue"),
                "is_nav_sidebar_enabled": False,
                **(extra_context or {}),
            },
        )

    # Queue columns
    # The ticket page

    def get_urls(self):
        def view(function, name):
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(function),
                name=f"tickets_ticket_{name.replace('-', '_')}",
            )

        return [
            path(
                "sla-report/",
                self.admin_site.admin_view(self.sla_report_view),
                name="tickets_ticket_sla_report",
            ),
            path(
                "<path:object_id>/attachments/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="tickets_ticket_attachment",
            ),
            view(self.reply_view, "reply"),
            view(self.assign_view, "assign"),
            view(self.move_view, "move"),
            view(self.change_cost_view, "change-cost"),
            view(self.wait_for_points_view, "wait-for-points"),
            view(self.quote_view, "quote"),
            view(self.log_time_view, "log-time"),
            view(self.resolve_view, "resolve"),
            view(self.software_bug_view, "software-bug"),
            view(self.remove_urgency_view, "remove-urgency"),
            path(
                "<path:object_id>/reconsideration/<int:reconsideration_id>/",
                self.admin_site.admin_view(self.reconsideration_view),
                name="tickets_ticket_reconsideration",
            ),
            view(self.access_details_view, "access-details"),
            *super().get_urls(),
        ]
