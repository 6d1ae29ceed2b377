"""Which actions a ticket allows now, and for whom: the one place that decides it.

The services check the policy once they hold the ticket's lock (`TicketPolicy.check` raises the
refusal, a `TicketError` with a stable code); the customer's ticket page and the admin ticket page
show the buttons and forms it allows. The status moves are the tables of `tickets.transitions`.

The policy reads the ticket's own fields and a few facts about the rows beside it
(`TicketFacts`), loaded with the ticket in the same query (`with_facts`) or on their own
(`load_facts`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from points.models import Hold, HoldStatus

from .errors import ReconsiderationPending, TicketError, TransitionNotAllowed
from .models import (
    ACTIVE_STATUSES,
    Quote,
    QuoteStatus,
    Rating,
    ReconsiderationRequest,
    ReconsiderationStatus,
    Ticket,
    TicketOutcome,
    TicketStatus,
)
from .transitions import MANUAL_TRANSITIONS

S = TicketStatus


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


def role_of(user: AbstractUser) -> Role:
    return Role.STAFF if user.is_staff else Role.CUSTOMER


class Action(StrEnum):
    # The customer's reply (it reopens a resolved ticket within the window), or staff's public one.
    REPLY = "reply"
    ADD_NOTE = "add_note"
    CANCEL = "cancel"
    REMOVE_URGENCY = "remove_urgency"
    ACCEPT_QUOTE = "accept_quote"
    DECLINE_QUOTE = "decline_quote"
    ASK_RECONSIDERATION = "ask_reconsideration"
    RATE = "rate"
    GIVE_ACCESS_DETAILS = "give_access_details"
    REVEAL_ACCESS_DETAILS = "reveal_access_details"
    ASSIGN = "assign"
    MOVE = "move"
    CHANGE_COST = "change_cost"
    WAIT_FOR_POINTS = "wait_for_points"
    QUOTE = "quote"
    LOG_TIME = "log_time"
    RESOLVE = "resolve"
    MARK_SOFTWARE_BUG = "mark_software_bug"
    DECIDE_RECONSIDERATION = "decide_reconsideration"


# The Django permission a staff member needs for each staff action (the admin checks it).
COST_PERMISSION = "tickets.change_ticket_cost"
STAFF_PERMISSIONS: dict[Action, str] = {
    Action.REPLY: "tickets.add_message",
    Action.ADD_NOTE: "tickets.add_message",
    Action.REMOVE_URGENCY: COST_PERMISSION,
    Action.REVEAL_ACCESS_DETAILS: "tickets.view_access_details",
    Action.ASSIGN: "tickets.change_ticket",
    Action.MOVE: "tickets.change_ticket",
    Action.CHANGE_COST: COST_PERMISSION,
    Action.WAIT_FOR_POINTS: COST_PERMISSION,
    Action.QUOTE: COST_PERMISSION,
    Action.LOG_TIME: COST_PERMISSION,
    Action.RESOLVE: COST_PERMISSION,
    Action.MARK_SOFTWARE_BUG: COST_PERMISSION,
    Action.DECIDE_RECONSIDERATION: COST_PERMISSION,
}


@dataclass(frozen=True)
class TicketFacts:
    """What the rules read besides the ticket's own fields."""

    hold_amount: int | None = None
    hold_status: str | None = None
    pending_quote: bool = False
    pending_reconsideration: bool = False
    rated: bool = False

    @classmethod
    def of(cls, ticket: Ticket) -> TicketFacts:
        """The facts of a ticket loaded through `with_facts`."""
        return cls(
            hold_amount=ticket.facts_hold_amount,
            hold_status=ticket.facts_hold_status,
            pending_quote=ticket.facts_pending_quote,
            pending_reconsideration=ticket.facts_pending_reconsideration,
            rated=ticket.facts_rated,
        )

    @classmethod
    def of_rows(
        cls,
        *,
        hold: Hold | None,
        quotes: list[Quote],
        reconsiderations: list[ReconsiderationRequest],
        rated: bool,
    ) -> TicketFacts:
        """The facts of a ticket from rows a page lists anyway: its hold (or None), all its quotes
        and reconsideration requests, and whether it is rated (what `with_facts` reads in SQL)."""
        return cls(
            hold_amount=hold.amount if hold else None,
            hold_status=hold.status if hold else None,
            pending_quote=any(quote.status == QuoteStatus.PENDING for quote in quotes),
            pending_reconsideration=any(
                request.status == ReconsiderationStatus.PENDING for request in reconsiderations
            ),
            rated=rated,
        )

    @property
    def hold_open(self) -> bool:
        return self.hold_status == HoldStatus.OPEN


def with_facts(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The tickets with their `TicketFacts`, read in the same query."""
    ticket = OuterRef("pk")
    hold = Hold.objects.filter(ticket=ticket)
    return tickets.annotate(
        facts_hold_amount=Subquery(hold.values("amount")[:1]),
        facts_hold_status=Subquery(hold.values("status")[:1]),
        facts_pending_quote=Exists(Quote.objects.filter(ticket=ticket, status=QuoteStatus.PENDING)),
        facts_pending_reconsideration=Exists(
            ReconsiderationRequest.objects.filter(
                ticket=ticket, status=ReconsiderationStatus.PENDING
            )
        ),
        facts_rated=Exists(Rating.objects.filter(ticket=ticket)),
    )


def load_facts(ticket: Ticket) -> TicketFacts:
    """The facts of a ticket loaded without them (one query)."""
    return TicketFacts.of(with_facts(Ticket.objects.filter(pk=ticket.pk)).get())


def reopen_until(ticket: Ticket) -> datetime | None:
    """Until when a customer's reply reopens the ticket: HELPDESK_REOPEN_DAYS after it was
    resolved; None unless it is resolved."""
    if ticket.status != S.RESOLVED or ticket.resolved_at is None:
        return None
    return ticket.resolved_at + timedelta(days=settings.HELPDESK_REOPEN_DAYS)


# The refusals the services also raise after the policy's check (see their callers).


def already_rated() -> TicketError:
    return TicketError(_("This ticket has already been rated."), code="already_rated")


def reconsideration_decided() -> TicketError:
    """The refusal to decide a reconsideration request that is no longer waiting."""
    return TicketError(_("This request was already decided."), code="reconsideration_decided")


# --- The rules --------------------------------------------------------------------------------
# One function per action (and role, where the roles' rules differ): the first refusal that
# applies, or None when the action is allowed.

Rule = Callable[["TicketPolicy"], TicketError | None]


def _not_active(ticket: Ticket, message: str) -> TicketError | None:
    if ticket.status not in ACTIVE_STATUSES:
        return TicketError(message, code="ticket_not_active")
    return None


def _no_open_hold(policy: TicketPolicy) -> TicketError | None:
    if not policy.facts.hold_open:
        return TicketError(
            _("No points are captured for this ticket; its cost can't change now."),
            code="no_points_captured",
        )
    return None


def _ended(ticket: Ticket) -> TicketError | None:
    if ticket.status in (S.CLOSED, S.CANCELLED):
        return TicketError(
            _("This ticket is %(status)s. Please file a new ticket.")
            % {"status": S(ticket.status).label},
            code="ticket_ended",
        )
    return None


def _customer_reply(policy: TicketPolicy) -> TicketError | None:
    ticket = policy.ticket
    if ticket.status == S.RESOLVED:
        until = reopen_until(ticket)
        if until is None or policy.at > until:
            return TicketError(
                _(
                    "This ticket was resolved more than %(days)s days ago and can no longer be "
                    "reopened. Please file a new ticket."
                )
                % {"days": settings.HELPDESK_REOPEN_DAYS},
                code="reopen_window_passed",
            )
        return None
    return _ended(ticket)


def _staff_reply(policy: TicketPolicy) -> TicketError | None:
    return _ended(policy.ticket)


def _cancel(policy: TicketPolicy) -> TicketError | None:
    if policy.ticket.first_response_at is not None:
        return TicketError(
            _("Support has already answered this ticket; it can't be cancelled."),
            code="already_answered",
        )
    return _not_active(policy.ticket, _("Only a ticket in progress can be cancelled."))


def _remove_urgency(policy: TicketPolicy) -> TicketError | None:
    ticket = policy.ticket
    if not ticket.is_urgent:
        return TicketError(_("This ticket is not HotRush (urgent)."), code="not_urgent")
    return _not_active(ticket, _("HotRush can only be removed while the ticket is in progress."))


def _customer_remove_urgency(policy: TicketPolicy) -> TicketError | None:
    if policy.ticket.assignee_id is not None:
        return TicketError(
            _("The ticket is already assigned; ask support to remove HotRush."),
            code="ticket_assigned",
        )
    return _remove_urgency(policy)


def _answer_quote(policy: TicketPolicy) -> TicketError | None:
    if not policy.facts.pending_quote or policy.ticket.status != S.AWAITING_QUOTE:
        return TicketError(_("There is no quote waiting for your answer."), code="no_pending_quote")
    return None


def _ask_reconsideration(policy: TicketPolicy) -> TicketError | None:
    facts = policy.facts
    if not facts.hold_amount or facts.hold_status not in (HoldStatus.OPEN, HoldStatus.SETTLED):
        return TicketError(
            _("This ticket has no cost to reconsider."), code="nothing_to_reconsider"
        )
    if facts.pending_reconsideration:
        return ReconsiderationPending(_("Your earlier request is still waiting for a decision."))
    return None


def _rate(policy: TicketPolicy) -> TicketError | None:
    if policy.ticket.status not in (S.RESOLVED, S.CLOSED):
        return TicketError(
            _("A ticket can be rated once it is resolved."), code="ticket_not_resolved"
        )
    if policy.facts.rated:
        return already_rated()
    return None


def _give_access_details(policy: TicketPolicy) -> TicketError | None:
    return _not_active(
        policy.ticket, _("Access details can only be given while the ticket is in progress.")
    )


def _move(policy: TicketPolicy) -> TicketError | None:
    if not MANUAL_TRANSITIONS[policy.ticket.status]:
        return TransitionNotAllowed(
            _("A ticket that is %(status)s can't be moved by hand.")
            % {"status": S(policy.ticket.status).label}
        )
    return None


def _quote(policy: TicketPolicy) -> TicketError | None:
    if policy.ticket.status != S.AWAITING_QUOTE:
        return TicketError(
            _("Only a ticket waiting for a quote can be quoted."), code="not_awaiting_quote"
        )
    return None


def _log_time(policy: TicketPolicy) -> TicketError | None:
    if not policy.ticket.category.pricing.logs_time:
        return TicketError(_("Time is logged only on hourly categories."), code="not_hourly")
    return _no_open_hold(policy)


def _resolve(policy: TicketPolicy) -> TicketError | None:
    ticket = policy.ticket
    if ticket.status not in (S.OPEN, S.IN_PROGRESS, S.WAITING_FOR_CUSTOMER):
        return TransitionNotAllowed(
            _("A ticket that is %(status)s cannot be resolved.")
            % {"status": S(ticket.status).label}
        )
    # Deducting would settle the cost the customer disputes, and the request would stay
    # "waiting" on both sides.
    if policy.facts.pending_reconsideration:
        return ReconsiderationPending(
            _(
                "The customer asked to reconsider the cost: lower it or decline the request "
                "before resolving the ticket."
            )
        )
    if policy.facts.hold_status is None:
        return TicketError(
            _("Set a quote and have it accepted before resolving this ticket."),
            code="no_accepted_quote",
        )
    return None


def _mark_software_bug(policy: TicketPolicy) -> TicketError | None:
    ticket = policy.ticket
    if ticket.status in (S.CANCELLED, S.AWAITING_QUOTE):
        return TicketError(_("No points were taken for this ticket."), code="no_points_taken")
    if ticket.outcome == TicketOutcome.SOFTWARE_BUG:
        return TicketError(
            _("This ticket is already marked as a software bug."), code="already_software_bug"
        )
    return None


def _decide_reconsideration(policy: TicketPolicy) -> TicketError | None:
    if not policy.facts.pending_reconsideration:
        return reconsideration_decided()
    return None


def _always(policy: TicketPolicy) -> None:
    return None


RULES: dict[Role, dict[Action, Rule]] = {
    Role.CUSTOMER: {
        Action.REPLY: _customer_reply,
        Action.CANCEL: _cancel,
        Action.REMOVE_URGENCY: _customer_remove_urgency,
        Action.ACCEPT_QUOTE: _answer_quote,
        Action.DECLINE_QUOTE: _answer_quote,
        Action.ASK_RECONSIDERATION: _ask_reconsideration,
        Action.RATE: _rate,
        Action.GIVE_ACCESS_DETAILS: _give_access_details,
    },
    Role.STAFF: {
        Action.REPLY: _staff_reply,
        Action.ADD_NOTE: _always,
        Action.REMOVE_URGENCY: _remove_urgency,
        Action.REVEAL_ACCESS_DETAILS: _always,
        Action.ASSIGN: _always,
        Action.MOVE: _move,
        Action.CHANGE_COST: _no_open_hold,
        Action.WAIT_FOR_POINTS: _no_open_hold,
        Action.QUOTE: _quote,
        Action.LOG_TIME: _log_time,
        Action.RESOLVE: _resolve,
        Action.MARK_SOFTWARE_BUG: _mark_software_bug,
        Action.DECIDE_RECONSIDERATION: _decide_reconsideration,
    },
}


def _not_for_role(role: Role, action: Action) -> TicketError:
    if role == Role.STAFF:
        return TicketError(_("Only the customer can do this."), code="customer_only")
    if action == Action.ADD_NOTE:
        return TicketError(_("Only staff can write internal notes."), code="staff_only")
    if action == Action.REVEAL_ACCESS_DETAILS:
        return TicketError(_("Only staff can see access details."), code="staff_only")
    return TicketError(_("Only support staff can do this."), code="staff_only")


# --- The policy -------------------------------------------------------------------------------


class TicketPolicy:
    """What `role` may do with `ticket` at `at`."""

    def __init__(
        self, ticket: Ticket, *, facts: TicketFacts, role: Role, at: datetime | None = None
    ):
        self.ticket = ticket
        self.facts = facts
        self.role = role
        self.at = at or timezone.now()

    def refusal(self, action: Action) -> TicketError | None:
        """Why `action` is refused now, or None when it is allowed."""
        rule = RULES[self.role].get(action)
        if rule is None:
            return _not_for_role(self.role, action)
        return rule(self)

    def allows(self, action: Action) -> bool:
        return self.refusal(action) is None

    def check(self, action: Action) -> None:
        """Raise the refusal of `action`, if any."""
        refusal = self.refusal(action)
        if refusal is not None:
            raise refusal

    def check_manual_move(self, to_status: str) -> None:
        """Raise the refusal of moving the ticket to `to_status` by hand, if any."""
        if Action.MOVE not in RULES[self.role]:
            raise _not_for_role(self.role, Action.MOVE)
        if to_status not in MANUAL_TRANSITIONS[self.ticket.status]:
            raise TransitionNotAllowed(
                _("A ticket that is %(from)s cannot be set to %(to)s by hand.")
                % {"from": S(self.ticket.status).label, "to": S(to_status).label}
            )

    @property
    def allowed(self) -> dict[str, bool]:
        """Each action by name, allowed or not (for templates: `{% if actions.cancel %}`)."""
        return {action.value: self.allows(action) for action in Action}

    @property
    def reopen_until(self) -> datetime | None:
        return reopen_until(self.ticket)


def ticket_policy(
    ticket: Ticket,
    *,
    user: AbstractUser,
    at: datetime | None = None,
    facts: TicketFacts | None = None,
) -> TicketPolicy:
    """The policy for `user` on the ticket: its `facts`, or those it was loaded with
    (`with_facts`)."""
    facts = facts or TicketFacts.of(ticket)
    return TicketPolicy(ticket, facts=facts, role=role_of(user), at=at)
