"""The ledger's e-mail, registered with the outbox (`notifications`): points expiring soon, to
every user of the account; available points below the account's alert threshold, to the owner and
the users who opted in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from accounts.models import Account, MembershipRole
from accounts.selectors import account_user_emails
from notifications import events

from .models import BalanceAlert


def _points_expiring_context(
    account: Account, context: dict[str, Any], at: datetime
) -> dict[str, Any] | None:
    """Only what still expires: points spent or already expired meanwhile are not mentioned."""
    lots = [lot for lot in context["lots"] if lot.remaining > 0 and lot.expires_at > at]
    if not lots:
        return None
    return {
        **context,
        "account": account,
        "lots": sorted(lots, key=lambda lot: (lot.expires_at, lot.pk)),
        "points": sum(lot.remaining for lot in lots),
        "points_url": settings.HELPDESK_BASE_URL.rstrip("/") + reverse("points:overview"),
    }


def _account_users(account: Account, context: dict[str, Any]) -> list[str]:
    return account_user_emails(account.pk)


def _points_low_context(
    account: Account, context: dict[str, Any], at: datetime
) -> dict[str, Any] | None:
    return {
        **context,
        "account": account,
        "points_url": settings.HELPDESK_BASE_URL.rstrip("/") + reverse("points:overview"),
    }


def _points_low_recipients(account: Account, context: dict[str, Any]) -> list[str]:
    """The owner, and the users who opted in (while still active users of the account)."""
    users = get_user_model().objects.filter(membership__account_id=account.pk, is_active=True)
    chosen = users.filter(
        Q(membership__role=MembershipRole.OWNER) | Q(pk__in=_subscribers(account.pk))
    )
    return sorted(chosen.values_list("email", flat=True))


def _subscribers(account_id: int):
    return BalanceAlert.subscribers.through.objects.filter(balancealert_id=account_id).values(
        "user_id"
    )


def register_events() -> None:
    events.register("points_expiring", recipients=_account_users, context=_points_expiring_context)
    events.register("points_low", recipients=_points_low_recipients, context=_points_low_context)
