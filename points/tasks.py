"""Scheduled ledger jobs (see CELERY_BEAT_SCHEDULE); each calls the service its command calls."""

from celery import shared_task

from core.jobs import JOB_OPTIONS

from . import services


@shared_task(**JOB_OPTIONS, soft_time_limit=45 * 60, time_limit=50 * 60)
def expire_points() -> dict[str, int]:
    """Record the expiry of every lot whose expiry time has passed (`expire_points`)."""
    result = services.lots_expire_due()
    return {"lots": result.lots, "points": result.points}


@shared_task(**JOB_OPTIONS, soft_time_limit=30 * 60, time_limit=35 * 60)
def remind_expiring_points() -> dict[str, int]:
    """E-mail customers whose points expire within 30 days, once per lot
    (`remind_expiring_points`)."""
    result = services.lots_remind_expiring()
    return {"lots": result.lots, "emails": result.emails}
