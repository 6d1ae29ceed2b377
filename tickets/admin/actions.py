"""The staff actions of the ticket page. Each is a small form posting to its own admin URL, which
calls one `tickets.services` function. A refusal (any `core.errors.HelpDeskError`) is shown as an
error message and changes nothing; the page is shown again with what was typed."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext

from core.errors import HelpDeskError
from points.services import InsufficientPoints

from .. import services
from ..admin_forms import (
    AssignForm,
    ChangeCostForm,
    LogTimeForm,
    MoveForm,
    QuoteForm,
    ReconsiderationDecisionForm,
    RemoveUrgencyForm,
    ResolveForm,
    SoftwareBugForm,
    StaffReplyForm,
    WaitForPointsForm,
)
from ..models import ReconsiderationRequest, ReconsiderationStatus, Ticket
from ..policies import STAFF_PERMISSIONS, Action
from .queue import hold_of


class TicketActionViews:
    """One admin URL per staff action, each calling one `tickets.services` function."""

    def _action(
        self,
        request,
        object_id,
        *,
        name: str,
        form_class,
        perform: Callable,
        action: Action,
        form_kwargs: Callable[[Ticket], dict] | None = None,
    ):
        """Run one staff action: POST only, the action's permission checked, form validated,
        service called (which checks the ticket's policy).

        `perform(ticket, form)` returns the success message; on a refusal the page is shown again
        with the error and the form as typed.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(STAFF_PERMISSIONS[action]):
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
        ticket = self._ticket_or_none(request, object_id)
        return self._render_page(request, ticket, bound={name: form}, extra=extra)

    def _shortfall(self, ticket, error: InsufficientPoints, form):
        """What to offer after an increase was refused: ask the customer to buy the difference."""
        hold = hold_of(ticket)
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
            form_class=StaffReplyForm,
            perform=perform,
            action=Action.REPLY,
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
            action=Action.ASSIGN,
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
            action=Action.MOVE,
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
            action=Action.CHANGE_COST,
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
            request,
            object_id,
            name="wait",
            form_class=WaitForPointsForm,
            perform=perform,
            action=Action.WAIT_FOR_POINTS,
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

        return self._action(
            request,
            object_id,
            name="quote",
            form_class=QuoteForm,
            perform=perform,
            action=Action.QUOTE,
        )

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
            request,
            object_id,
            name="time",
            form_class=LogTimeForm,
            perform=perform,
            action=Action.LOG_TIME,
        )

    def resolve_view(self, request, object_id):
        def perform(ticket, form):
            services.ticket_resolve(
                ticket=ticket, actor=request.user, reason=form.cleaned_data["reason"]
            )
            hold = hold_of(Ticket.objects.select_related("hold").get(pk=ticket.pk))
            return gettext("Ticket resolved; %(points)s points deducted.") % {
                "points": hold.amount if hold is not None else 0
            }

        return self._action(
            request,
            object_id,
            name="resolve",
            form_class=ResolveForm,
            perform=perform,
            action=Action.RESOLVE,
        )

    def software_bug_view(self, request, object_id):
        def perform(ticket, form):
            hold = hold_of(ticket)
            returned = hold.amount if hold is not None else 0
            services.ticket_mark_software_bug(
                ticket=ticket, actor=request.user, reason=form.cleaned_data["reason"]
            )
            return gettext(
                "Marked as a software bug; %(points)s points returned to the customer."
            ) % {"points": returned}

        return self._action(
            request,
            object_id,
            name="bug",
            form_class=SoftwareBugForm,
            perform=perform,
            action=Action.MARK_SOFTWARE_BUG,
        )

    def remove_urgency_view(self, request, object_id):
        def perform(ticket, form):
            services.ticket_remove_urgency(
                ticket=ticket, actor=request.user, reason=form.cleaned_data["reason"]
            )
            return gettext("HotRush removed; its surcharge was returned.")

        return self._action(
            request,
            object_id,
            name="urgency",
            form_class=RemoveUrgencyForm,
            perform=perform,
            action=Action.REMOVE_URGENCY,
        )

    def reconsideration_view(self, request, object_id, reconsideration_id):
        def perform(ticket, form):
            reconsideration = get_object_or_404(
                ReconsiderationRequest, pk=reconsideration_id, ticket=ticket
            )
            lower = form.cleaned_data["decision"] == ReconsiderationDecisionForm.LOWER
            decided = services.ticket_decide_reconsideration(
                reconsideration=reconsideration,
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
            name=f"reconsider-{reconsideration_id}",
            form_class=ReconsiderationDecisionForm,
            perform=perform,
            action=Action.DECIDE_RECONSIDERATION,
        )
