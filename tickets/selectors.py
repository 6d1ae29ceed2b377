"""Reads for the customer's ticket pages, scoped to their account, each a fixed number of queries.

Internal notes are filtered out here, in the one place customer pages read messages from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account
from catalog.models import IssueCategory
from core.numbers import parse_id
from core.sql import execute_together, field_value
from points.models import Hold

from .models import (
    ACTIVE_STATUSES,
    AccessDetails,
    Attachment,
    CostChange,
    Message,
    Quote,
    QuoteStatus,
    Rating,
    ReconsiderationRequest,
    Ticket,
    TicketStatus,
)
from .policies import TicketFacts, TicketPolicy, ticket_policy, with_facts
from .sla import awaits_first_response

if TYPE_CHECKING:
    from helpdesk.models import User

# The list filter's extra choice: every ticket not yet resolved.
ACTIVE = "active"
FINISHED_STATUSES = [TicketStatus.CLOSED, TicketStatus.CANCELLED]

# How long the ticket page keeps a rendered thread. Its key changes with every public message, so
# this only bounds how long an author's renamed account shows under their old name.
THREAD_CACHE_SECONDS = 300

# The public thread's version. Messages are added, never edited, deleted or made internal, except
# by the erasure of personal data, which empties their texts and removes their files: so their
# count, last id and last time, with the length of their texts and the count of their files, name
# its content. Written by hand: the page's cheapest query, not worth the ORM's compilation on
# every request; PostgreSQL and SQLite (the embedded run) both run it.
_THREAD_STAMP_SQL = (
    "SELECT count(*), max(id), max(created_at), sum(length(body_html)),"
    f" (SELECT count(*) FROM {Attachment._meta.db_table} WHERE message_id IN"
    f"  (SELECT id FROM {Message._meta.db_table} WHERE ticket_id = %s AND NOT is_internal))"
    f" FROM {Message._meta.db_table} WHERE ticket_id = %s AND NOT is_internal"
)


# The user model, read from the ticket: helpdesk.models sits in a layer above this app.
_User = Ticket._meta.get_field("filed_by").related_model


def _columns(model, alias: str, only: tuple[str, ...] = ()) -> str:
    """Every column of `model` (or those of the fields named in `only`), as `alias.column`."""
    fields = [f for f in model._meta.concrete_fields if not only or f.name in only]
    return ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in fields)


def _rows_of(model) -> str:
    return f"SELECT {_columns(model, 'x')} FROM {model._meta.db_table} x WHERE x.ticket_id = %s"


# What the customer's ticket page shows, as rows: the ticket with its category, filer, hold,
# rating and access details (every column: a column added later is covered too), its cost
# changes, quotes and reconsideration requests (which change in place: a quote's status, a
# request's decision), and the thread's stamp. Their digest is the page's version, so a change to
# any of them is a new version. The account's condition makes it the page's access check too.
# Hand-written (the page's first query on every request, not worth the ORM's compilation);
# PostgreSQL runs the five statements in one round trip, SQLite one by one.
_PAGE_VERSION_STATEMENTS = (
    (
        f"SELECT {_columns(Ticket, 't')}, {_columns(IssueCategory, 'c')},"
        f" {_columns(_User, 'u', ('first_name', 'last_name', 'email'))},"
        f" {_columns(Hold, 'h')}, {_columns(Rating, 'r')}, {_columns(AccessDetails, 'a')}"
        f" FROM {Ticket._meta.db_table} t"
        f" LEFT JOIN {IssueCategory._meta.db_table} c ON c.id = t.category_id"
        f" LEFT JOIN {_User._meta.db_table} u ON u.id = t.filed_by_id"
        f" LEFT JOIN {Hold._meta.db_table} h ON h.ticket_id = t.id"
        f" LEFT JOIN {Rating._meta.db_table} r ON r.ticket_id = t.id"
        f" LEFT JOIN {AccessDetails._meta.db_table} a ON a.ticket_id = t.id"
        " WHERE t.id = %s AND t.account_id = %s"
    ),
    _rows_of(CostChange) + " ORDER BY x.id",
    _rows_of(Quote) + " ORDER BY x.id",
    _rows_of(ReconsiderationRequest) + " ORDER BY x.id",
    _THREAD_STAMP_SQL,
)


def _account_tickets(
    *, account: Account, status: str, query: str, hide_closed: bool
) -> QuerySet[Ticket]:
    """The account's tickets that pass the list's filters, newest activity first."""
    tickets = Ticket.objects.for_account(account).order_by("-last_activity_at", "-id")
    if status == ACTIVE:
        tickets = tickets.filter(status__in=ACTIVE_STATUSES)
    elif status in TicketStatus.values:
        tickets = tickets.filter(status=status)
    if hide_closed:
        tickets = tickets.exclude(status__in=FINISHED_STATUSES)
    query = query.strip()
    if query:
        number = parse_id(query.lstrip("#"))
        match = Q(subject__icontains=query)
        if number is not None:
            match |= Q(pk=number)
        tickets = tickets.filter(match)
    return tickets


def tickets_for_account(
    *, account: Account, status: str = "", query: str = "", hide_closed: bool = False
) -> QuerySet[Ticket]:
    """The account's tickets (every user's), newest activity first, with what the list shows:
    the points held or deducted (`points`, `points_status`) and the number of public messages.
    """
    public_messages = (
        Message.objects.filter(ticket=OuterRef("pk"), is_internal=False)
        .values("ticket")
        .annotate(count=Count("id"))
        .values("count")
    )
    return (
        _account_tickets(account=account, status=status, query=query, hide_closed=hide_closed)
        .select_related("category", "filed_by")
        .annotate(
            points=F("hold__amount"),
            points_status=F("hold__status"),
            message_count=Coalesce(Subquery(public_messages), 0),
        )
    )


@dataclass(frozen=True)
class TicketListRow:
    """What "my tickets" shows of a ticket: `tickets_for_account`'s fields, read flat."""

    pk: int
    subject: str
    status: str
    is_urgent: bool
    last_activity_at: datetime
    category_name: str
    filed_by_name: str
    message_count: int
    # The hold's amount and status; None when no points were captured.
    points: int | None
    points_status: str | None


# A page of "my tickets": the ids come from the ORM's filtered query (the one copy of the filters),
# the rest of the row from this, written by hand because compiling the ORM's query with its joins
# and correlated count cost more CPU than the rest of the page's queries together. It orders as
# _account_tickets does; PostgreSQL and SQLite (the embedded run) both run it.
_TICKET_ROWS_SQL = (
    "SELECT t.id, t.subject, t.status, t.is_urgent, t.last_activity_at, c.name,"
    " u.first_name, u.last_name, u.email, h.amount, h.status,"
    f" (SELECT count(*) FROM {Message._meta.db_table} m"
    "   WHERE m.ticket_id = t.id AND NOT m.is_internal)"
    f" FROM {Ticket._meta.db_table} t"
    f" JOIN {IssueCategory._meta.db_table} c ON c.id = t.category_id"
    f" JOIN {_User._meta.db_table} u ON u.id = t.filed_by_id"
    f" LEFT JOIN {Hold._meta.db_table} h ON h.ticket_id = t.id"
    " WHERE t.id IN ({ids})"
    " ORDER BY t.last_activity_at DESC, t.id DESC"
)


class TicketList:
    """The account's tickets as "my tickets" pages through them: a Paginator's object list.

    Counting is the ORM's count of the filtered tickets; a page is one query (_TICKET_ROWS_SQL).
    """

    def __init__(
        self, *, account: Account, status: str = "", query: str = "", hide_closed: bool = False
    ):
        self._tickets = _account_tickets(
            account=account, status=status, query=query, hide_closed=hide_closed
        )

    def count(self) -> int:
        return self._tickets.count()

    def __getitem__(self, page: slice) -> list[TicketListRow]:
        try:
            ids_sql, params = self._tickets.values("pk")[page].query.sql_with_params()
        except EmptyResultSet:  # an empty slice: the page of an empty list
            return []
        with connection.cursor() as cursor:
            cursor.execute(_TICKET_ROWS_SQL.replace("{ids}", ids_sql), params)
            rows = cursor.fetchall()
        return [
            TicketListRow(
                pk=pk,
                subject=subject,
                status=status,
                is_urgent=bool(is_urgent),
                last_activity_at=field_value(Ticket, "last_activity_at", last_activity_at),
                category_name=category_name,
                filed_by_name=(
                    _User(first_name=first_name, last_name=last_name).get_full_name() or email
                ),
                message_count=message_count,
                points=points,
                points_status=points_status,
            )
            for (
                pk,
                subject,
                status,
                is_urgent,
                last_activity_at,
                category_name,
                first_name,
                last_name,
                email,
                points,
                points_status,
                message_count,
            ) in rows
        ]


@dataclass(frozen=True)
class CustomerTicketPage:
    ticket: Ticket
    hold: Hold | None
    # The public messages, read only when the template renders the thread (not when cached).
    messages: QuerySet[Message]
    # Names the thread's content: the key of its cached rendering (with the ticket's id).
    thread_stamp: str
    cost_changes: list[CostChange]
    quotes: list[Quote]
    pending_quote: Quote | None
    reconsiderations: list[ReconsiderationRequest]
    # What the page offers the user now; the services check it again when it is done.
    policy: TicketPolicy
    # When the first response is due, while the ticket still waits for one; else None.
    first_response_due: datetime | None
    # Whether that due time has passed without a response.
    first_response_overdue: bool = False

    thread_cache_seconds = THREAD_CACHE_SECONDS

    def shows_the_same_for(self, at: datetime) -> timedelta:
        """How long from `at` the page shows what it shows now while its data stays the same:
        until the reopening window closes or the first response becomes late."""
        deadlines = (self.reopen_until, self.first_response_due)
        return min((d - at for d in deadlines if d is not None and d > at), default=timedelta.max)

    @property
    def actions(self) -> dict[str, bool]:
        return self.policy.allowed

    @property
    def reopen_until(self) -> datetime | None:
        return self.policy.reopen_until

    @property
    def rating(self):
        return getattr(self.ticket, "rating", None)

    @property
    def access_details(self):
        return getattr(self.ticket, "access_details", None)


def ticket_for_account(*, account: Account, ticket_id: int) -> Ticket:
    """The ticket if it belongs to the account (with the facts its policy reads);
    Ticket.DoesNotExist otherwise (a 404)."""
    tickets = (
        Ticket.objects.for_account(account)
        .select_related("category", "filed_by", "hold", "rating", "access_details")
        .defer("access_details__ciphertext")
    )
    return with_facts(tickets).get(pk=ticket_id)


def customer_ticket_page(
    *,
    account: Account,
    user: User,
    ticket_id: int,
    at: datetime | None = None,
    version: CustomerTicketVersion | None = None,
) -> CustomerTicketPage:
    """Everything the customer's ticket page shows (5 queries, and 2 more for the thread when
    its rendering is not cached, whatever the thread's length)."""
    # Without with_facts' five subqueries (the ORM's costliest compilation on the page): the facts
    # are in what the page reads anyway, the hold and rating joined, the quotes and requests listed.
    ticket = (
        Ticket.objects.for_account(account)
        .select_related("category", "filed_by", "hold", "rating", "access_details")
        .defer("access_details__ciphertext")
        .get(pk=ticket_id)
    )
    # Reverse one-to-ones fetched with the ticket; getattr's default covers "there is none".
    hold = getattr(ticket, "hold", None)
    messages = (
        Message.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    cost_changes = list(CostChange.objects.filter(ticket=ticket).order_by("created_at", "id"))
    quotes = list(Quote.objects.filter(ticket=ticket).order_by("-created_at", "-id"))
    reconsiderations = list(
        ReconsiderationRequest.objects.filter(ticket=ticket).order_by("-created_at", "-id")
    )
    pending_quote = next((q for q in quotes if q.status == QuoteStatus.PENDING), None)
    facts = TicketFacts.of_rows(
        hold=hold,
        quotes=quotes,
        reconsiderations=reconsiderations,
        rated=getattr(ticket, "rating", None) is not None,
    )
    return CustomerTicketPage(
        ticket=ticket,
        hold=hold,
        messages=messages,
        thread_stamp=version.thread_stamp if version else thread_stamp(ticket.pk),
        cost_changes=cost_changes,
        quotes=quotes,
        pending_quote=pending_quote,
        reconsiderations=reconsiderations,
        policy=ticket_policy(ticket, user=user, at=at, facts=facts),
        first_response_due=(
            ticket.first_response_due_at if awaits_first_response(ticket) else None
        ),
        first_response_overdue=(
            awaits_first_response(ticket) and (at or timezone.now()) > ticket.first_response_due_at
        ),
    )


@dataclass(frozen=True)
class CustomerTicketVersion:
    # The digest of every row the page shows: a new one with any change.
    digest: str
    # The thread's own version, read with it (see _THREAD_STAMP_SQL).
    thread_stamp: str


def customer_ticket_version(*, account: Account, ticket_id: int) -> CustomerTicketVersion:
    """The version of what the account's ticket page shows; Ticket.DoesNotExist when the ticket
    is not the account's (a 404). One round trip."""
    ticket, *others, thread = execute_together(
        [
            (_PAGE_VERSION_STATEMENTS[0], [ticket_id, account.pk]),
            *((sql, [ticket_id]) for sql in _PAGE_VERSION_STATEMENTS[1:4]),
            (_PAGE_VERSION_STATEMENTS[4], [ticket_id, ticket_id]),
        ]
    )
    if not ticket:
        raise Ticket.DoesNotExist
    digest = hashlib.sha256(repr([ticket, *others, thread]).encode()).hexdigest()
    return CustomerTicketVersion(digest=digest, thread_stamp=_stamp_text(thread[0]))


def _stamp_text(row: tuple) -> str:
    # The time comes as a datetime from PostgreSQL and as text from SQLite: either names it.
    return ".".join(str(value) for value in row)


def thread_stamp(ticket_id: int) -> str:
    """The version of the ticket's public thread (see _THREAD_STAMP_SQL)."""
    with connection.cursor() as cursor:
        cursor.execute(_THREAD_STAMP_SQL, [ticket_id, ticket_id])
        return _stamp_text(cursor.fetchone())


def attachment_for_user(*, user: User, ticket_id: int, attachment_id: int) -> Attachment:
    """An attachment the user may download: staff any on the ticket; a customer one on a public
    message of their account's ticket. Attachment.DoesNotExist otherwise (a 404)."""
    attachments = Attachment.objects.filter(pk=attachment_id, message__ticket_id=ticket_id)
    if not user.is_staff:
        attachments = attachments.filter(
            message__is_internal=False, message__ticket__account__memberships__user=user
        )
    return attachments.get()
