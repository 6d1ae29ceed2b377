"""The beat schedule: every periodic job, when it runs and how long a queued run stays useful.

Times are in CELERY_TIMEZONE, the HelpDesk time zone. `expires` drops runs that waited in the queue
past their next one (a worker that was down does not get a pile of identical jobs). Expiring points
every hour is enough (expiry is a fact of time: balances never count expired points; the job
records it) and catches up after downtime; `expiry_interval` (seconds, 0: hourly) runs it more
often (demos, tests).
"""

from datetime import timedelta

from celery.schedules import crontab

_HOUR = 3600
_DAY = 24 * _HOUR


def beat_schedule(*, expiry_interval: int, mail_poll_seconds: int) -> dict[str, dict]:
    return {
        "expire-points": {
            "task": "points.tasks.expire_points",
            "schedule": (
                timedelta(seconds=expiry_interval) if expiry_interval else crontab(minute=5)
            ),
            "options": {"expires": expiry_interval or _HOUR - 60},
        },
        "remind-expiring-points": {
            "task": "points.tasks.remind_expiring_points",
            "schedule": crontab(hour=9, minute=0),
            "options": {"expires": _DAY - _HOUR},
        },
        "close-quiet-tickets": {
            "task": "tickets.tasks.close_quiet_tickets",
            "schedule": crontab(minute=15),
            "options": {"expires": _HOUR - 60},
        },
        "erase-access-details": {
            "task": "tickets.tasks.erase_access_details",
            "schedule": crontab(hour=3, minute=30),
            "options": {"expires": _DAY - _HOUR},
        },
        # Issue 13: a HotRush ticket unanswered past its due time gets its surcharge back.
        "compensate-late-hotrush": {
            "task": "tickets.tasks.compensate_late_hotrush",
            "schedule": timedelta(minutes=1),
            "options": {"expires": 55},
        },
        "privacy-retention": {
            "task": "privacy.tasks.apply_retention",
            "schedule": crontab(hour=3, minute=45),
            "options": {"expires": _DAY - _HOUR},
        },
        "drain-outbox": {
            "task": "notifications.tasks.drain_outbox",
            "schedule": timedelta(minutes=1),
            "options": {"expires": 55},
        },
        # The API's outgoing webhooks: retries and deliveries whose task never ran (issue 12).
        "drain-webhooks": {
            "task": "api.webhooks.tasks.drain_webhooks",
            "schedule": timedelta(minutes=1),
            "options": {"expires": 55},
        },
        "forget-idempotency-keys": {
            "task": "api.tasks.forget_idempotency_keys",
            "schedule": crontab(minute=45),
            "options": {"expires": _HOUR - 60},
        },
        # Replies and new requests by e-mail (issue 11).
        "poll-mail": {
            "task": "mail.tasks.poll_mail",
            "schedule": timedelta(seconds=mail_poll_seconds),
            "options": {"expires": max(mail_poll_seconds - 5, 5)},
        },
    }
