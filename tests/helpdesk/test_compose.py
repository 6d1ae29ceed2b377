"""docker-compose.yml, Dockerfile and .env.example, checked against the project (no Docker
engine is needed): the services an operator expects, commands that name real modules and
management commands, and every variable documented and the required ones enforced."""

import importlib
import re
import shlex

import pytest
import yaml
from django.core.management import get_commands

from tests.processes import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
COMPOSE_TEXT = (PROJECT_ROOT / "docker-compose.yml").read_text()
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (PROJECT_ROOT / ".env.example").read_text()
SETTINGS_SOURCE = (PROJECT_ROOT / "helpdesk" / "settings.py").read_text()
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]

# ${NAME}, ${NAME:-default}, ${NAME:?message}; not $${NAME}, the container's shell's variable.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>[A-Z0-9_]+)(?P<op>:?[-?])?(?P<rest>[^}]*)\}")
# Variables settings.py reads: env("X"), env.int("X", …), os.environ.get("X", …)
SETTINGS_VARIABLE = re.compile(r'(?:env(?:\.\w+)?|os\.environ\.get)\(\s*"([A-Z0-9_]+)"')
# Read by settings, but not for production: the embedded run, demos, tests.
NOT_FOR_PRODUCTION = {
    "CELERY_TASK_ALWAYS_EAGER",
    "HELPDESK_ENV_FILE",
    "HELPDESK_EXPIRY_INTERVAL_SECONDS",
    "HELPDESK_RUN_DIR",
    "PAYMENT_DEMO_ALLOWED",
    "STATIC_ROOT",
    "CELERY_BROKER_URL",
}


def command_of(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def documented_variables() -> set[str]:
    """NAME of every `NAME=` line of .env.example, commented out (optional) or not (required)."""
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, flags=re.MULTILINE))


def required_in_example() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=$", ENV_EXAMPLE, flags=re.MULTILINE))


def test_the_services_an_operator_expects_are_there():
    assert set(SERVICES) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    for service in APP_SERVICES:
        assert SERVICES[service]["build"] == ".", service
        assert SERVICES[service]["image"] == SERVICES["web"]["image"], "one image for all"
    assert "deploy" not in SERVICES["beat"], "exactly one beat: never replicated"


def test_the_database_and_uploaded_files_are_kept_in_named_volumes():
    assert set(COMPOSE["volumes"]) == {"pgdata", "media"}
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    assert "media:/app/media" in SERVICES["web"]["volumes"]
    assert "ENV MEDIA_ROOT=/app/media" in DOCKERFILE


def test_migrations_run_once_before_the_web_server_and_the_workers_start():
    assert command_of("migrate") == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for service in ("web", "worker", "beat"):
        depends_on = SERVICES[service]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", service
        assert depends_on["redis"]["condition"] == "service_healthy", service


@pytest.mark.parametrize("service", ["db", "redis", "web", "worker", "beat"])
def test_long_running_services_have_health_checks(service):
    healthcheck = SERVICES[service]["healthcheck"]
    assert healthcheck["test"][0] in ("CMD", "CMD-SHELL")
    assert healthcheck["interval"] and healthcheck["retries"]


def test_the_worker_health_check_pings_its_own_node_under_docker_and_podman():
    """Docker sets HOSTNAME in the container, podman does not: the node name falls back to
    hostname."""
    [kind, command] = SERVICES["worker"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    assert "inspect ping" in command and "--timeout=" in command
    assert '--destination="celery@$${HOSTNAME:-$$(hostname)}"' in COMPOSE_TEXT


def test_the_web_health_check_asks_the_liveness_url():
    test = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in test
    assert "ALLOWED_HOSTS" in test


def test_commands_name_real_modules_and_management_commands():
    management_commands = get_commands()
    assert command_of("migrate")[:3] == ["python", "manage.py", "migrate"]
    # Also those the Dockerfile runs and the ones compose's instructions name.
    texts = [DOCKERFILE, COMPOSE_TEXT, shlex.join(command_of("migrate"))]
    named = re.findall(r"python manage\.py (\w+)", "\n".join(texts))
    assert {"migrate", "collectstatic", "createsuperuser"} <= set(named)
    for name in named:
        assert name in management_commands, name

    web = command_of("web")
    assert web[0] == "gunicorn"
    module, _, attribute = web[1].partition(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    assert "--bind=0.0.0.0:8000" in web

    for service, subcommand in (("worker", "worker"), ("beat", "beat")):
        command = command_of(service)
        assert command[:4] == ["celery", "--app=helpdesk", "--quiet", subcommand], service
        app = importlib.import_module(command[1].split("=")[1]).celery_app
        assert app.main == "helpdesk"


def test_the_image_runs_as_a_user_and_serves_collected_static_files():
    assert DOCKERFILE.startswith("# ") and "FROM python:3.11-slim" in DOCKERFILE
    assert re.search(r"^USER helpdesk$", DOCKERFILE, flags=re.MULTILINE)
    assert "collectstatic --noinput" in DOCKERFILE
    assert '"helpdesk.wsgi:application"' in DOCKERFILE


def test_every_variable_compose_uses_is_documented_in_the_env_example():
    used = {match["name"] for match in INTERPOLATION.finditer(COMPOSE_TEXT)}
    assert used, "compose takes its configuration from the environment"
    assert used - documented_variables() == set()


def test_required_variables_stop_compose_with_a_message_and_have_no_default():
    operations = {}
    for match in INTERPOLATION.finditer(COMPOSE_TEXT):
        operations.setdefault(match["name"], set()).add(match["op"])
    required = {name for name, ops in operations.items() if ":?" in ops}
    assert {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "POSTGRES_PASSWORD",
        "HELPDESK_BASE_URL",
        "HELPDESK_TIME_ZONE",
        "EMAIL_URL",
        "DEFAULT_FROM_EMAIL",
    } <= required
    for name, ops in operations.items():
        # Every use of a required variable is guarded; the others have a default.
        assert ops == {":?"} or ops == {":-"}, (name, ops)
    assert required == required_in_example()


def test_every_setting_an_operator_may_need_is_documented_in_the_env_example():
    """A new setting in settings.py fails here until .env.example documents it."""
    read_by_settings = set(SETTINGS_VARIABLE.findall(SETTINGS_SOURCE))
    set_by_compose = set(SERVICES["web"]["environment"]) | {"MEDIA_ROOT"}
    undocumented = read_by_settings - documented_variables() - set_by_compose - NOT_FOR_PRODUCTION
    assert undocumented == set(), "document these in .env.example"


def test_the_app_services_share_one_configuration_from_the_environment():
    for service in APP_SERVICES:
        config = SERVICES[service]
        assert config["env_file"] == ".env", service
        environment = config["environment"]
        assert environment["DEBUG"] == "false"
        assert environment["DATABASE_URL"].endswith("@db:5432/helpdesk")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
