"""Staff work tickets here: the queue, and a ticket page with its thread, reply form, assignment,
status moves and the cost panel.

The ticket's own fields are never edited through a model form: every change is a small form
posting to its own admin URL, which calls one `tickets.services` function. A refusal
(any `core.errors.HelpDeskError`) is shown as an error message and changes
nothing; the page is shown again with what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_filters import AccountListFilter
from catalog.models import PricingKind
from core.admin import ReadOnlyAdmin
from core.errors import HelpDeskError
from core.numbers import parse_id
from points.models import HoldStatus
from points.selectors import points_available
from points.services import InsufficientPoints

from . import services
from .admin_forms import (
    STAFF_ORDER,
    AssignForm,
    ChangeCostForm,
    LogTimeForm,
    MoveForm,
    QuoteForm,
    ReconsiderationDecisionForm,
    RemoveUrgencyForm,
    ReplyForm,
    ResolveForm,
    SoftwareBugForm,
    WaitForPointsForm,
)
from .admin_selectors import (
    QUEUE_ORDERING,
    awaiting_first_response,
    pending_reconsideration,
    sla_report,
    ticket_page,
    ticket_queue,
    waiting_for_points,
)
from .models import (
    ACTIVE_STATUSES,
    AWAITING_FIRST_RESPONSE,
    Attachment,
    Notification,
    QuoteStatus,
    ReconsiderationRequest,
    ReconsiderationStatus,
    Ticket,
    TicketOutcome,
    TicketStatus,
)
from .sla import awaits_first_response

S = TicketStatus

COST_PERMISSION = "tickets.change_ticket_cost"


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
        staff = get_user_model().objects.filter(is_staff=True, is_active=True)
        staff = staff.order_by(*STAFF_ORDER)
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


class QueueChangeList(ChangeList):
    def get_ordering_field_columns(self):
        # The default queue order (waiting for a first response, soonest due first, then by last
        # activity) is no single column: mark none rather than guess from the model's ordering.
        if ORDER_VAR not in self.params:
            return {}
        return super().get_ordering_field_columns()


# --- The admin --------------------------------------------------------------------------------


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
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
        self._now = timezone.now()
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

    @admin.display(description=_("number"), ordering="id")
    def number(self, ticket):
        return f"#{ticket.pk}"

    @admin.display(description=_("category and price"), ordering="category__name")
    def category_and_price(self, ticket):
        return format_html(
            '{} <span class="queue-price">{}</span>', ticket.category, ticket.category.price_label
        )

    @admin.display(description=_("last activity"), ordering="last_activity_at")
    def last_activity(self, ticket):
        return format_html(
            '<span title="{}">{}</span>',
            _local(ticket.last_activity_at),
            _short(ticket.last_activity_at),
        )

    @admin.display(description=_("status"), ordering="status")
    def state(self, ticket):
        # HotRush is a badge under the status rather than a column of its own: the queue fits
        # a 1280-pixel screen beside its filters.
        if ticket.is_urgent:
            return format_html(
                '{} <span class="badge badge-urgent">{}</span>',
                ticket.get_status_display(),
                gettext("HotRush"),
            )
        return ticket.get_status_display()

    @admin.display(description=_("captured"))
    def captured_points(self, ticket):
        hold = _hold_of(ticket)
        if hold is None:
            return "—"
        if hold.status == HoldStatus.OPEN:
            return hold.amount
        return format_html(
            '{} <span class="queue-muted">{}</span>',
            hold.amount if hold.status == HoldStatus.SETTLED else 0,
            hold.get_status_display(),
        )

    @admin.display(description=_("first response due"), ordering="first_response_due_at")
    def first_response(self, ticket):
        now = timezone.now()
        due = ticket.first_response_due_at
        if ticket.first_response_at is not None:
            on_time = due is None or ticket.first_response_at <= due
            return format_html(
                '<span class="sla sla-answered" title="{}">{} {}</span>',
                gettext("due %(due)s") % {"due": _local(due)} if due else "",
                gettext("answered") if on_time else gettext("answered late"),
                _short(ticket.first_response_at),
            )
        if not awaits_first_response(ticket):
            return "—"
        if due < now:
            return format_html(
                '<span class="sla sla-overdue" title="{}">{}</span>',
                _local(due),
                gettext("overdue by %(time)s") % {"time": timesince(due, now, depth=1)},
            )
        if due < now + timedelta(hours=1):
            return format_html(
                '<span class="sla sla-due-soon" title="{}">{}</span>',
                _local(due),
                gettext("due in %(time)s") % {"time": timeuntil(due, now, depth=1)},
            )
        return format_html('<span class="sla" title="{}">{}</span>', _local(due), _short(due))

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
                "<path:object_id>/reconsideration/<int:request_id>/",
                self.admin_site.admin_view(self.reconsideration_view),
                name="tickets_ticket_reconsideration",
            ),
            view(self.access_details_view, "access-details"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self._ticket_or_none(request, object_id)
        if ticket is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        return self._render_page(request, ticket)

    def _ticket_or_none(self, request, object_id) -> Ticket | None:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return self.get_object(request, unquote(object_id))

    def _render_page(self, request, ticket, *, bound=None, extra=None):
        """The ticket page; `bound` holds forms that failed, shown again with what was typed."""
        bound = bound or {}
        page = ticket_page(ticket)
        user = request.user
        hold = page.hold
        hold_open = hold is not None and hold.status == HoldStatus.OPEN
        can_cost = user.has_perm(COST_PERMISSION)
        can_change = self.has_change_permission(request, ticket)
        allowed_moves = services.MANUAL_TRANSITIONS.get(ticket.status, set())

        now = timezone.now()
        first_response_due = ticket.first_response_due_at if awaits_first_response(ticket) else None

        def form(name, form_class, **kwargs):
            return bound.get(name) or form_class(prefix=name, **kwargs)

        cost_actions = []
        resolvable = False
        if can_cost:
            if hold_open:
                cost_actions.append(
                    (
                        "change-cost",
                        _("Change cost"),
                        form("cost", ChangeCostForm, ticket=ticket),
                        False,
                    )
                )
            if ticket.status == S.AWAITING_QUOTE:
                cost_actions.append(("quote", _("Set a quote"), form("quote", QuoteForm), False))
            if ticket.category.pricing_kind == PricingKind.HOURLY and hold_open:
                cost_actions.append(("log-time", _("Log time"), form("time", LogTimeForm), False))
            if ticket.is_urgent and ticket.status in ACTIVE_STATUSES:
                cost_actions.append(
                    (
                        "remove-urgency",
                        _("Remove HotRush"),
                        form("urgency", RemoveUrgencyForm),
                        False,
                    )
                )
            # The service refuses to resolve while a reconsideration waits for its decision;
            # the page says so beside the decision form instead of offering the action.
            resolvable = ticket.status in (S.OPEN, S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER) and hold
            if resolvable and not page.pending_reconsiderations:
                cost_actions.append(("resolve", _("Resolve"), form("resolve", ResolveForm), False))
            if (
                ticket.status not in (S.CANCELLED, S.AWAITING_QUOTE)
                and ticket.outcome != TicketOutcome.SOFTWARE_BUG
            ):
                cost_actions.append(
                    (
                        "software-bug",
                        _("Mark as software bug"),
                        form("bug", SoftwareBugForm),
                        True,
                    )
                )
        # A bound form that failed is shown open.
        cost_actions = [
            {
                "url": reverse(f"admin:tickets_ticket_{name.replace('-', '_')}", args=[ticket.pk]),
                "label": label,
                "form": action_form,
                "open": action_form.is_bound,
                "danger": danger,
            }
            for name, label, action_form, danger in cost_actions
        ]
        reconsideration_forms = [
            {
                "request": request_row,
                "form": form(f"reconsider-{request_row.pk}", ReconsiderationDecisionForm),
                "url": reverse(
                    "admin:tickets_ticket_reconsideration", args=[ticket.pk, request_row.pk]
                ),
            }
            for request_row in page.pending_reconsiderations
            if can_cost
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": ticket,
            "ticket": ticket,
            "title": f"#{ticket.pk} {ticket.subject}",
            "has_view_permission": True,
            "is_nav_sidebar_enabled": False,
            "page": page,
            "hold": hold,
            "available": points_available(account=ticket.account),
            "now": now,
            "first_response_due": first_response_due,
            "overdue": first_response_due is not None and first_response_due < now,
            "reply_form": (
                form("reply", ReplyForm) if user.has_perm("tickets.add_message") else None
            ),
            "assign_form": (
                form("assign", AssignForm, initial={"assignee": ticket.assignee_id})
                if can_change
                else None
            ),
            "move_form": (
                form("move", MoveForm, ticket=ticket) if can_change and allowed_moves else None
            ),
            "cost_actions": cost_actions,
            "reconsideration_forms": reconsideration_forms,
            "resolve_waits_for_decision": bool(
                can_cost and resolvable and page.pending_reconsiderations
            ),
            "can_reveal": user.has_perm("tickets.view_access_details"),
            "is_hourly": ticket.category.pricing_kind == PricingKind.HOURLY,
            "pending_quote": next(
                (quote for quote in page.quotes if quote.status == QuoteStatus.PENDING), None
            ),
            **(extra or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)

    def _action(
        self,
        request,
        object_id,
        *,
        name: str,
        form_class,
        perform: Callable,
        permission: str = COST_PERMISSION,
        form_kwargs: Callable[[Ticket], dict] | None = None,
    ):
        """Run one staff action: POST only, permission checked, form validated, service called.

        `perform(ticket, form)` returns the success message; on a refusal the page is shown again
        with the error and the form as typed.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(permission):
            raise PermissionDenied
        ticket = self._ticket_or_none(request, object_id)
        if ticket is None:
            raise Http404
        kwargs = form_kwargs(ticket) if form_kwargs else {}
        form = form_class(request.POST, request.FILES, prefix=name, **kwargs)
        extra = {}
        if form.is_valid():
            try:
                message = perform(ticket, form)
            except InsufficientPoints as error:
                messages.error(request, str(error))
                extra["shortfall"] = self._shortfall(ticket, error, form)
            except HelpDeskError as error:
                messages.error(request, str(error))
            else:
                self.log_change(request, ticket, str(message))
                messages.success(request, message)
                return HttpResponseRedirect(
                    reverse("admin:tickets_ticket_change", args=[ticket.pk])
                )
        else:
            messages.error(request, gettext("Please correct the errors below."))
        ticket.refresh_from_db()
        return self._render_page(request, ticket, bound={name: form}, extra=extra)

    def _shortfall(self, ticket, error: InsufficientPoints, form):
        """What to offer after an increase was refused: ask the customer to buy the difference."""
        hold = _hold_of(ticket)
        held = hold.amount if hold is not None else 0
        reason = form.cleaned_data.get("reason") or form.cleaned_data.get("note") or ""
        points = held + error.required
        return {
            "missing": error.missing,
            "points": points,
            "form": WaitForPointsForm(prefix="wait", initial={"points": points, "reason": reason}),
        }

    def reply_view(self, request, object_id):
        def perform(ticket, form):
            services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
                internal=form.is_internal,
            )
            if form.is_internal:
                return gettext("Internal note added.")
            return gettext("Reply sent to the customer.")

        return self._action(
            request,
            object_id,
            name="reply",
            form_class=ReplyForm,
            perform=perform,
            permission="tickets.add_message",
        )

    def assign_view(self, request, object_id):
        def perform(ticket, form):
            assignee = form.cleaned_data["assignee"]
            services.ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)
            if assignee is None:
                return gettext("The ticket is now unassigned.")
            return gettext("Assigned to %(user)s.") % {"user": assignee}

        return self._action(
            request,
            object_id,
            name="assign",
            form_class=AssignForm,
            perform=perform,
            permission="tickets.change_ticket",
        )

    def move_view(self, request, object_id):
        def perform(ticket, form):
            ticket = services.ticket_move_manually(
                ticket=ticket, to_status=form.cleaned_data["to_status"], actor=request.user
            )
            return gettext("Status set to %(status)s.") % {"status": ticket.get_status_display()}

        return self._action(
            request,
            object_id,
            name="move",
            form_class=MoveForm,
            perform=perform,
            permission="tickets.change_ticket",
            form_kwargs=lambda ticket: {"ticket": ticket},
        )

    def change_cost_view(self, request, object_id):
        def perform(ticket, form):
            change = services.ticket_change_cost(
                ticket=ticket,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                override=form.cleaned_data.get("override", False),
                actor=request.user,
            )
            return gettext("Cost changed from %(old)s to %(new)s points.") % {
                "old": change.old_points,
                "new": change.new_points,
            }

        return self._action(
            request,
            object_id,
            name="cost",
            form_class=ChangeCostForm,
            perform=perform,
            form_kwargs=lambda ticket: {"ticket": ticket},
        )

    def wait_for_points_view(self, request, object_id):
        def perform(ticket, form):
            missing = services.ticket_wait_for_points(
                ticket=ticket,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
            return gettext(
                "The customer was asked to buy %(missing)s points; the ticket waits for them."
            ) % {"missing": missing}

        return self._action(
            request, object_id, name="wait", form_class=WaitForPointsForm, perform=perform
        )

    def quote_view(self, request, object_id):
        def perform(ticket, form):
            quote = services.ticket_set_quote(
                ticket=ticket,
                points=form.cleaned_data["points"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
            return gettext(
                "Quote of %(points)s points sent; the customer accepts or declines it."
            ) % {"points": quote.points}

        return self._action(request, object_id, name="quote", form_class=QuoteForm, perform=perform)

    def log_time_view(self, request, object_id):
        def perform(ticket, form):
            services.ticket_log_time(
                ticket=ticket,
                minutes=form.cleaned_data["minutes"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
            cost = ticket.cost_changes.order_by("-created_at", "-id").first()
            return gettext("%(minutes)s minutes logged; the cost is now %(points)s points.") % {
                "minutes": form.cleaned_data["minutes"],
                "points": cost.new_points,
            }

        return self._action(
            request, object_id, name="time", form_class=LogTimeForm, perform=perform
        )

    def resolve_view(self, request, object_id):
        def perform(ticket, form):
            services.ticket_resolve(
                ticket=ticket, actor=request.user, reason=form.cleaned_data["reason"]
            )
            hold = _hold_of(Ticket.objects.select_related("hold").get(pk=ticket.pk))
            return gettext("Ticket resolved; %(points)s points deducted.") % {
                "points": hold.amount if hold is not None else 0
            }

        return self._action(
            request, object_id, name="resolve", form_class=ResolveForm, perform=perform
        )

    def software_bug_view(self, request, object_id):
        def perform(ticket, form):
            hold = _hold_of(ticket)
            returned = hold.amount if hold is not None else 0
            services.ticket_mark_software_bug(
                ticket=ticket, actor=request.user, reason=form.cleaned_data["reason"]
            )
            return gettext(
                "Marked as a software bug; %(points)s points returned to the customer."
            ) % {"points": returned}

        return self._action(
            request, object_id, name="bug", form_class=SoftwareBugForm, perform=perform
        )

    def remove_urgency_view(self, request, object_id):
        def perform(ticket, form):
            services.ticket_remove_urgency(
                ticket=ticket, actor=request.user, reason=form.cleaned_data["reason"]
            )
            return gettext("HotRush removed; its surcharge was returned.")

        return self._action(
            request, object_id, name="urgency", form_class=RemoveUrgencyForm, perform=perform
        )

    def reconsideration_view(self, request, object_id, request_id):
        def perform(ticket, form):
            reconsideration = get_object_or_404(
                ReconsiderationRequest, pk=request_id, ticket=ticket
            )
            lower = form.cleaned_data["decision"] == ReconsiderationDecisionForm.LOWER
            decided = services.ticket_decide_reconsideration(
                request=reconsideration,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                new_points=form.cleaned_data["new_points"] if lower else None,
            )
            if decided.status == ReconsiderationStatus.LOWERED:
                return gettext("Cost lowered to %(points)s points.") % {
                    "points": form.cleaned_data["new_points"]
                }
            return gettext("Reconsideration declined; the cost stays.")

        return self._action(
            request,
            object_id,
            name=f"reconsider-{request_id}",
            form_class=ReconsiderationDecisionForm,
            perform=perform,
        )

    def access_details_view(self, request, object_id):
        """Decrypt the access details for this response only; the view is recorded.

        Admin views are never cached (admin_view adds the headers), so the secret stays here.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("tickets.view_access_details"):
            raise PermissionDenied
        ticket = self._ticket_or_none(request, object_id)
        if ticket is None:
            raise Http404
        try:
            details = services.access_details_reveal(ticket=ticket, viewer=request.user)
        except services.TicketError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
        if details is None:
            messages.error(request, gettext("This ticket has no access details."))
            return HttpResponseRedirect(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
        self.log_change(request, ticket, gettext("Viewed the access details."))
        return self._render_page(request, ticket, extra={"revealed": details})

    def attachment_view(self, request, object_id, attachment_id):
        ticket = self._ticket_or_none(request, object_id)
        if ticket is None:
            raise Http404
        attachment = get_object_or_404(Attachment, pk=attachment_id, message__ticket=ticket)
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type or "application/octet-stream",
        )

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


def _hold_of(ticket):
    """The ticket's hold, or None (a reverse one-to-one raises when there is none)."""
    try:
        return ticket.hold
    except Ticket.hold.RelatedObjectDoesNotExist:
        return None


def _hours_minutes(duration: timedelta | None) -> str:
    """The duration as "3 h 05 min" (to the minute), or "" for None."""
    if duration is None:
        return ""
    minutes = round(duration.total_seconds() / 60)
    return gettext("%(hours)d h %(minutes)02d min") % {
        "hours": minutes // 60,
        "minutes": minutes % 60,
    }


def _short(moment) -> str:
    """A compact time for the queue: "today 14:05", "27 Nov 14:05", or "2025-11-27"."""
    local = timezone.localtime(moment)
    today = timezone.localdate()
    if local.date() == today:
        return gettext("today %(time)s") % {"time": local.strftime("%H:%M")}
    if local.year == today.year:
        return date_format(local, "j M H:i")
    return local.strftime("%Y-%m-%d")


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The e-mail outbox, to see what was sent to whom and what failed (sending is automatic)."""

    list_display = ["event", "account", "ticket", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["event", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["account", "ticket"]
    search_fields = ["account__name", "=ticket__id"]
    date_hierarchy = "created_at"
