"""Production settings: structured logs on standard output, and the configuration that
docker-compose.yml gives passes Django's deployment checklist."""

import json
import re
import secrets
import subprocess

import yaml

from tests.processes import PROJECT_ROOT, PYTHON, process_env

LOG_SOMETHING = (
    "import django, logging; django.setup();"
    "logging.getLogger('helpdesk.test').warning('lot %s expired', 42, extra={'lot': 42})"
)


def run(args: list[str], **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, *args],
        cwd=PROJECT_ROOT,
        env=process_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_logs_are_one_json_object_per_line_on_stdout():
    result = run(["-c", LOG_SOMETHING], DEBUG="false")

    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "helpdesk.test"
    assert record["message"] == "lot 42 expired"
    assert record["lot"] == 42
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", record["time"])


def test_development_logs_are_plain_lines():
    result = run(["-c", LOG_SOMETHING], DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("WARNING helpdesk.test lot 42 expired")


def test_an_unknown_log_format_is_refused():
    result = run(["-c", "import django; django.setup()"], DEBUG="true", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be json or plain" in result.stderr


def test_the_compose_configuration_passes_the_deployment_checklist():
    """The variables compose sets, filled in as .env.example asks, with HTTPS on."""
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    filled = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "helpdesk.example.com",
        "HELPDESK_BASE_URL": "https://helpdesk.example.com",
        "HELPDESK_TIME_ZONE": "Europe/Berlin",
        "POSTGRES_PASSWORD": secrets.token_hex(24),
        "EMAIL_URL": "smtp+tls://helpdesk:secret@smtp.example.com:587",
        "DEFAULT_FROM_EMAIL": "HelpDesk <helpdesk@example.com>",
    }

    def interpolate(value: str) -> str:
        return re.sub(r"\$\{([A-Z0-9_]+):\?[^}]*\}", lambda m: filled[m[1]], value)

    environment = {
        name: interpolate(value)
        for name, value in compose["services"]["web"]["environment"].items()
    }
    environment.update(HTTPS="true", BEHIND_HTTPS_PROXY="true")

    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **environment)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
