"""The rows of "my tickets", formatted once in Python.

Per row the template paid four `blocktranslate`s, `naturaltime`, `intcomma`, a `url` tag and a
dozen lookups: most of the page's time. The texts (and their message ids) are the template's;
the template escapes them like any variable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.humanize.templatetags.humanize import intcomma, naturaltime
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext

from points.models import HoldStatus

from .models import TicketStatus
from .selectors import TicketListRow


@dataclass(frozen=True)
class TicketRow:
    pk: int
    url: str
    subject: str
    status: str
    status_label: str
    is_urgent: bool
    # "Incident solving · filed by Ann Lee · 3 messages · last activity 2 hours ago"
    meta: str
    # What the ticket holds or cost: "40 captured", "40 deducted", "points returned", …
    points: str


def _points(ticket: TicketListRow) -> str:
    if ticket.points_status == HoldStatus.OPEN:
        return gettext("%(points)s captured") % {"points": intcomma(ticket.points)}
    if ticket.points_status == HoldStatus.SETTLED:
        return gettext("%(points)s deducted") % {"points": intcomma(ticket.points)}
    if ticket.points_status:
        return gettext("points returned")
    if ticket.status == TicketStatus.AWAITING_QUOTE:
        return gettext("waiting for a quote")
    return gettext("no points")


def _meta(ticket: TicketListRow) -> str:
    messages = ticket.message_count
    return " · ".join(
        (
            ticket.category_name,
            gettext("filed by %(name)s") % {"name": ticket.filed_by_name},
            ngettext("%(messages)s message", "%(messages)s messages", messages)
            % {"messages": messages},
            gettext("last activity %(when)s") % {"when": naturaltime(ticket.last_activity_at)},
        )
    )


def ticket_rows(tickets: Iterable[TicketListRow]) -> list[TicketRow]:
    # The detail URL differs between tickets only by the id: reversed once, not per row.
    url_of_zero = reverse("tickets:detail", args=[0])
    prefix, suffix = url_of_zero.rsplit("/0/", 1)
    return [
        TicketRow(
            pk=ticket.pk,
            url=f"{prefix}/{ticket.pk}/{suffix}",
            subject=ticket.subject,
            status=ticket.status,
            status_label=capfirst(TicketStatus(ticket.status).label),
            is_urgent=ticket.is_urgent,
            meta=_meta(ticket),
            points=_points(ticket),
        )
        for ticket in tickets
    ]
