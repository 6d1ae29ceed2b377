"""The rows of the points page (balance modifications, tickets in progress, resolved tickets),
formatted once in Python: per row the template paid `url` tags, `date` filters, `intcomma`, labels
and a dozen lookups, most of the page's rendering. The texts are the template's; it escapes them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from .models import EntryKind, Hold, entry_available_change
from .templatetags.points_format import signed_points


@dataclass(frozen=True)
class HoldRow:
    ticket_id: int
    url: str
    subject: str
    category: str
    status: str
    status_label: str
    captured_since: str  # when the points were captured, "March 10, 2027"
    deducted_on: str  # when they were deducted, or ""
    amount: str  # "1,000"
    refunded: bool


def _date(value: datetime | None) -> str:
    """As the template's `value|date:"DATE_FORMAT"` shows it (in the current time zone)."""
    return date_filter(template_localtime(value), "DATE_FORMAT") if value else ""


# The ticket's status labels; the ticket app sits in a layer above this one.
_STATUS_LABELS = dict(
    Hold._meta.get_field("ticket").related_model._meta.get_field("status").flatchoices
)


def hold_rows(holds: Iterable) -> list[HoldRow]:
    """The rows of a page of `selectors.hold_rows`."""
    # The ticket URL differs between tickets only by the id: reversed once, not per row.
    prefix, suffix = reverse("tickets:detail", args=[0]).rsplit("/0/", 1)
    return [
        HoldRow(
            ticket_id=hold.ticket_id,
            url=f"{prefix}/{hold.ticket_id}/{suffix}",
            subject=hold.ticket__subject,
            category=hold.ticket__category__name,
            status=hold.ticket__status,
            status_label=capfirst(_STATUS_LABELS[hold.ticket__status]),
            captured_since=_date(hold.created_at),
            deducted_on=_date(hold.settled_at),
            amount=intcomma(hold.amount),
            refunded=hold.refunded_at is not None,
        )
        for hold in holds
    ]


@dataclass(frozen=True)
class EntryRow:
    dated: str  # when the change happened, "March 10, 2027"
    # An expiry recorded on a later day than its lot expired: "recorded March 12, 2027"; else "".
    recorded: str
    kind: str
    kind_label: str
    order_id: int | None
    ticket_id: int | None
    reason: str
    change: int
    change_text: str  # "+1,000", "−40"
    valid_until: str  # the lot's expiry (an expiry's row says "expired" instead)


def entry_rows(entries: Iterable) -> list[EntryRow]:
    """The rows of a page of `selectors.entry_rows`."""
    rows = []
    for entry in entries:
        dated = _date(entry.dated_at)
        recorded = _date(entry.created_at) if entry.kind == EntryKind.EXPIRE else dated
        change = entry_available_change(entry.kind, entry.amount)
        rows.append(
            EntryRow(
                dated=dated,
                recorded=(
                    gettext("recorded %(recorded)s") % {"recorded": recorded}
                    if recorded != dated
                    else ""
                ),
                kind=entry.kind,
                kind_label=capfirst(EntryKind(entry.kind).label),
                order_id=entry.order_id,
                ticket_id=entry.hold__ticket_id,
                reason=entry.reason,
                change=change,
                change_text=signed_points(change),
                valid_until=_date(entry.lot__expires_at),
            )
        )
    return rows
