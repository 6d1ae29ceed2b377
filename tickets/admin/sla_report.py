"""The first-response SLA report of the admin."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from ..admin_selectors import sla_report


class SlaReportView:
    """The first-response SLA report, beside the queue."""

    def sla_report_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        days = request.GET.get("days", "30")
        days = int(days) if days in ("7", "30", "90") else 30
        report = sla_report(days=days)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": gettext("First-response SLA report"),
            "report": report,
            "median": _hours_minutes(report.median_first_response),
            "days": days,
            "day_choices": [7, 30, 90],
            "overdue_url": reverse("admin:tickets_ticket_changelist") + "?sla=overdue",
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tickets/ticket/sla_report.html", context)


def _hours_minutes(duration: timedelta | None) -> str:
    """The duration as "3 h 05 min" (to the minute), or "" for None."""
    if duration is None:
        return ""
    minutes = round(duration.total_seconds() / 60)
    return gettext("%(hours)d h %(minutes)02d min") % {
        "hours": minutes // 60,
        "minutes": minutes % 60,
    }
