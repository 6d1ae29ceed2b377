"""The accounts' e-mail through the outbox (`notifications`): the invitation of a secondary user.

Its one-time link is made when the e-mail is sent, from the user as they are then, so the outbox
never stores a usable link; an invitation withdrawn (or answered) before it went out is not sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from notifications import events

from .models import Membership


def _invitation_context(
    membership: Membership | None, context: dict[str, Any], at: datetime
) -> dict[str, Any] | None:
    if membership is None:
        return None
    user = membership.user
    if user.has_usable_password() or not user.is_active:
        return None
    path = reverse(
        "account_invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return {
        **context,
        "user": user,
        "account": membership.account,
        "invitation_url": settings.HELPDESK_BASE_URL.rstrip("/") + path,
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }


def _invitee(membership: Membership, context: dict[str, Any]) -> list[str]:
    return [membership.user.email]


def register_events() -> None:
    events.register("account_invitation", recipients=_invitee, context=_invitation_context)
