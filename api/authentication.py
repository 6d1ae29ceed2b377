"""Who is asking: a personal token, an integration key, or the site's session (with CSRF).

`request.auth` is the ApiToken or IntegrationKey (None for the session). A personal token acts
as its user; an integration key as the staff member who created it, and only on the
integration endpoints (api.permissions).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .credentials import KEY_PREFIX, SECRET_MAX_CHARS, TOKEN_PREFIX, secret_hash
from .models import IntegrationKey
from .services import credential_mark_used
from .token_lookup import live_token_with_account


class BearerAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _space, secret = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        secret = secret.strip()
        if not secret or len(secret) > SECRET_MAX_CHARS:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if secret.startswith(TOKEN_PREFIX):
            # With the user's membership and account: the customer endpoints' check
            # (api.permissions.IsCustomer) reads them without a query of its own.
            credential = live_token_with_account(secret_hash(secret))
            user = credential.user if credential else None
        elif secret.startswith(KEY_PREFIX):
            credential = (
                IntegrationKey.objects.select_related("created_by")
                .filter(secret_hash=secret_hash(secret), revoked_at=None)
                .first()
            )
            user = credential.created_by if credential else None
        else:
            credential = user = None
        if credential is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        credential_mark_used(credential)
        return user, credential

    def authenticate_header(self, request):
        return self.keyword


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token (hdp_…) or an integration key (hdk_…).",
        }
