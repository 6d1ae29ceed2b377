"""Checks every points service shares: amounts of points, the expiry staff give a grant, reasons."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.numbers import points_limit
from core.text import REASON_MAX_CHARS, TextRejected, text_check

from ..errors import InvalidAmount, InvalidExpiry, InvalidReason, ReasonRequired

# A journal reason is what staff typed (REASON_MAX_CHARS) plus the words a ticket puts around it.
JOURNAL_REASON_MAX_CHARS = REASON_MAX_CHARS + 200


def validate_points(points: int, *, allow_zero: bool = False, limit: int | None = None) -> None:
    """Refuse anything but whole points from 1 (or 0) to `limit`: by default the business's largest
    single operation (HELPDESK_MAX_POINTS_PER_OPERATION), whichever channel asks.
    """
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidAmount(_("Points must be a whole number."))
    if points < 0 or (points == 0 and not allow_zero):
        raise InvalidAmount(
            _("Points must not be negative.") if allow_zero else _("Points must be positive.")
        )
    limit = points_limit() if limit is None else limit
    if points > limit:
        raise InvalidAmount(
            _("%(points)s points is more than the %(limit)s one operation may move.")
            % {"points": points, "limit": limit}
        )


def validate_grant_expiry(expires_at: datetime, *, at: datetime) -> None:
    """Granted points expire in the future, within HELPDESK_MAX_GRANT_VALIDITY_DAYS."""
    if not isinstance(expires_at, datetime) or timezone.is_naive(expires_at):
        raise InvalidExpiry(_("The expiry of granted points must be a date and time with a zone."))
    if expires_at <= at:
        raise InvalidExpiry(_("The expiry of granted points must be in the future."))
    days = settings.HELPDESK_MAX_GRANT_VALIDITY_DAYS
    if expires_at > at + timedelta(days=days):
        raise InvalidExpiry(
            _("Granted points can expire at most %(days)s days from now.") % {"days": days}
        )


def require_reason(reason: str) -> str:
    """The reason, stripped and bounded; refused when empty."""
    try:
        reason = text_check(reason, max_length=JOURNAL_REASON_MAX_CHARS, label=_("The reason"))
    except TextRejected as error:
        raise InvalidReason(str(error)) from error
    if not reason:
        raise ReasonRequired()
    return reason
