"""Shared helpers for the ledger benchmarks: throwaway PostgreSQL databases and Django set-up.

Every benchmark works in databases of its own (named hd_*), which it creates and drops itself.
The settings are forced (not defaulted) so that a DATABASE_URL in the caller's environment can
never point a benchmark, which drops its database, at a real one.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_HOST = os.environ.get("BENCH_PGHOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PGPORT", "5432"))
PG_USER = os.environ.get("BENCH_PGUSER", "postgres")


def database_url(dbname: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{dbname}"


def connect(dbname: str = "postgres", *, autocommit: bool = True):
    """A plain psycopg connection (no Django), for administration and bare-SQL timings."""
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=autocommit
    )


def _check_name(dbname: str) -> str:
    if not re.fullmatch(r"hd_[a-z0-9_]+", dbname):
        raise ValueError(f"refusing to touch database {dbname!r}: bench databases are hd_*")
    return dbname


def drop_database(dbname: str) -> None:
    with connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_check_name(dbname)}" WITH (FORCE)')


def create_database(dbname: str, *, template: str | None = None) -> None:
    """(Re)create an empty database, or a copy of `template` (a fast file-level copy)."""
    drop_database(dbname)
    sql = f'CREATE DATABASE "{_check_name(dbname)}"'
    if template:
        sql += f' TEMPLATE "{_check_name(template)}" STRATEGY FILE_COPY'
    with connect() as conn:
        conn.execute(sql)


def bench_env(dbname: str) -> dict[str, str]:
    """The environment of the HelpDesk settings for a bench database."""
    return {
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": database_url(dbname),
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "DEBUG": "false",
        "HTTPS": "false",
        "PAYMENT_BACKEND": "manual",
        "LOG_LEVEL": "WARNING",
    }


def django_setup(dbname: str) -> None:
    """Point the HelpDesk settings at `dbname` and set Django up (no connection is opened)."""
    os.environ.update(bench_env(dbname))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def machine_info() -> dict[str, str]:
    """What the figures were measured on."""
    mem_kb = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    with connect() as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                "('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections')"
            ).fetchall()
        )
    return {
        "date": subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip(),
        "cores": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "postgresql": pg_version,
        "pg settings": ", ".join(f"{k}={v}" for k, v in sorted(settings.items())),
        "python": platform.python_version(),
        "load average (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def print_machine_info() -> None:
    for key, value in machine_info().items():
        print(f"  {key}: {value}")
