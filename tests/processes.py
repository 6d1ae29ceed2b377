"""Helpers for tests that run HelpDesk processes (workers, commands, the embedded run)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import kombu.pools
from django.conf import settings
from django.db import connection

from helpdesk.celery import app as celery_app

PROJECT_ROOT = settings.BASE_DIR
# What a shell usually has besides the HelpDesk's own variables; everything else is dropped.
KEPT_VARIABLES = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
PYTHON = sys.executable


def process_env(**variables: str) -> dict[str, str]:
    """The environment of a HelpDesk process an operator would start: production settings, no
    .env file, nothing of the test run's own environment but what is given."""
    env = {name: value for name, value in os.environ.items() if name in KEPT_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        HELPDESK_ENV_FILE="",
        SECRET_KEY="tests-only-secret-key-for-subprocesses-0123456789-abcdefghijklmnop",
        HTTPS="false",
    )
    env.update(variables)
    return env


def database_url_of_this_test() -> str:
    """The URL of the database this test uses (pytest-django's test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


def wait_for(condition: Callable[[], Any], *, timeout: float, interval: float = 0.1) -> Any:
    """Poll until `condition()` is truthy and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {condition.__doc__ or ''}")
        time.sleep(interval)


def _reset_broker_connections() -> None:
    # Connection pools are shared per broker URL (kombu's registry): close and forget them all.
    kombu.pools.reset()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def celery_publishing_to(broker_url: str, *, queue: str = "celery"):
    """Make this test process send tasks to a real broker (not eagerly), into `queue`."""
    names = ("broker_url", "task_always_eager", "task_default_queue")
    saved = {name: celery_app.conf[name] for name in names}
    _reset_broker_connections()
    celery_app.conf.update(broker_url=broker_url, task_always_eager=False, task_default_queue=queue)
    try:
        yield
    finally:
        _reset_broker_connections()
        celery_app.conf.update(saved)
