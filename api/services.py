"""Changes of the API's own records: personal tokens and integration keys.

Each function returns the new secret once; only its hash is kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import HelpDeskError
from core.text import text_check

from .credentials import KEY_PREFIX, TOKEN_PREFIX, new_secret, secret_hash, shown_prefix
from .models import NAME_MAX_CHARS, ApiToken, IntegrationKey

if TYPE_CHECKING:
    from helpdesk.models import User

# The most personal tokens one user may hold at once (revoked ones aside).
TOKENS_PER_USER = 20
# Last use is written at most this often per credential, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


def _name(value: str) -> str:
    name = text_check(value, max_length=NAME_MAX_CHARS, label=_("The name"))
    if not name:
        raise HelpDeskError(_("Give the token a name."), code="name_required")
    return name


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal token of `user` and its secret (shown once)."""
    name = _name(name)
    # Lock the user's row so two requests at once can't pass the limit together.
    get_user_model().objects.select_for_update().get(pk=user.pk)
    if ApiToken.objects.filter(user=user, revoked_at=None).count() >= TOKENS_PER_USER:
        raise HelpDeskError(
            _("You have %(count)s tokens already; revoke one first.") % {"count": TOKENS_PER_USER},
            code="too_many_tokens",
        )
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=shown_prefix(secret), secret_hash=secret_hash(secret)
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())


@transaction.atomic
def integration_key_create(
    *,
    name: str,
    created_by: User,
    can_read_accounts: bool = False,
    can_manage_accounts: bool = False,
    can_grant_points: bool = False,
) -> tuple[IntegrationKey, str]:
    """A new integration key and its secret (shown once to the staff member who made it)."""
    secret = new_secret(KEY_PREFIX)
    key = IntegrationKey.objects.create(
        name=_name(name),
        prefix=shown_prefix(secret),
        secret_hash=secret_hash(secret),
        created_by=created_by,
        can_read_accounts=can_read_accounts,
        can_manage_accounts=can_manage_accounts,
        can_grant_points=can_grant_points,
    )
    return key, secret


@transaction.atomic
def integration_key_revoke(*, key: IntegrationKey) -> None:
    IntegrationKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now())


def credential_mark_used(credential: ApiToken | IntegrationKey) -> None:
    """Record the last use, at most once a minute per credential (one UPDATE, no lock)."""
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at >= LAST_USED_PRECISION:
        type(credential).objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
