"""The Celery application: configured from Django settings (the CELERY_ namespace).

Workers: `celery -A helpdesk worker`; the schedule (CELERY_BEAT_SCHEDULE in settings), exactly one
`celery -A helpdesk beat`. Every scheduled job is also a management command running the same code,
so cron can replace beat.
"""

import os

import kombu.exceptions
import redis.exceptions
from celery import Celery
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Errors that pass: the database or the broker unreachable for a moment.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)

# Options of every HelpDesk task. The tasks are idempotent, so a message is acknowledged only once
# the task has finished (redelivered if the worker dies), and transient errors are retried with
# exponential backoff (5 s, 10 s, 20 s… at most 5 minutes apart, jittered).
JOB_OPTIONS = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}
