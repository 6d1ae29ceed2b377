"""Reads for the staff side in the admin: the queue, the dashboard, one ticket's page and the SLA
report.

Each returns what its page shows with a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.utils import timezone

from points.models import Hold

from .models import (
    ACTIVE_STATUSES,
    AWAITING_FIRST_RESPONSE,
    AccessDetails,
    AccessDetailsView,
    Attachment,
    CostChange,
    Message,
    Quote,
    ReconsiderationRequest,
    ReconsiderationStatus,
    StatusChange,
    Ticket,
    TicketStatus,
    TimeLog,
)
from .policies import TicketFacts

if TYPE_CHECKING:
    from helpdesk.models import User

DUE_SOON = timedelta(hours=1)


def awaiting_first_response(*, at: datetime | None = None, state: str) -> Q:
    """Tickets waiting for a first response that are "overdue" or "due_soon" (within an hour)."""
    at = at or timezone.now()
    if state == "overdue":
        return AWAITING_FIRST_RESPONSE & Q(first_response_due_at__lt=at)
    if state == "due_soon":
        return AWAITING_FIRST_RESPONSE & Q(
            first_response_due_at__gte=at, first_response_due_at__lt=at + DUE_SOON
        )
    raise ValueError(state)


def ticket_queue(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The staff queue: with what its rows show (one query per page) and its default order keys.

    `queue_rank` 0 is a ticket still waiting for its first response, ordered by `queue_due`
    (overdue first, then soonest due); the others follow by last activity.
    """
    return tickets.select_related("account", "category", "assignee", "hold").annotate(
        queue_rank=Case(
            When(AWAITING_FIRST_RESPONSE, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        queue_due=Case(When(AWAITING_FIRST_RESPONSE, then=F("first_response_due_at"))),
    )


QUEUE_ORDERING = [
    F("queue_rank").asc(),
    F("queue_due").asc(nulls_last=True),
    F("last_activity_at").desc(),
    F("id").desc(),
]


def _pending_reconsiderations():
    return ReconsiderationRequest.objects.filter(
        ticket=OuterRef("pk"), status=ReconsiderationStatus.PENDING
    )


def pending_reconsideration() -> Exists:
    """Tickets whose customer's reconsideration request waits for a staff decision."""
    return Exists(_pending_reconsiderations())


def waiting_for_points() -> Q:
    """Tickets waiting for the customer to buy the points staff asked for
    (`tickets.services.ticket_wait_for_points`); any status move since ends the wait."""
    return Q(status=TicketStatus.WAITING_FOR_CUSTOMER, points_requested_at__isnull=False)


# --- Dashboard --------------------------------------------------------------------------------

DASHBOARD_ROWS = 5


@dataclass(frozen=True)
class DashboardList:
    """The first rows of one list (each with `since`: the moment its note is about) and how many
    tickets the whole list has."""

    tickets: list[Ticket]
    total: int


@dataclass(frozen=True)
class Dashboard:
    overdue: DashboardList
    due_soon: DashboardList
    reconsideration: DashboardList
    waiting_for_points: DashboardList
    mine: DashboardList


def _first_rows(tickets: QuerySet[Ticket], *, since, order, rows: int) -> DashboardList:
    """One query: the first `rows` tickets and, counted over the whole list, its total."""
    found = list(
        tickets.select_related("account", "category", "assignee")
        .annotate(since=since, list_total=Window(Count("id")))
        .order_by(*order)[:rows]
    )
    return DashboardList(tickets=found, total=found[0].list_total if found else 0)


def staff_dashboard(
    *, user: User, at: datetime | None = None, rows: int = DASHBOARD_ROWS
) -> Dashboard:
    """What needs staff attention now, a few tickets of each list (5 queries, whatever the data):
    first responses overdue and due within the hour (most urgent first), reconsideration requests
    and points requests waiting (oldest first), and the user's own active tickets (queue order).
    """
    at = at or timezone.now()
    tickets = Ticket.objects.all()
    due = F("first_response_due_at")
    oldest_first = [F("since").asc(), F("id").asc()]
    asked = Subquery(_pending_reconsiderations().order_by("created_at").values("created_at")[:1])
    return Dashboard(
        overdue=_first_rows(
            tickets.filter(awaiting_first_response(at=at, state="overdue")),
            since=due,
            order=oldest_first,
            rows=rows,
        ),
        due_soon=_first_rows(
            tickets.filter(awaiting_first_response(at=at, state="due_soon")),
            since=due,
            order=oldest_first,
            rows=rows,
        ),
        reconsideration=_first_rows(
            tickets.filter(pending_reconsideration()), since=asked, order=oldest_first, rows=rows
        ),
        waiting_for_points=_first_rows(
            tickets.filter(waiting_for_points()),
            since=F("points_requested_at"),
            order=oldest_first,
            rows=rows,
        ),
        mine=_first_rows(
            ticket_queue(tickets.filter(assignee=user, status__in=ACTIVE_STATUSES)),
            since=F("last_activity_at"),
            order=QUEUE_ORDERING,
            rows=rows,
        ),
    )


@dataclass(frozen=True)
class StaffTicketPage:
    """Everything the admin ticket page shows besides the ticket itself."""

    messages: list[Message]
    filed_by: User
    hold: Hold | None
    cost_changes: list[CostChange]
    quotes: list[Quote]
    reconsiderations: list[ReconsiderationRequest]
    pending_reconsiderations: list[ReconsiderationRequest]
    time_logs: list[TimeLog]
    logged_minutes: int
    status_changes: list[StatusChange]
    access_details: AccessDetails | None
    access_views: list[AccessDetailsView]
    facts: TicketFacts


def staff_ticket_page(ticket: Ticket) -> StaffTicketPage:
    """The thread (internal notes included) and the ticket's history, a query per kind of row;
    the policy's facts from the rows listed, without `with_facts`' query of its own."""
    # Read again with the page, not taken from the ticket given: an action refused after it
    # changed the objects in memory shows what the database holds.
    one_to_one = Ticket.objects.select_related("filed_by", "hold", "rating").get(pk=ticket.pk)
    hold = getattr(one_to_one, "hold", None)
    messages = list(
        ticket.messages.select_related("author").prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
        )
    )
    reconsiderations = list(ticket.reconsiderations.select_related("requested_by", "decided_by"))
    quotes = list(ticket.quotes.select_related("created_by", "decided_by"))
    time_logs = list(ticket.time_logs.select_related("logged_by"))
    access_details = (
        AccessDetails.objects.filter(ticket=ticket).select_related("provided_by").first()
    )
    access_views = []
    if access_details is not None:
        access_views = list(access_details.views.select_related("viewed_by")[:5])
    return StaffTicketPage(
        messages=messages,
        filed_by=one_to_one.filed_by,
        hold=hold,
        cost_changes=list(ticket.cost_changes.select_related("actor")),
        quotes=quotes,
        reconsiderations=reconsiderations,
        pending_reconsiderations=[
            r for r in reconsiderations if r.status == ReconsiderationStatus.PENDING
        ],
        time_logs=time_logs,
        logged_minutes=sum(log.minutes for log in time_logs),
        status_changes=list(ticket.status_changes.select_related("actor")),
        access_details=access_details,
        access_views=access_views,
        facts=TicketFacts.of_rows(
            hold=hold,
            quotes=quotes,
            reconsiderations=reconsiderations,
            rated=getattr(one_to_one, "rating", None) is not None,
        ),
    )


# --- SLA report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaReport:
    since: datetime
    until: datetime
    filed: int
    urgent: int
    on_time: int
    late_answered: int
    # Still without a response although due.
    late_unanswered: int
    not_yet_due: int
    # Cancelled, resolved or closed without any public staff reply.
    ended_unanswered: int
    median_first_response: timedelta | None
    overdue_now: int

    @property
    def late(self) -> int:
        return self.late_answered + self.late_unanswered

    @property
    def measured(self) -> int:
        """Tickets whose first response is known to be on time or late."""
        return self.on_time + self.late

    @property
    def on_time_percent(self) -> float | None:
        return 100 * self.on_time / self.measured if self.measured else None

    @property
    def late_percent(self) -> float | None:
        return 100 * self.late / self.measured if self.measured else None


def sla_report(*, days: int = 30, at: datetime | None = None) -> SlaReport:
    """First-response performance for tickets filed in the last `days` days (4 queries).

    A ticket counts as on time when its first response came by the due time, late when it came
    after it or has not come although the due time passed; tickets that ended without a staff
    reply (e.g. cancelled by the customer) and tickets not yet due are left out of the
    percentages.
    """
    at = at or timezone.now()
    since = at - timedelta(days=days)
    filed = Ticket.objects.filter(created_at__gte=since, created_at__lte=at)
    answered = Q(first_response_at__isnull=False)
    unanswered_active = Q(first_response_at__isnull=True, status__in=ACTIVE_STATUSES)
    counts = filed.aggregate(
        filed=Count("id"),
        urgent=Count("id", filter=Q(is_urgent=True)),
        on_time=Count("id", filter=answered & Q(first_response_at__lte=F("first_response_due_at"))),
        late_answered=Count(
            "id", filter=answered & Q(first_response_at__gt=F("first_response_due_at"))
        ),
        late_unanswered=Count("id", filter=unanswered_active & Q(first_response_due_at__lt=at)),
        not_yet_due=Count("id", filter=unanswered_active & Q(first_response_due_at__gte=at)),
        ended_unanswered=Count(
            "id", filter=Q(first_response_at__isnull=True) & ~Q(status__in=ACTIVE_STATUSES)
        ),
    )
    overdue_now = Ticket.objects.filter(awaiting_first_response(at=at, state="overdue")).count()
    return SlaReport(
        since=since,
        until=at,
        filed=counts["filed"],
        urgent=counts["urgent"],
        on_time=counts["on_time"],
        late_answered=counts["late_answered"],
        late_unanswered=counts["late_unanswered"],
        not_yet_due=counts["not_yet_due"],
        ended_unanswered=counts["ended_unanswered"],
        median_first_response=_median_first_response(filed.filter(answered)),
        overdue_now=overdue_now,
    )


def _median_first_response(answered: QuerySet[Ticket]) -> timedelta | None:
    """The median time to first response: the middle row (or the mean of the middle two), found
    by ordering in the database, which works on PostgreSQL and the embedded SQLite alike.
    """
    count = answered.count()
    if not count:
        return None
    waits = (
        answered.annotate(
            wait=ExpressionWrapper(
                F("first_response_at") - F("created_at"), output_field=DurationField()
            )
        )
        .order_by("wait")
        .values_list("wait", flat=True)
    )
    middle = list(waits[(count - 1) // 2 : count // 2 + 1])
    return sum(middle, timedelta()) / len(middle)
