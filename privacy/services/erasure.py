"""Erasure requests: asked for by a customer, approved (or declined) by staff. What an approval
erases, and what it keeps, is said in `privacy.anonymize`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.locks import lock_account
from accounts.models import Account, Membership, MembershipRole
from audit.models import AuditKind
from audit.services import audit_record
from tickets.models import Ticket

from ..anonymize import (
    ERASED_TEXT,
    access_details_erase,
    personal_strings,
    ticket_texts_erase,
    traces_erase,
    user_erase,
)
from ..errors import PrivacyError
from ..models import ErasureRequest, ErasureStatus

if TYPE_CHECKING:
    from helpdesk.models import User


# --- Asking ---------------------------------------------------------------------------------------


@transaction.atomic
def erasure_request(*, user: User) -> ErasureRequest:
    """A customer asks for their personal data to be erased; an owner's request covers the whole
    account (its owner can't leave it). Staff approve it in the admin."""
    membership = Membership.objects.filter(user=user).select_related("account").first()
    if membership is None:
        raise PrivacyError(
            _("Only customers can ask for erasure here."), code="erasure_not_customer"
        )
    lock_account(membership.account_id)
    if ErasureRequest.objects.filter(user=user, status=ErasureStatus.PENDING).exists():
        raise PrivacyError(_("Your request is waiting for staff already."), code="erasure_pending")
    return ErasureRequest.objects.create(
        user=user,
        account=membership.account,
        whole_account=membership.role == MembershipRole.OWNER,
        created_at=timezone.now(),
    )


@transaction.atomic
def erasure_decline(*, request: ErasureRequest, actor: User) -> ErasureRequest:
    request = _pending(request)
    request.status = ErasureStatus.DECLINED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    return request


def _pending(request: ErasureRequest) -> ErasureRequest:
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ErasureStatus.PENDING:
        raise PrivacyError(_("This request was decided already."), code="erasure_decided")
    return request


# --- Erasing --------------------------------------------------------------------------------------


@transaction.atomic
def erasure_approve(*, request: ErasureRequest, actor: User) -> ErasureRequest:
    """Staff with the permission approve: the personal data goes, for good."""
    if not actor.has_perm("privacy.erase_personal_data"):
        raise PrivacyError(_("You may not approve erasures."), code="permission_denied")
    lock_account(request.account_id)
    request = _pending(request)
    account = request.account
    if request.whole_account:
        people = list(get_user_model().objects.filter(membership__account=account))
        tickets = Ticket.objects.filter(account=account)
    else:
        people = [request.user]
        tickets = Ticket.objects.filter(account=account, filed_by=request.user)
    strings = personal_strings(people, account if request.whole_account else None)
    ticket_ids = list(tickets.values_list("id", flat=True))
    authors = None if request.whole_account else people
    ticket_texts_erase(Ticket.objects.filter(pk__in=ticket_ids), authors=authors)
    Ticket.objects.filter(pk__in=ticket_ids).update(subject=ERASED_TEXT)
    access_details_erase(Ticket.objects.filter(account=account))
    if request.whole_account:
        Account.objects.filter(pk=account.pk).update(name=_("Erased account #%s") % account.pk)
    for person in people:
        user_erase(person)
    traces_erase(people, strings, ticket_ids)
    request.status = ErasureStatus.DONE
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        kind=AuditKind.ERASURE_APPROVED,
        actor=actor,
        target=request,
        account_id=account.pk,
        changes={
            "people": [person.pk for person in people],
            "whole_account": request.whole_account,
            "tickets": len(ticket_ids),
        },
    )
    return request
