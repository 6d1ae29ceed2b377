"""When a second factor is asked for, and the mark a signed-in session carries until it is given.

Staff always need one (STAFF_TWO_FACTOR_REQUIRED; it can be relaxed only with DEBUG on, for the
embedded demo); a customer needs one once they turned it on. Logging in with the password marks the
session "second factor expected" (`SecondFactorMiddleware` then lets it reach only the pages that
take the code); the code, or a recovery code, lifts the mark through django-otp's `login`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django_otp import devices_for_user

if TYPE_CHECKING:
    from helpdesk.models import User

EXPECTED = "second_factor_expected"


def staff_two_factor_required() -> bool:
    return settings.STAFF_TWO_FACTOR_REQUIRED


def has_second_factor(user: User) -> bool:
    """Whether the user has a confirmed authenticator (recovery codes alone don't count)."""
    return any(
        device.model_label() == "otp_totp.totpdevice"
        for device in devices_for_user(user, confirmed=True)
    )


def second_factor_needed(user: User) -> bool:
    return (user.is_staff and staff_two_factor_required()) or has_second_factor(user)


def second_factor_expect(sender, *, request, user, **kwargs) -> None:
    """Receiver of `user_logged_in`: the password alone does not finish signing in."""
    if request is not None and hasattr(request, "session") and second_factor_needed(user):
        request.session[EXPECTED] = True


def second_factor_pending(request) -> bool:
    """Whether this session still owes its second factor (read from the session: no query)."""
    return bool(request.session.get(EXPECTED)) if hasattr(request, "session") else False


def second_factor_given(request) -> None:
    request.session.pop(EXPECTED, None)
