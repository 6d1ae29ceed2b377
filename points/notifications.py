"""The ledger's e-mail, registered with the outbox (`notifications`): points expiring soon, to
every user of the account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from accounts.models import Account
from accounts.selectors import account_user_emails
from notifications import events


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


def register_events() -> None:
    events.register("points_expiring", recipients=_account_users, context=_points_expiring_context)
