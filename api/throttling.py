"""Requests per credential (token, key, or the session's user), counted in the cache; anonymous
requests per client address. Over the rate: 429 with Retry-After."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.clients import client_ip

from .models import ApiToken, IntegrationKey


def credential_scope(request) -> str:
    """What one client is: its token, its key, or its user (session)."""
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    if isinstance(request.auth, IntegrationKey):
        return f"key:{request.auth.pk}"
    return f"user:{request.user.pk}"


class CredentialRateThrottle(SimpleRateThrottle):
    scope = "credential"

    def allow_request(self, request, view):
        if not (request.user and request.user.is_authenticated):
            self.scope = "anonymous"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        # Read when used, not when the class was defined: the setting may change (tests).
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = credential_scope(request)
        else:
            # The project's reading of X-Forwarded-For (TRUSTED_PROXY_COUNT), not DRF's own.
            ident = f"ip:{client_ip(request)}"
        return f"api-throttle:{ident}"
