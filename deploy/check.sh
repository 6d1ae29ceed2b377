#!/usr/bin/env bash
# `make deploy-check`: docker-compose.yml brought up with podman-compose on this machine, exercised
# as an operator would (deploy/check_stack.py) and torn down (`down -v`) whatever happens.
# Installs podman and debootstrap as root when missing; builds and caches the base images'
# stand-ins (deploy/standins/); never reads standard input. Bounded: the scenario is stopped
# after DEPLOY_CHECK_TIMEOUT seconds (default 840), the stand-ins' build after 1200.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
ROOT=$PWD

PROJECT=${DEPLOY_CHECK_PROJECT:-helpdesk-deploy-check}
PODMAN_COMPOSE=${PODMAN_COMPOSE:-$ROOT/.venv/bin/podman-compose}
# Podman's settings for this machine, without touching /etc/containers.
export CONTAINERS_CONF=$ROOT/deploy/containers.conf

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "deploy-check needs podman and debootstrap (as root: make deploy-check," \
            "or apt-get install -y podman debootstrap runc)" >&2
        exit 1
    fi
    echo "deploy-check: installing podman and debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap runc >/dev/null
fi
[ -x "$PODMAN_COMPOSE" ] || { echo "podman-compose is missing: make install" >&2; exit 1; }

timeout 1200 deploy/standins/build.sh

STAGE=$(mktemp -d /var/tmp/helpdesk-deploy-check.XXXXXX)
compose() {
    (cd "$STAGE" && timeout 300 "$PODMAN_COMPOSE" --project-name "$PROJECT" --in-pod false \
        --file docker-compose.yml --file compose.check.yml "$@")
}
label="label=io.podman.compose.project=$PROJECT"
leftovers() {
    podman ps --all --quiet --filter "$label"
    podman pod ls --quiet --filter "$label"
    podman volume ls --quiet --filter "$label"
    podman network ls --quiet --filter "$label"
}
remove_leftovers() {  # what compose did not remove (a run cut short), by the project's label
    local remove="timeout 120 xargs --no-run-if-empty podman"
    podman container ls --all --quiet --filter "$label" | $remove container rm --force --depend
    podman pod ls --quiet --filter "$label" | $remove pod rm --force
    podman volume ls --quiet --filter "$label" | $remove volume rm --force
    podman network ls --quiet --filter "$label" | $remove network rm --force
}
tear_down() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$status" != 0 ]; then
        for container in $(podman ps --all --format '{{.Names}}' --filter "$label"); do
            echo "----- last logs of $container"
            timeout 30 podman logs --tail 40 "$container" 2>&1 || true
        done
    fi
    compose down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || true
    remove_leftovers >/dev/null 2>&1 || true
    rm -rf "$STAGE"
    if [ -n "$(leftovers)" ]; then
        echo "deploy-check: FAILED: containers, volumes or networks of $PROJECT are left:" >&2
        leftovers >&2
        status=1
    fi
    [ "$status" = 0 ] && echo "deploy-check: passed; down -v left nothing running"
    exit "$status"
}
trap tear_down EXIT
trap 'exit 130' INT TERM

# A stack left by an interrupted run goes first.
remove_leftovers >/dev/null 2>&1 || true

# The project as the image sees it (.dockerignore applies to the build), plus the .env.
tar -C "$ROOT" --exclude=./.git --exclude=./.venv --exclude=./.env --exclude=./var \
    --exclude=./media --exclude=./staticfiles --exclude='*/__pycache__' -c . \
    | tar -C "$STAGE" -x
cp deploy/compose.check.yml "$STAGE/"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
random() { python3 -c "import secrets; print(secrets.token_hex($1))"; }
sed -e "s|^SECRET_KEY=$|SECRET_KEY=$(random 32)|" \
    -e "s|^ALLOWED_HOSTS=$|ALLOWED_HOSTS=localhost|" \
    -e "s|^HELPDESK_BASE_URL=$|HELPDESK_BASE_URL=http://localhost:$PORT|" \
    -e "s|^HELPDESK_TIME_ZONE=$|HELPDESK_TIME_ZONE=Europe/Berlin|" \
    -e "s|^POSTGRES_PASSWORD=$|POSTGRES_PASSWORD=$(random 24)|" \
    -e "s|^EMAIL_URL=$|EMAIL_URL=smtp://mailcatcher:1025|" \
    -e "s|^DEFAULT_FROM_EMAIL=$|DEFAULT_FROM_EMAIL=HelpDesk <helpdesk@example.com>|" \
    .env.example > "$STAGE/.env"
cat >> "$STAGE/.env" <<ENV
# deploy-check: plain HTTP on a free port, a light stack, beat's expiry job every 5 seconds.
HTTPS=false
HELPDESK_PORT=$PORT
HELPDESK_IMAGE=localhost/$PROJECT:latest
WEB_CONCURRENCY=2
CELERY_WORKER_CONCURRENCY=1
HELPDESK_EXPIRY_INTERVAL_SECONDS=5
ENV
if grep -qE '^[A-Z_]+=$' "$STAGE/.env"; then
    echo "deploy-check: .env.example has a required variable the check does not fill:" >&2
    grep -E '^[A-Z_]+=$' "$STAGE/.env" >&2
    exit 1
fi

timeout "${DEPLOY_CHECK_TIMEOUT:-840}" python3 deploy/check_stack.py --stage "$STAGE" \
    --project "$PROJECT" --port "$PORT" --image "localhost/$PROJECT:latest" \
    --podman-compose "$PODMAN_COMPOSE"
