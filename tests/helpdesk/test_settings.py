"""Settings come from the environment, with a safe embedded default and a strict production mode.

Each check imports helpdesk.settings in a fresh interpreter with a controlled environment, as an
operator's process would.
"""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

PROJECT_ROOT = settings.BASE_DIR
# What a shell usually has besides the HelpDesk's own variables; everything else is dropped.
KEPT_VARIABLES = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV"}


def run(code_or_args: str | list[str], **variables: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name in KEPT_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="helpdesk.settings", HELPDESK_ENV_FILE="", **variables)
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def database_settings(**variables: str) -> dict:
    result = run(
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'], default=str))",
        **variables,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_default_database_is_a_sqlite_file_in_the_project_folder():
    database = database_settings(DEBUG="true")

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(PROJECT_ROOT / "db.sqlite3")


def test_postgres_url_is_parsed_into_connection_settings():
    database = database_settings(
        DEBUG="true", DATABASE_URL="postgres://helpdesk:s3cret@db.internal:6543/helpdesk_prod"
    )

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "helpdesk_prod"
    assert database["HOST"] == "db.internal"
    assert str(database["PORT"]) == "6543"
    assert database["USER"] == "helpdesk"
    assert database["PASSWORD"] == "s3cret"


def test_without_secret_key_and_debug_off_settings_refuse_to_load():
    result = run("import django; django.setup()")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_debug_mode_uses_a_development_key():
    result = run("from django.conf import settings; print(settings.SECRET_KEY)", DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("django-insecure-")


def test_production_values_pass_the_deployment_checklist(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(45),
        ALLOWED_HOSTS="helpdesk.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
