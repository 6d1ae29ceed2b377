"""`make deploy-check` (deploy/check.sh) checked against the project without a container engine:
what would otherwise only fail in CI's run of the stack (a base image without a stand-in, a new
required variable the check does not fill, a script that could wait on standard input)."""

import re

import yaml

from tests.processes import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
CHECK = (DEPLOY / "check.sh").read_text()
STANDINS = (DEPLOY / "standins" / "build.sh").read_text()
COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
CHECK_COMPOSE = yaml.safe_load((DEPLOY / "compose.check.yml").read_text())
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (PROJECT_ROOT / ".env.example").read_text()


def qualified(image: str) -> str:
    """The name podman stores an official image under: python:3.11-slim is
    docker.io/library/python:3.11-slim."""
    return image if "/" in image else f"docker.io/library/{image}"


def standins() -> dict[str, str]:
    """{image: Containerfile} of every stand-in build.sh builds."""
    built = dict(re.findall(r"^build (\S+) (\S+\.Containerfile)$", STANDINS, flags=re.MULTILINE))
    for containerfile in built.values():
        assert (DEPLOY / "standins" / containerfile).is_file(), containerfile
    return built


def test_every_base_image_of_the_stack_has_a_stand_in():
    base_images = {
        qualified(service["image"])
        for service in COMPOSE["services"].values()
        if "build" not in service
    }
    base_images |= {
        qualified(name) for name in re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE)
    }
    assert base_images == {
        "docker.io/library/python:3.11-slim",
        "docker.io/library/postgres:15",
        "docker.io/library/redis:7",
    }
    assert base_images == set(standins())


def test_the_check_adds_only_an_smtp_catcher_from_a_stand_in_image():
    [(name, service)] = CHECK_COMPOSE["services"].items()
    assert name == "mailcatcher" and name not in COMPOSE["services"]
    assert service["image"] in standins()
    assert "EMAIL_URL=smtp://mailcatcher:1025" in CHECK


def test_the_check_fills_in_every_required_variable_of_the_env_example():
    required = set(re.findall(r"^([A-Z][A-Z0-9_]*)=$", ENV_EXAMPLE, flags=re.MULTILINE))
    filled = set(re.findall(r'-e "s\|\^([A-Z][A-Z0-9_]*)=\$\|', CHECK))
    assert required and required == filled


def test_the_check_is_bounded_and_cleans_up_whatever_happens():
    lines = CHECK.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    assert "exec </dev/null" in lines, "never waits on standard input"
    assert "trap tear_down EXIT" in lines
    assert re.search(r"compose down --volumes --remove-orphans", CHECK)
    assert re.search(r"^timeout \S+ deploy/standins/build\.sh$", CHECK, flags=re.MULTILINE)
    assert re.search(r'^timeout "\$\{DEPLOY_CHECK_TIMEOUT:-\d+\}" python3', CHECK, re.MULTILINE)
    # Its own project name and podman configuration: nothing else on the machine is touched.
    assert "PROJECT=${DEPLOY_CHECK_PROJECT:-helpdesk-deploy-check}" in lines
    assert "export CONTAINERS_CONF=$ROOT/deploy/containers.conf" in lines


def test_the_stack_publishes_only_the_web_port():
    """PostgreSQL and Redis of the host keep their ports: only web is published."""
    published = {name for name, service in COMPOSE["services"].items() if service.get("ports")}
    assert published == {"web"}
    assert not CHECK_COMPOSE["services"]["mailcatcher"].get("ports")


def test_ci_runs_the_check_after_the_test_suite():
    commands = [
        line
        for line in (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
        if line.startswith("make")
    ]
    assert commands == ["make test", "make deploy-check"]
    assert re.search(
        r"^deploy-check: .*\n\tdeploy/check\.sh$", (PROJECT_ROOT / "Makefile").read_text(), re.M
    )
