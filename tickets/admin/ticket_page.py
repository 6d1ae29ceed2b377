"""The admin ticket page: the thread, the history, and one small form per staff action (each
posting to its own URL, see `actions`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import PricingKind
from points.models import HoldStatus
from points.selectors import points_available

from .. import services
from ..admin_forms import (
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
)
from ..admin_selectors import ticket_page
from ..models import ACTIVE_STATUSES, Attachment, QuoteStatus, Ticket, TicketOutcome, TicketStatus
from ..sla import awaits_first_response
from .actions import COST_PERMISSION

S = TicketStatus


class TicketPageViews:
    """The ticket page (`change_view`), the access details it reveals and its attachments."""

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
