"""Customer accounts and their users: signing up, inviting users and removing them.

An e-mail address is held only by someone who can log in with it: a staff member, or a user of an
account who has chosen a password (an owner always has). Nothing else reserves an address. A user
row that an unanswered invitation created, or that was left behind by a removal (it is deleted
when nothing refers to it), does not stop the address's owner from signing up, nor from accepting
an invitation.

Signing up takes two steps so that the answer never tells whether an address is registered: the
first e-mails the address (a link that finishes the sign-up, or, if the address is held, a note
to its owner); the link proves the mailbox, then the second step creates the account. The link is
signed and stateless: a sign-up that was never finished holds nothing.

Locking order, as in the ledger: the account row first, then the user row.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.models import AuditKind
from audit.services import audit_record
from core.errors import HelpDeskError
from notifications.outbox import notify

from .locks import lock_account
from .models import Account, Membership, MembershipRole

if TYPE_CHECKING:
    from helpdesk.models import User, UserManager

logger = logging.getLogger(__name__)

_SIGNUP_SALT = "helpdesk.signup-link"
# A signed address of at most 254 characters fits well within this; anything longer is not a link
# the HelpDesk made.
_SIGNUP_TOKEN_MAX_LENGTH = 600


class AccountError(HelpDeskError):
    """An account-users operation was refused; nothing was changed."""

    code = "account_refused"


class SignupLinkInvalid(AccountError):
    """A sign-up link that is malformed, forged or older than ACCOUNT_SIGNUP_LINK_HOURS."""

    code = "signup_link_invalid"


# --- Who holds an address ---------------------------------------------------------------------


def _users() -> UserManager:
    """The users' manager, looked up when called: the user model belongs to the project above."""
    return get_user_model().objects


def _holds_address(user: User) -> bool:
    """Whether `user` can log in with their address: staff, or an account user with a password."""
    if user.is_staff:
        return True
    membership = Membership.objects.filter(user=user).only("role").first()
    return membership is not None and (
        membership.role == MembershipRole.OWNER or user.has_usable_password()
    )


def address_is_held(email: str) -> bool:
    user = _users().with_address(email).first()
    return user is not None and _holds_address(user)


def pending_invitation(email: str) -> Membership | None:
    """The unanswered invitation of this address, if any (with its account)."""
    user = _users().with_address(email).first()
    if user is None or _holds_address(user):
        return None
    return Membership.objects.filter(user=user).select_related("account").first()


def _lock_address(email: str) -> User | None:
    """The user holding a row for `email`, locked after the account they are a user of."""
    user = _users().with_address(email).first()
    if user is None:
        return None
    membership = Membership.objects.filter(user=user).only("account_id").first()
    if membership is not None:
        lock_account(membership.account_id)
    return _users().select_for_update().filter(pk=user.pk).first()


# --- E-mail -----------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.HELPDESK_BASE_URL.rstrip("/") + path


def _send(template: str, to: str, context: dict) -> None:
    """One e-mail from templates emails/<template>{_subject.txt,.txt,.html}.

    A mail server that fails is logged, not raised: the page that asked answers the same (and for
    sign-up and invitations, asking again sends again).
    """
    message = EmailMultiAlternatives(
        subject=render_to_string(f"emails/{template}_subject.txt", context).strip(),
        body=render_to_string(f"emails/{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    try:
        message.send()
    except Exception:
        logger.exception("Could not send the %s e-mail", template)


# --- Signing up -------------------------------------------------------------------------------


def signup_link_email(token: str) -> str:
    """The address a sign-up link was made for. Raises SignupLinkInvalid."""
    if len(token) > _SIGNUP_TOKEN_MAX_LENGTH:
        raise SignupLinkInvalid
    try:
        email = signing.loads(
            token, salt=_SIGNUP_SALT, max_age=settings.ACCOUNT_SIGNUP_LINK_HOURS * 3600
        )
    except signing.BadSignature as error:  # SignatureExpired is one
        raise SignupLinkInvalid from error
    if not isinstance(email, str):
        raise SignupLinkInvalid
    return email


def account_sign_up_request(*, email: str) -> None:
    """Sign-up, first step: e-mail `email` a link that finishes the sign-up, or, when the address
    is held already, tell its owner that someone tried (log in, or reset the password).

    The caller answers the same in both cases.
    """
    email = _users().normalize_email(email)
    if address_is_held(email):
        context = {
            "email": email,
            "login_url": _absolute(reverse("login")),
            "password_reset_url": _absolute(reverse("password_reset")),
        }
        _send("account_signup_exists", email, context)
        return
    token = signing.dumps(email, salt=_SIGNUP_SALT)
    context = {
        "email": email,
        "signup_url": _absolute(reverse("signup_finish", kwargs={"token": token})),
        "valid_hours": settings.ACCOUNT_SIGNUP_LINK_HOURS,
    }
    _send("account_signup_link", email, context)


@transaction.atomic
def account_sign_up(
    *, email: str, password: str, account_name: str, first_name: str = "", last_name: str = ""
) -> User:
    """A new customer: the user and the account they own.

    The address must not be held (see the module's docstring). A user row it still has is taken
    over; an unanswered invitation of the address is withdrawn: one login belongs to one account.
    Two sign-ups of one address at once make one user; the other is refused.
    """
    email = _users().normalize_email(email)
    first_name, last_name = first_name.strip(), last_name.strip()
    user = _lock_address(email)
    if user is None:
        try:
            with transaction.atomic():
                user = _users().create_user(
                    email=email, password=password, first_name=first_name, last_name=last_name
                )
        except IntegrityError as error:
            raise AccountError(
                _("An account with this e-mail address already exists."), code="address_taken"
            ) from error
    elif _holds_address(user):
        raise AccountError(
            _("An account with this e-mail address already exists."), code="address_taken"
        )
    else:
        Membership.objects.filter(user=user).delete()
        user.first_name, user.last_name = first_name, last_name
        user.is_active = True
        user.set_password(password)
        user.save(update_fields=["first_name", "last_name", "is_active", "password"])
    account = Account.objects.create(name=account_name.strip() or user.email)
    Membership.objects.create(account=account, user=user, role=MembershipRole.OWNER)
    return user


# --- Account users ----------------------------------------------------------------------------


# The admin's own permissions over an account's users (its Membership inline).
INVITE_PERMISSION = "accounts.add_membership"
REMOVE_PERMISSION = "accounts.delete_membership"


def _require_owner_or_staff(account: Account, user: User, permission: str) -> bool:
    """The owner, or staff holding `permission` (e.g. acting through an integration key), may
    manage the account's users. Whether staff acted (their changes go to the audit trail)."""
    if Membership.objects.filter(account=account, user=user, role=MembershipRole.OWNER).exists():
        return False
    if user.is_staff:
        if user.has_perm(permission):
            return True
        raise AccountError(
            _("Staff need the permission %(permission)s for this.") % {"permission": permission},
            code="not_owner",
        )
    raise AccountError(_("Only the account owner can manage its users."), code="not_owner")


def _audit_staff_change(*, staff: User, account: Account, changes: dict) -> None:
    audit_record(
        kind=AuditKind.ACCOUNT_CHANGED,
        actor=staff,
        target=account,
        account_id=account.pk,
        changes=changes,
    )


@transaction.atomic
def account_invite_user(
    *,
    account: Account,
    email: str,
    invited_by: User,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """The owner (or staff allowed to add an account's users) invites a secondary user by e-mail;
    they set a password through a one-time link.

    Inviting someone whose invitation is still unanswered sends the link again. An address that
    belongs to no account (e.g. removed from one earlier) can be invited. An address in use
    elsewhere is refused without saying whose it is.
    """
    lock_account(account.pk)
    by_staff = _require_owner_or_staff(account, invited_by, INVITE_PERMISSION)
    email = _users().normalize_email(email)
    if not email:
        raise AccountError(_("An e-mail address is required."), code="email_required")
    cannot_invite = AccountError(
        _("%(email)s can't be invited to this account. Ask them for another address.")
        % {"email": email},
        code="address_not_invitable",
    )
    user = _users().with_address(email).select_for_update().first()
    membership = Membership.objects.filter(user=user).first() if user else None
    if user is None:
        try:
            with transaction.atomic():
                user = _users().create_user(
                    email=email,
                    password=None,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                )
        except IntegrityError as error:  # signed up at this very moment
            raise cannot_invite from error
        membership = Membership.objects.create(
            account=account, user=user, role=MembershipRole.MEMBER
        )
    elif membership is not None and membership.account_id == account.pk:
        if user.has_usable_password() or membership.role == MembershipRole.OWNER:
            raise AccountError(
                _("%(email)s is already a user of this account.") % {"email": email},
                code="already_a_user",
            )
        # Still invited and not yet answered: the link is sent again below.
    elif membership is not None or user.is_staff:
        raise cannot_invite
    else:
        # A user of no account: welcome them; they choose a new password.
        user.is_active = True
        user.set_unusable_password()
        user.save(update_fields=["is_active", "password"])
        membership = Membership.objects.create(
            account=account, user=user, role=MembershipRole.MEMBER
        )
    notify("account_invitation", membership, invited_by=invited_by)
    if by_staff:
        _audit_staff_change(
            staff=invited_by, account=account, changes={"users_invited": {str(user.pk): "member"}}
        )
    return user


@transaction.atomic
def account_remove_user(*, account: Account, user: User, removed_by: User) -> None:
    """The owner (or staff allowed to remove an account's users) removes a secondary user, or
    withdraws their unanswered invitation.

    The user row is deleted when nothing refers to it (an invitee who never set a password always
    qualifies), so it holds nothing. Someone who did act for the account (filed tickets, bought
    points…) stays, deactivated and without a password, for that history; their address is still
    free to sign up with or to be invited elsewhere.
    """
    lock_account(account.pk)
    by_staff = _require_owner_or_staff(account, removed_by, REMOVE_PERMISSION)
    membership = Membership.objects.filter(account=account, user=user).first()
    if membership is None:
        raise AccountError(_("This person is not a user of this account."), code="not_a_user")
    if membership.role == MembershipRole.OWNER:
        raise AccountError(_("The account owner can't be removed."), code="owner_not_removable")
    membership.delete()
    if by_staff:
        _audit_staff_change(
            staff=removed_by, account=account, changes={"users_removed": [str(user.pk)]}
        )
    try:
        with transaction.atomic():
            user.delete()
    except (ProtectedError, RestrictedError):
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["is_active", "password"])
