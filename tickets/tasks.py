"""Ticket jobs, on the beat schedule (see CELERY_BEAT_SCHEDULE).

Each calls the service its management command calls.
"""

from celery import shared_task

from core.jobs import JOB_OPTIONS

from . import services


@shared_task(**JOB_OPTIONS, soft_time_limit=30 * 60, time_limit=35 * 60)
def close_quiet_tickets() -> int:
    """Close resolved tickets quiet for HELPDESK_AUTO_CLOSE_DAYS (`close_quiet_tickets`)."""
    return services.tickets_close_quiet()


@shared_task(**JOB_OPTIONS, soft_time_limit=30 * 60, time_limit=35 * 60)
def erase_access_details() -> int:
    """Erase access details past their retention after close (`erase_access_details`)."""
    return services.access_details_erase_due()


@shared_task(**JOB_OPTIONS, soft_time_limit=10 * 60, time_limit=12 * 60)
def compensate_late_hotrush() -> int:
    """Return the surcharge of HotRush tickets unanswered past their due time."""
    return services.tickets_compensate_late_hotrush()
