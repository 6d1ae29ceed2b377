"""Accounts made by the vendor's systems (the shop, through the API's integration keys): an
account and its owner for a buyer's address, or the account that address owns already.

The owner gets the invitation e-mail (a one-time link to choose a password), as an invited user
does. An address that is a secondary user elsewhere, or staff, is refused: one login belongs to
one account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.text import text_check
from notifications.outbox import notify

from .models import Account, Membership, MembershipRole
from .services import AccountError

if TYPE_CHECKING:
    from helpdesk.models import User

ACCOUNT_NAME_MAX_CHARS = 200
PERSON_NAME_MAX_CHARS = 150


@transaction.atomic
def account_provision(
    *,
    email: str,
    account_name: str,
    created_by: User,
    first_name: str = "",
    last_name: str = "",
) -> tuple[Account, bool]:
    """The account `email` owns, or a new one owned by a new user of that address (invited by
    e-mail); `created` says which."""
    users = get_user_model().objects
    email = users.normalize_email(email or "")
    if not email:
        raise AccountError(_("An e-mail address is required."), code="email_required")
    name = text_check(account_name, max_length=ACCOUNT_NAME_MAX_CHARS, label=_("The name"))
    first_name = text_check(first_name, max_length=PERSON_NAME_MAX_CHARS, label=_("First name"))
    last_name = text_check(last_name, max_length=PERSON_NAME_MAX_CHARS, label=_("Last name"))
    taken = AccountError(
        _("%(email)s is used by another account or by staff.") % {"email": email},
        code="address_taken",
    )
    user = users.with_address(email).select_for_update().first()
    if user is not None:
        membership = Membership.objects.filter(user=user).select_related("account").first()
        if membership is not None and membership.role == MembershipRole.OWNER:
            return membership.account, False
        if membership is not None or user.is_staff:
            raise taken
        # A user of no account (removed from one earlier): welcomed anew, as an invitation does.
        user.is_active = True
        user.set_unusable_password()
        user.save(update_fields=["is_active", "password"])
    else:
        try:
            with transaction.atomic():
                user = users.create_user(
                    email=email, password=None, first_name=first_name, last_name=last_name
                )
        except IntegrityError as error:  # made by a request at this very moment
            raise taken from error
    account = Account.objects.create(name=name or email)
    membership = Membership.objects.create(account=account, user=user, role=MembershipRole.OWNER)
    notify("account_invitation", membership, invited_by=created_by)
    return account, True
