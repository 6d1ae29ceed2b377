"""Moving Account and Membership to the `accounts` app carries every row, balance and permission
forward, on PostgreSQL and on the embedded run's SQLite; the models and the migrations agree."""

import io
import json
import subprocess
from contextlib import contextmanager

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from tests.processes import PROJECT_ROOT, PYTHON, database_url_of_this_test, process_env

UPGRADE = "from tests.accounts.upgrade import main; main()"


@contextmanager
def empty_postgresql_database():
    """A database of its own beside the test database, dropped afterwards."""
    db = connection.settings_dict
    name = f"{db['NAME']}_upgrade"
    server = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url_of_this_test().rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def empty_sqlite_database(folder):
    yield f"sqlite:///{folder / 'db.sqlite3'}"


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def upgraded(request, tmp_path_factory):
    """What tests/accounts/upgrade.py saw before and after migrating, on an empty database."""
    if request.param == "postgresql":
        database = empty_postgresql_database()
    else:
        database = empty_sqlite_database(tmp_path_factory.mktemp("upgrade"))
    with database as url:
        run = subprocess.run(
            [PYTHON, "manage.py", "shell", "-v", "0", "-c", UPGRADE],
            cwd=PROJECT_ROOT,
            env=process_env(DATABASE_URL=url),
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_an_upgrade_keeps_every_row_balance_and_permission(upgraded):
    before, after = upgraded["before"], upgraded["after"]

    # Every column there was before keeps its value (later migrations may add columns).
    kept = {
        name: [{column: row[column] for column in old[0]} for row in after["rows"][name]]
        if (old := before["rows"][name])
        else after["rows"][name]
        for name in before["rows"]
    }
    assert kept == before["rows"]
    assert after["rows"]["Account"] and after["rows"]["Entry"] and after["rows"]["Ticket"]
    assert after["group_permissions"] == before["group_permissions"]
    assert after["user_permissions"] == before["user_permissions"]
    assert "points_account" in before["tables"] and "points_membership" in before["tables"]
    assert "accounts_account" in after["tables"] and "accounts_membership" in after["tables"]
    assert not {"points_account", "points_membership"} & set(after["tables"])
    assert upgraded["check_ledger"].strip() == "Ledger is consistent."
    assert upgraded["balances"] == {
        "shop": {"available": 110, "captured": 40},
        "second": {"available": 30, "captured": 0},
    }


def test_after_an_upgrade_permissions_and_the_admin_history_follow_the_models(upgraded):
    everything = {
        "points.grant_points": True,
        "points.adjust_points": True,
        "accounts.view_account": True,
        "accounts.view_membership": True,
    }
    assert upgraded["has_perm"] == {
        "clerk": everything,
        "support": everything,
        "direct": {
            "points.grant_points": True,
            "points.adjust_points": False,
            "accounts.view_account": False,
            "accounts.view_membership": False,
        },
    }
    assert upgraded["content_types"] == [["accounts", "account"], ["accounts", "membership"]]
    assert upgraded["ledger_permissions"] == [
        ["points", "lot", "adjust_points"],
        ["points", "lot", "grant_points"],
    ]
    assert upgraded["admin_history"] == ["Shop"]


def test_after_an_upgrade_new_accounts_and_grants_work(upgraded):
    assert upgraded["second_after_grant"] == {"available": 35, "captured": 0}
    assert upgraded["new_account_id"] > max(upgraded["ids"]["shop"], upgraded["ids"]["second"])


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
