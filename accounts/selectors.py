"""Reads about accounts and their users."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

from .models import Account, Membership

if TYPE_CHECKING:
    from helpdesk.models import User


def account_for_user(user: User) -> Account | None:
    """The account `user` acts for, if any (staff have none). No query when the user was loaded
    with its membership and account, as `accounts.backends.AccountUserBackend` loads a session's
    user."""
    user_membership = Membership._meta.get_field("user").remote_field
    if user_membership.is_cached(user):
        membership = user_membership.get_cached_value(user)
    else:
        membership = Membership.objects.filter(user=user).select_related("account").first()
    return membership.account if membership else None


def account_members(*, account: Account) -> list[Membership]:
    """The account's users: the owner first, then the others in the order they joined."""
    return list(
        Membership.objects.filter(account=account)
        .select_related("user")
        .order_by("-role", "created_at", "id")
    )


def account_user_emails(account_id: int) -> list[str]:
    """Where e-mails to an account go: every active user of it."""
    users = get_user_model().objects.filter(membership__account_id=account_id, is_active=True)
    return sorted(users.values_list("email", flat=True))
