"""Changes of the API's own records: personal tokens and integration keys.

Each function returns the new secret once; only its hash is kept.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from accounts.provisioning import account_provision
from core.errors import HelpDeskError
from core.text import text_check

from .credentials import KEY_PREFIX, TOKEN_PREFIX, new_secret, secret_hash, shown_prefix
from .models import (
    NAME_MAX_CHARS,
    ApiToken,
    DeliveryStatus,
    IntegrationKey,
    ShopCustomer,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from .webhooks.addresses import url_refusal
from .webhooks.tasks import queue_subscription

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


@transaction.atomic
def shop_account_find_or_create(
    *,
    external_id: str,
    email: str,
    account_name: str,
    created_by: User,
    first_name: str = "",
    last_name: str = "",
) -> tuple[Account, bool]:
    """The account of the shop's customer `external_id` (if given) or of the owner `email`; a new
    one (owner invited by e-mail) when neither is known. `created` says which."""
    if external_id:
        known = ShopCustomer.objects.select_related("account").filter(external_id=external_id)
        if known:
            return known[0].account, False
    account, created = account_provision(
        email=email,
        account_name=account_name,
        created_by=created_by,
        first_name=first_name,
        last_name=last_name,
    )
    if external_id:
        linked = ShopCustomer.objects.filter(account=account).first()
        if linked is not None:
            raise HelpDeskError(
                _("This e-mail's account belongs to another shop customer id."),
                code="shop_customer_conflict",
            )
        try:
            with transaction.atomic():
                ShopCustomer.objects.create(external_id=external_id, account=account)
        except IntegrityError as error:  # linked by a request at this very moment
            raise HelpDeskError(
                _("This shop customer id was linked meanwhile; retry."),
                code="shop_customer_conflict",
            ) from error
    return account, created


@transaction.atomic
def webhook_subscription_create(
    *, integration_key: IntegrationKey, url: str, events: list[str]
) -> WebhookSubscription:
    """A subscription of the key's URL to `events`, with a new signing secret."""
    unknown = set(events) - set(WebhookEvent.values)
    if not events or unknown:
        raise HelpDeskError(
            _("Choose events among: %(events)s.") % {"events": ", ".join(WebhookEvent.values)},
            code="invalid_events",
        )
    refusal = url_refusal(url)
    if refusal:
        raise HelpDeskError(
            _("This URL can't receive webhooks: %(why)s.") % {"why": refusal}, code="invalid_url"
        )
    return WebhookSubscription.objects.create(
        integration_key=integration_key,
        url=url,
        events=sorted(set(events)),
        secret="whsec_" + secrets.token_urlsafe(32),
    )


@transaction.atomic
def webhook_subscription_deactivate(*, subscription: WebhookSubscription) -> None:
    """No more deliveries are made for it (those made are still sent)."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)


@transaction.atomic
def webhook_delivery_resend(*, delivery: WebhookDelivery) -> None:
    """Send the delivery again (staff, from the admin), now and in its subscription's order."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    transaction.on_commit(partial(queue_subscription, delivery.subscription_id))
