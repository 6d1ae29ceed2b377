"""The staff dashboard shown as the admin's home page: what needs attention now, a few tickets of
each list, each linking to the ticket and to the queue filtered the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .admin_selectors import DashboardList, staff_dashboard
from .models import Ticket


@dataclass(frozen=True)
class DashboardSection:
    key: str
    title: str
    empty: str
    rows: list[tuple[Ticket, str]]
    total: int
    queue_url: str


def dashboard_sections(request) -> list[DashboardSection] | None:
    """The dashboard for this staff member, or None when they may not see tickets."""
    if not request.user.has_perm("tickets.view_ticket"):
        return None
    now = timezone.now()
    dashboard = staff_dashboard(user=request.user, at=now)
    queue = reverse("admin:tickets_ticket_changelist")

    def ago(ticket):
        return timesince(ticket.since, now, depth=1)

    def section(key, title, empty, rows: DashboardList, query, note: Callable[[Ticket], str]):
        return DashboardSection(
            key=key,
            title=title,
            empty=empty,
            rows=[(ticket, note(ticket)) for ticket in rows.tickets],
            total=rows.total,
            queue_url=f"{queue}?{urlencode(query)}",
        )

    return [
        section(
            "overdue",
            _("First response overdue"),
            _("No ticket is overdue."),
            dashboard.overdue,
            {"sla": "overdue"},
            lambda t: gettext("overdue by %(time)s") % {"time": ago(t)},
        ),
        section(
            "due-soon",
            _("First response due within the hour"),
            _("Nothing falls due within the hour."),
            dashboard.due_soon,
            {"sla": "due_soon"},
            lambda t: gettext("due in %(time)s") % {"time": timeuntil(t.since, now, depth=1)},
        ),
        section(
            "reconsideration",
            _("Waiting for a reconsideration decision"),
            _("No reconsideration request is waiting."),
            dashboard.reconsideration,
            {"waiting": "reconsideration"},
            lambda t: gettext("asked %(time)s ago") % {"time": ago(t)},
        ),
        section(
            "points",
            _("Waiting for points"),
            _("No customer was asked to buy points."),
            dashboard.waiting_for_points,
            {"waiting": "points"},
            lambda t: gettext("asked %(time)s ago") % {"time": ago(t)},
        ),
        section(
            "mine",
            _("My assigned tickets"),
            _("No active ticket is assigned to you."),
            dashboard.mine,
            {"assignee": "me", "status": "active"},
            lambda t: (
                gettext("%(status)s, last activity %(time)s ago")
                % {"status": t.get_status_display(), "time": ago(t)}
            ),
        ),
    ]
