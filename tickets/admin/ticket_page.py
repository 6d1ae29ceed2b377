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
    ResolveForm,
    SoftwareBugForm,
    StaffReplyForm,
)
from ..admin_selectors import staff_ticket_page
from ..errors import ReconsiderationPending
from ..models import Attachment, QuoteStatus, Ticket
from ..policies import STAFF_PERMISSIONS, Action, ticket_policy
from ..sla import awaits_first_response

# The cost panel's actions, in the order shown: the action, its URL (see `actions`), its form's
# prefix and label, the form, and whether it is shown as dangerous.
COST_PANEL = [
    (Action.CHANGE_COST, "change_cost", "cost", _("Change cost"), ChangeCostForm, False),
    (Action.QUOTE, "quote", "quote", _("Set a quote"), QuoteForm, False),
    (Action.LOG_TIME, "log_time", "time", _("Log time"), LogTimeForm, False),
    (
        Action.REMOVE_URGENCY,
        "remove_urgency",
        "urgency",
        _("Remove HotRush"),
        RemoveUrgencyForm,
        False,
    ),
    (Action.RESOLVE, "resolve", "resolve", _("Resolve"), ResolveForm, False),
    (
        Action.MARK_SOFTWARE_BUG,
        "software_bug",
        "bug",
        _("Mark as software bug"),
        SoftwareBugForm,
        True,
    ),
]


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
        """The ticket page; `bound` holds forms that failed, shown again with what was typed.

        It offers what the ticket's policy allows and the staff member's permissions let them do.
        """
        bound = bound or {}
        page = staff_ticket_page(ticket)
        user = request.user
        hold = page.hold
        now = timezone.now()
        policy = ticket_policy(ticket, user=user, at=now, facts=page.facts)
        first_response_due = ticket.first_response_due_at if awaits_first_response(ticket) else None

        def may(action: Action) -> bool:
            return user.has_perm(STAFF_PERMISSIONS[action]) and policy.allows(action)

        def form(name, form_class, **kwargs):
            return bound.get(name) or form_class(prefix=name, **kwargs)

        cost_actions = []
        for action, url_name, prefix, label, form_class, danger in COST_PANEL:
            if may(action):
                kwargs = {"ticket": ticket} if form_class is ChangeCostForm else {}
                action_form = form(prefix, form_class, **kwargs)
                cost_actions.append(
                    {
                        "url": reverse(f"admin:tickets_ticket_{url_name}", args=[ticket.pk]),
                        "label": label,
                        "form": action_form,
                        # A bound form that failed is shown open.
                        "open": action_form.is_bound,
                        "danger": danger,
                    }
                )
        reconsideration_forms = [
            {
                "reconsideration": reconsideration,
                "form": form(f"reconsider-{reconsideration.pk}", ReconsiderationDecisionForm),
                "url": reverse(
                    "admin:tickets_ticket_reconsideration", args=[ticket.pk, reconsideration.pk]
                ),
            }
            for reconsideration in page.pending_reconsiderations
            if may(Action.DECIDE_RECONSIDERATION)
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
                form("reply", StaffReplyForm) if may(Action.REPLY) or may(Action.ADD_NOTE) else None
            ),
            "assign_form": (
                form("assign", AssignForm, initial={"assignee": ticket.assignee_id})
                if may(Action.ASSIGN)
                else None
            ),
            "move_form": form("move", MoveForm, ticket=ticket) if may(Action.MOVE) else None,
            "cost_actions": cost_actions,
            "reconsideration_forms": reconsideration_forms,
            # Resolving waits for the decision: the page says so beside the decision form
            # instead of offering the action.
            "resolve_waits_for_decision": (
                user.has_perm(STAFF_PERMISSIONS[Action.RESOLVE])
                and isinstance(policy.refusal(Action.RESOLVE), ReconsiderationPending)
            ),
            "can_reveal": may(Action.REVEAL_ACCESS_DETAILS),
            "is_hourly": ticket.category.pricing.logs_time,
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
        if not request.user.has_perm(STAFF_PERMISSIONS[Action.REVEAL_ACCESS_DETAILS]):
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
