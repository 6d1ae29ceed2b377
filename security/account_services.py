"""A person's own sign-in credentials: changing the e-mail address (confirmed from the new
mailbox, with a notice to the old one) and ending their other signed-in sessions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.errors import HelpDeskError

from .models import UserSession

if TYPE_CHECKING:
    from helpdesk.models import User

logger = logging.getLogger(__name__)

_EMAIL_CHANGE_SALT = "helpdesk.email-change"
EMAIL_CHANGE_HOURS = 24
# A signed (user, old, new) triple of addresses fits well within this.
EMAIL_CHANGE_TOKEN_MAX_LENGTH = 800


class CredentialError(HelpDeskError):
    pass


def _send(template: str, to: str, context: dict) -> None:
    """Sent at once, never stored: the confirmation link is a credential (like a password reset
    link). A failing mail server is logged; asking again sends again."""
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


def _absolute(path: str) -> str:
    return settings.HELPDESK_BASE_URL.rstrip("/") + path


def email_change_request(*, user: User, new_email: str) -> None:
    """E-mail a confirmation link to the new address and a notice to the current one; nothing
    changes until the link is followed."""
    users = get_user_model().objects
    new_email = users.normalize_email(new_email)
    if new_email == user.email:
        raise CredentialError(_("That is your address already."), code="email_unchanged")
    token = signing.dumps([user.pk, user.email, new_email], salt=_EMAIL_CHANGE_SALT)
    context = {
        "user": user,
        "new_email": new_email,
        "old_email": user.email,
        "confirm_url": _absolute(reverse("email_change_confirm", kwargs={"token": token})),
        "valid_hours": EMAIL_CHANGE_HOURS,
    }
    if users.with_address(new_email).exists():
        # Say nothing of who holds it: the link fails when followed.
        logger.info("E-mail change to an address in use asked for user %s", user.pk)
    _send("email_change_confirm", new_email, context)
    _send("email_change_notice", user.email, context)


@transaction.atomic
def email_change_confirm(*, user: User, token: str) -> User:
    """Follow the link: the signed-in user's address becomes the new one."""
    if len(token) > EMAIL_CHANGE_TOKEN_MAX_LENGTH:
        raise _link_invalid()
    try:
        user_id, old_email, new_email = signing.loads(
            token, salt=_EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_HOURS * 3600
        )
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise _link_invalid() from error
    users = get_user_model().objects
    locked = users.select_for_update().get(pk=user.pk)
    if user_id != locked.pk or old_email != locked.email:
        raise _link_invalid()
    if users.with_address(new_email).exclude(pk=locked.pk).exists():
        raise CredentialError(_("Another user holds that address now."), code="email_change_taken")
    locked.email = new_email
    locked.save(update_fields=["email"])
    return locked


def _link_invalid() -> CredentialError:
    return CredentialError(
        _("This link is not valid any more. Ask for a new one on the security page."),
        code="email_change_link_invalid",
    )


# The sessions listed on the security page, most recent first.
SESSIONS_SHOWN = 20


def sessions_of(*, user: User) -> list[UserSession]:
    """The user's signed-in sessions that still exist (one query for the list, and a check per
    session shown, at most SESSIONS_SHOWN)."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    shown = []
    for record in UserSession.objects.filter(user=user).order_by("-last_seen_at")[:SESSIONS_SHOWN]:
        if store().exists(record.session_key):
            shown.append(record)
    return shown


@transaction.atomic
def sessions_end_others(*, user: User, keep_session_key: str) -> int:
    """Sign the user out of every session but this one. Returns how many ended."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    others = list(
        UserSession.objects.filter(user=user)
        .exclude(session_key=keep_session_key)
        .values_list("session_key", flat=True)
    )
    for key in others:
        store(session_key=key).delete()
    UserSession.objects.filter(session_key__in=others).delete()
    return len(others)
