"""How many account e-mails (sign-up links, password resets, invitations) anyone can make the
HelpDesk send: ACCOUNT_EMAIL_LIMIT_PER_ADDRESS to one recipient and ACCOUNT_EMAIL_LIMIT_PER_IP
asked from one client address, per window of ACCOUNT_EMAIL_LIMIT_MINUTES.

Counted in fixed windows on Django's cache: Redis in production, shared by every web process, whose
INCR is atomic (so is the local-memory cache's, within its one process).
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

logger = logging.getLogger(__name__)


def account_email_wait(*, address: str, client_ip: str | None) -> int:
    """Count one account e-mail to `address` asked from `client_ip`.

    Returns 0 when it may be sent, otherwise the seconds until it may.
    """
    window = settings.ACCOUNT_EMAIL_LIMIT_MINUTES * 60
    return max(
        _count(
            "address",
            get_user_model().objects.normalize_email(address),
            settings.ACCOUNT_EMAIL_LIMIT_PER_ADDRESS,
            window,
        ),
        _count("ip", client_ip or "", settings.ACCOUNT_EMAIL_LIMIT_PER_IP, window),
    )


def _count(kind: str, key: str, limit: int, window: int) -> int:
    now = time.time()
    index = int(now // window)
    digest = hashlib.sha256(key.encode()).hexdigest()
    cache_key = f"account-email:{kind}:{index}:{digest}"
    try:
        # Kept two windows so that it can't expire between add and incr.
        cache.add(cache_key, 0, timeout=2 * window)
        used = cache.incr(cache_key)
    except Exception:
        # Limits must not turn a page into an error: with the cache down, the e-mail is sent.
        logger.exception("Account e-mail limit not counted: the cache is unavailable")
        return 0
    if used <= limit:
        return 0
    return max(1, math.ceil((index + 1) * window - now))
