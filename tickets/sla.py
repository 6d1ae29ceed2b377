"""First-response targets (SPEC §5): one business day, or one working hour for urgent tickets.

Business days are Monday to Friday except the configured holidays (HELPDESK_HOLIDAYS), in the
HelpDesk time zone. A normal ticket's target is 24 hours counted only on business days (filed on a
Saturday → due Tuesday 00:00); an urgent ticket's is one hour counted only within working hours
(HELPDESK_WORKING_HOURS_START–END) of business days.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from .models import ACTIVE_STATUSES

NORMAL_TARGET = timedelta(hours=24)
URGENT_TARGET = timedelta(hours=1)


def is_business_day(day: date) -> bool:
    holidays = {date.fromisoformat(value) for value in settings.HELPDESK_HOLIDAYS}
    return day.weekday() < 5 and day not in holidays


def _counting_window(day: date, *, working_hours: bool) -> tuple[datetime, datetime] | None:
    """The part of `day` that counts towards the target, in UTC, or None if none of it does."""
    if not is_business_day(day):
        return None
    zone = timezone.get_default_timezone()
    if working_hours:
        start = settings.HELPDESK_WORKING_HOURS_START
        end = settings.HELPDESK_WORKING_HOURS_END
        end_at = datetime.combine(day, end, tzinfo=zone)
    else:
        start = time.min
        end_at = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    start_at = datetime.combine(day, start, tzinfo=zone)
    return start_at.astimezone(UTC), end_at.astimezone(UTC)


def add_counted_time(start: datetime, duration: timedelta, *, working_hours: bool) -> datetime:
    """`start` plus `duration` counted only within the counting windows of business days."""
    zone = timezone.get_default_timezone()
    cursor = start.astimezone(UTC)
    left = duration
    day = timezone.localtime(start, zone).date()
    # A year without a single business day is a configuration error, not an infinite loop.
    for _ in range(366):
        window = _counting_window(day, working_hours=working_hours)
        if window is not None:
            window_start, window_end = window
            cursor = max(cursor, window_start)
            if cursor < window_end:
                step = min(left, window_end - cursor)
                cursor += step
                left -= step
                if not left:
                    return cursor
        day += timedelta(days=1)
    raise ValueError("No business day within a year: check HELPDESK_HOLIDAYS.")


def first_response_due(filed_at: datetime, *, urgent: bool) -> datetime:
    if urgent:
        return add_counted_time(filed_at, URGENT_TARGET, working_hours=True)
    return add_counted_time(filed_at, NORMAL_TARGET, working_hours=False)


def awaits_first_response(ticket) -> bool:
    """Whether the ticket's first-response target still applies: it is active and no staff reply
    came yet (in Python what `tickets.models.AWAITING_FIRST_RESPONSE` is in queries). A ticket
    resolved, returned as a software bug or cancelled without a reply waits for nothing."""
    return (
        ticket.status in ACTIVE_STATUSES
        and ticket.first_response_at is None
        and ticket.first_response_due_at is not None
    )
