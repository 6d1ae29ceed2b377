"""Options every background job shares (the Celery tasks of every app)."""

import kombu.exceptions
import redis.exceptions
from django.db import InterfaceError, OperationalError

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
