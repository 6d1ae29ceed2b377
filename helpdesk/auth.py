"""Login protection: who a login attempt is for, where it comes from, and when logging in pauses.

django-axes records each failed login (one row per identity, client address and browser). The
lock-out counts those failures over the cool-off period (LOGIN_COOLOFF_HOURS) in three layers:

- one identity from one client address: LOGIN_FAILURE_LIMIT;
- one client address, whatever identities it tries: LOGIN_IP_FAILURE_LIMIT;
- one identity from every address together: LOGIN_IDENTITY_FAILURE_LIMIT, applied only to
  addresses this identity never logged in from. Guessing spread over many machines is stopped,
  while nobody can lock the owner out of their own account by knowing their address: the owner's
  known addresses keep working, and a password reset (it proves the mailbox) lifts every lock of
  the identity.

The identity is the address as login and sign-up normalize it (`User.objects.normalize_email`),
so every spelling of one address counts against one lock, on the customer and the admin login
alike. Attempts refused while locked are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
is off): a lock ends one cool-off period after the last failure that counted, and a locked-out
client can't keep raising the other layers.
"""

from __future__ import annotations

import math
import operator
from datetime import datetime
from functools import reduce

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt, AccessLog
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .models import User


def login_identity(request: HttpRequest, credentials: dict | None) -> str | None:
    """Who a login attempt is for (AXES_USERNAME_CALLABLE): the normalized address."""
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return User.objects.normalize_email(username) if username else None


class LayeredLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, counting failures in the three layers of this module's docstring."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """Failures of this identity from this address, or the failure limit when another layer
        is over its own (Axes compares the answer with AXES_FAILURE_LIMIT).

        Sets `request.login_locked_until` for the lock-out page.
        """
        identity = get_client_username(request, credentials)
        client = request.axes_ip_address
        layers = {"pair": (Q(username=identity, ip_address=client), settings.AXES_FAILURE_LIMIT)}
        layers["client"] = (Q(ip_address=client), settings.LOGIN_IP_FAILURE_LIMIT)
        if identity is not None:
            layers["identity"] = (Q(username=identity), settings.LOGIN_IDENTITY_FAILURE_LIMIT)
        recent = AccessAttempt.objects.filter(
            reduce(operator.or_, (q for q, _limit in layers.values())),
            attempt_time__gte=get_cool_off_threshold(request),
        )
        counts = recent.aggregate(
            **{
                f"{name}_failures": Sum("failures_since_start", filter=q)
                for name, (q, _limit) in layers.items()
            },
            **{
                f"{name}_last": Max("attempt_time", filter=q)
                for name, (q, _limit) in layers.items()
            },
        )
        locked_until: datetime | None = None
        for name, (_q, limit) in layers.items():
            if (counts[f"{name}_failures"] or 0) < limit:
                continue
            if name == "identity" and self._is_known_client(identity, client):
                continue
            until = counts[f"{name}_last"] + get_cool_off(request)
            locked_until = max(locked_until or until, until)
        request.login_locked_until = locked_until
        failures = counts["pair_failures"] or 0
        return max(failures, settings.AXES_FAILURE_LIMIT) if locked_until else failures

    @staticmethod
    def _is_known_client(identity: str, client: str | None) -> bool:
        """Whether this identity has logged in from this client address before."""
        return AccessLog.objects.filter(username=identity, ip_address=client).exists()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The answer to a locked-out login (AXES_LOCKOUT_CALLABLE): 429, saying when to try again."""
    now = timezone.now()
    until = getattr(request, "login_locked_until", None) or now + get_cool_off(request)
    seconds = max(1, math.ceil((until - now).total_seconds()))
    response = render(
        request, "registration/locked_out.html", {"minutes": math.ceil(seconds / 60)}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response


def login_lock_lift(user: User) -> None:
    """Lift every login lock of `user`'s identity, from any address (after a password reset)."""
    axes_reset(username=user.email)


def login_lock_lift_on_password_set(sender, *, user: User, **kwargs) -> None:
    """Receiver of accounts' `password_set_through_link`: an e-mailed link proved the mailbox."""
    login_lock_lift(user)
