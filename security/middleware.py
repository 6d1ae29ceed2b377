"""Requests of a session that still owes its second factor, and the record of signed-in sessions."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from core.request_context import current_client_address

from .models import UserSession
from .two_factor import second_factor_pending

# A session's "last seen" is written at most this often: one write a minute, not one per page.
SEEN_EVERY = timedelta(minutes=1)
SEEN_AT = "security_seen_at"
USER_AGENT_MAX_CHARS = 300


class SecondFactorMiddleware:
    """After the password, a session that owes its second factor reaches only the pages that take
    it (and logging out); everything else sends it there first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if second_factor_pending(request) and not self._allowed(request.path_info):
            return redirect(
                f"{reverse('two_factor_verify')}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)

    @staticmethod
    def _allowed(path: str) -> bool:
        return path.startswith(f"/{settings.STATIC_URL.lstrip('/')}") or path in {
            reverse("two_factor_verify"),
            reverse("two_factor_setup"),
            reverse("logout"),
            reverse("healthz"),
        }


class SessionActivityMiddleware:
    """Keeps `UserSession` (device, address, last seen) for each signed-in session, writing at
    most once a minute per session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated:
            return response
        # Only sessions signed in themselves: an API token authenticates one request, no session.
        if session.get(SESSION_KEY) != str(user.pk):
            return response
        now = timezone.now()
        seen = session.get(SEEN_AT)
        if seen is not None and now.timestamp() - seen < SEEN_EVERY.total_seconds():
            return response
        session_seen(request, user)
        return response


def session_seen(request, user) -> None:
    """Record (or refresh) the request's session as one of the user's signed-in sessions."""
    session = request.session
    if session.session_key is None:
        session.save()
    now = timezone.now()
    UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "last_seen_at": now,
            "client_address": current_client_address(),
            "user_agent": request.headers.get("User-Agent", "")[:USER_AGENT_MAX_CHARS],
        },
    )
    session[SEEN_AT] = now.timestamp()


def session_signed_in(sender, *, request, user, **kwargs) -> None:
    """Receiver of `user_logged_in`: the new session is listed at once (later pages of the next
    minute then write nothing)."""
    if request is not None and hasattr(request, "session"):
        session_seen(request, user)


def session_rekeyed(request, old_key: str | None) -> None:
    """The session got a new key (a factor was given): its record follows."""
    if old_key:
        UserSession.objects.filter(session_key=old_key).delete()
    session_seen(request, request.user)


def session_signed_out(sender, *, request, user, **kwargs) -> None:
    """Receiver of `user_logged_out`."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()
