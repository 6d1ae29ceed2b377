"""The staff queue: its filters, its order and its columns."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from catalog.pricing import PRICE_COLUMNS
from core.admin import BoundedDateHierarchyChangeList
from core.numbers import parse_id
from points.models import HoldStatus

from ..admin_forms import STAFF_ORDER
from ..admin_selectors import awaiting_first_response, pending_reconsideration, waiting_for_points
from ..models import ACTIVE_STATUSES, AWAITING_FIRST_RESPONSE, Ticket, TicketStatus
from ..sla import awaits_first_response
from .queue_rows import lean_format_html

S = TicketStatus


# --- Queue filters ----------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("Active (not resolved)")), *S.choices]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(status__in=ACTIVE_STATUSES)
        if self.value() in S.values:
            return queryset.filter(status=self.value())
        return queryset


class FirstResponseFilter(admin.SimpleListFilter):
    title = _("first response")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("due_soon", _("Due within an hour")),
            ("awaiting", _("Awaiting first response")),
            ("answered", _("Answered")),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "overdue" | "due_soon" as state:
                return queryset.filter(awaiting_first_response(state=state))
            case "awaiting":
                return queryset.filter(AWAITING_FIRST_RESPONSE)
            case "answered":
                return queryset.filter(first_response_at__isnull=False)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    """Staff are shown as everywhere in the admin: by name, or by e-mail when they have none."""

    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        staff = (
            get_user_model().objects.filter(is_staff=True, is_active=True).order_by(*STAFF_ORDER)
        )
        return [
            ("me", _("Assigned to me")),
            ("none", _("Unassigned")),
            *((str(user.pk), str(user)) for user in staff),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value:
            return queryset.filter(assignee_id=parse_id(value))
        return queryset


class WaitingForFilter(admin.SimpleListFilter):
    title = _("waiting for")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [
            ("reconsideration", _("A reconsideration decision")),
            ("points", _("Points the customer was asked to buy")),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "reconsideration":
                return queryset.filter(pending_reconsideration())
            case "points":
                return queryset.filter(waiting_for_points())
        return queryset


class QueueChangeList(BoundedDateHierarchyChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The rows read only what the columns show: a tenth of the values to convert otherwise.
        return super().get_queryset(request, exclude_parameters).only(*QUEUE_ROW_FIELDS)


# What `QueueColumns` read of a ticket and the rows it is shown with (the relations' text, the
# category's price, the hold's points and state).
QUEUE_ROW_FIELDS = [
    "subject",
    "status",
    "is_urgent",
    "first_response_at",
    "first_response_due_at",
    "last_activity_at",
    "account__name",
    "category__name",
    "category__pricing_kind",
    *(f"category__{column}" for column in PRICE_COLUMNS),
    "assignee__first_name",
    "assignee__last_name",
    "assignee__email",
    "hold__status",
    "hold__amount",
]


class QueueColumns:
    """The queue's columns (`TicketAdmin.list_display`)."""

    @admin.display(description=_("number"), ordering="id")
    def number(self, ticket):
        return f"#{ticket.pk}"

    @admin.display(description=_("category and price"), ordering="category__name")
    def category_and_price(self, ticket):
        return lean_format_html(
            '{} <span class="queue-price">{}</span>', ticket.category, ticket.category.price_label
        )

    @admin.display(description=_("last activity"), ordering="last_activity_at")
    def last_activity(self, ticket):
        return lean_format_html(
            '<span title="{}">{}</span>',
            local_time(ticket.last_activity_at),
            short_time(ticket.last_activity_at),
        )

    @admin.display(description=_("status"), ordering="status")
    def state(self, ticket):
        # HotRush is a badge under the status rather than a column of its own: the queue fits
        # a 1280-pixel screen beside its filters.
        if ticket.is_urgent:
            return lean_format_html(
                '{} <span class="badge badge-urgent">{}</span>',
                choice_label(S, ticket.status),
                gettext("HotRush"),
            )
        return choice_label(S, ticket.status)

    @admin.display(description=_("captured"))
    def captured_points(self, ticket):
        hold = hold_of(ticket)
        if hold is None:
            return "—"
        if hold.status == HoldStatus.OPEN:
            return hold.amount
        return lean_format_html(
            '{} <span class="queue-muted">{}</span>',
            hold.amount if hold.status == HoldStatus.SETTLED else 0,
            choice_label(HoldStatus, hold.status),
        )

    @admin.display(description=_("first response due"), ordering="first_response_due_at")
    def first_response(self, ticket):
        now = timezone.now()
        due = ticket.first_response_due_at
        if ticket.first_response_at is not None:
            on_time = due is None or ticket.first_response_at <= due
            return lean_format_html(
                '<span class="sla sla-answered" title="{}">{} {}</span>',
                gettext("due %(due)s") % {"due": local_time(due)} if due else "",
                gettext("answered") if on_time else gettext("answered late"),
                short_time(ticket.first_response_at),
            )
        if not awaits_first_response(ticket):
            return "—"
        if due < now:
            return lean_format_html(
                '<span class="sla sla-overdue" title="{}">{}</span>',
                local_time(due),
                gettext("overdue by %(time)s") % {"time": timesince(due, now, depth=1)},
            )
        if due < now + timedelta(hours=1):
            return lean_format_html(
                '<span class="sla sla-due-soon" title="{}">{}</span>',
                local_time(due),
                gettext("due in %(time)s") % {"time": timeuntil(due, now, depth=1)},
            )
        return lean_format_html(
            '<span class="sla" title="{}">{}</span>', local_time(due), short_time(due)
        )


def hold_of(ticket):
    """The ticket's hold, or None (a reverse one-to-one raises when there is none)."""
    try:
        return ticket.hold
    except Ticket.hold.RelatedObjectDoesNotExist:
        return None


def choice_label(choices, value) -> str:
    """What `get_<field>_display()` shows, without the dictionary of every choice it builds and
    hashes on each call (most of the queue's status column). Translated once per language."""
    key = (choices, value, get_language())
    label = _choice_labels.get(key)
    if label is None:
        try:
            label = _choice_labels[key] = str(choices(value).label)
        except ValueError:
            return value
    return label


_choice_labels: dict[tuple, str] = {}


def short_time(moment) -> str:
    """A compact time for the queue: "today 14:05", "27 Nov 14:05", or "2025-11-27"."""
    zone = timezone.get_current_timezone()
    local = moment.astimezone(zone)
    today = timezone.now().astimezone(zone).date()
    if local.date() == today:
        return gettext("today %(time)s") % {"time": local.strftime("%H:%M")}
    if local.year == today.year:
        # date_format(local, "j M H:i"), without the format's parsing on every call (it was
        # half of the first-response column).
        return f"{local.day} {str(MONTHS_3[local.month]).title()} {local:%H:%M}"
    return local.strftime("%Y-%m-%d")


def local_time(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
