"""Erasure: a person's personal data is anonymized, while the ledger, the ticket skeletons
(category, costs, dates, statuses) and the audit trail stay whole. Irreversible.

What goes: names; the e-mail address (replaced by a placeholder under the reserved `.invalid`
domain, which nothing can deliver to); the password (the person can no longer sign in); their
message texts and attachments, ticket subjects they wrote, reconsideration messages, rating
comments; the account's access details; their signed-in sessions, login records (which hold the
address) and the admin history's labels that name them. For a whole account, also the account's
name and every text of its tickets. Retention applies the same ticket-text erasure to closed
tickets past PRIVACY_TICKET_TEXT_RETENTION_DAYS.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import Account
from api.models import ApiToken
from mail.models import InboundEmail
from notifications.models import Notification
from security.models import UserSession
from security.services import two_factor_remove_all
from tickets.models import (
    AccessDetails,
    Attachment,
    Message,
    Rating,
    ReconsiderationRequest,
    Ticket,
    TicketStatus,
)

if TYPE_CHECKING:
    from helpdesk.models import User

ERASED_TEXT = "[erased]"
ERASED_DOMAIN = "erased.invalid"


def erased_email(user_id: int) -> str:
    return f"erased-{user_id}@{ERASED_DOMAIN}"


def personal_strings(people: list[User], account: Account | None) -> list[str]:
    values = [p.email for p in people] + [p.get_full_name() for p in people]
    values += [p.first_name for p in people] + [p.last_name for p in people]
    if account is not None:
        values.append(account.name)
    # Very short values (a one-letter name) would match everything: they go with their rows.
    return sorted({value for value in values if len(value) >= 3})


def ticket_texts_erase(tickets: QuerySet[Ticket], *, authors: list[User] | None = None) -> int:
    """Erase the texts and attachments of `tickets` (those written by `authors` only, when
    given); returns how many messages were erased. The tickets' numbers, costs and dates stay."""
    messages = Message.objects.filter(ticket__in=tickets)
    reconsiderations = ReconsiderationRequest.objects.filter(ticket__in=tickets)
    ratings = Rating.objects.filter(ticket__in=tickets)
    if authors is not None:
        messages = messages.filter(author__in=authors)
        reconsiderations = reconsiderations.filter(requested_by__in=authors)
        ratings = ratings.filter(rated_by__in=authors)
    for attachment in Attachment.objects.filter(message__in=messages):
        attachment.file.delete(save=False)
    Attachment.objects.filter(message__in=messages).delete()
    erased = messages.exclude(body=ERASED_TEXT).update(body=ERASED_TEXT, body_html="")
    reconsiderations.update(message=ERASED_TEXT)
    ratings.exclude(comment="").update(comment=ERASED_TEXT)
    return erased


def access_details_erase(tickets: QuerySet[Ticket]) -> None:
    AccessDetails.objects.filter(ticket__in=tickets, erased_at__isnull=True).update(
        ciphertext=None, erased_at=timezone.now()
    )


def user_erase(user: User) -> None:
    two_factor_remove_all(user=user)
    user.email = erased_email(user.pk)
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["email", "first_name", "last_name", "is_active", "password"])


def traces_erase(people: list[User], strings: list[str], ticket_ids: list[int]) -> None:
    """Where the address and names were copied, and what still signs them in: sessions, API
    tokens, login records, the e-mail outbox, the record of e-mails received and the admin
    history's labels."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    for key in UserSession.objects.filter(user__in=people).values_list("session_key", flat=True):
        store(session_key=key).delete()
    UserSession.objects.filter(user__in=people).delete()
    ApiToken.objects.filter(user__in=people).update(
        name=ERASED_TEXT, revoked_at=Coalesce("revoked_at", Value(timezone.now()))
    )
    for value in strings:
        AccessAttempt.objects.filter(username=value).delete()
        AccessFailureLog.objects.filter(username=value).delete()
        AccessLog.objects.filter(username=value).delete()
        LogEntry.objects.filter(
            Q(object_repr__icontains=value) | Q(change_message__icontains=value)
        ).update(object_repr=ERASED_TEXT, change_message="")
    received = Q(ticket_id__in=ticket_ids)
    for value in strings:
        received |= Q(sender__icontains=value) | Q(subject__icontains=value)
    # The record of each e-mail stays (its Message-ID keeps a second delivery out), not who sent it.
    InboundEmail.objects.filter(received).update(sender=ERASED_TEXT, subject=ERASED_TEXT, reason="")
    mentioned = Q(pk__in=[])
    for value in strings:
        mentioned |= Q(about__icontains=value) | Q(recipients__icontains=value)
        mentioned |= Q(context__icontains=value)
    about_tickets = Q(subject_type__model="ticket", subject_id__in=ticket_ids)
    # What was not sent yet is never sent: it was for, or about, the erased people.
    Notification.objects.filter(mentioned | about_tickets).update(
        about=ERASED_TEXT,
        recipients=[],
        context={},
        last_error="",
        sent_at=Coalesce("sent_at", Value(timezone.now())),
    )


# --- Retention ------------------------------------------------------------------------------------


def ticket_texts_retention_apply(*, at=None) -> int:
    """Erase the texts and attachments of tickets closed longer than
    PRIVACY_TICKET_TEXT_RETENTION_DAYS (0: kept; the default). Returns the messages erased."""
    days = settings.PRIVACY_TICKET_TEXT_RETENTION_DAYS
    if not days:
        return 0
    at = at or timezone.now()
    due = Ticket.objects.filter(status=TicketStatus.CLOSED, closed_at__lt=at - timedelta(days=days))
    with transaction.atomic():
        erased = ticket_texts_erase(due)
        access_details_erase(due)
    return erased
