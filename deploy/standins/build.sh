#!/usr/bin/env bash
# Builds local stand-ins for the base images docker-compose.yml and the Dockerfile name
# (python:3.11-slim, postgres:15, redis:7) from Debian's packages, for machines that reach Debian's
# mirror but no image registry. Cached: an image is rebuilt only when its Containerfile changed;
# an image of that name that is not a stand-in (an official one) is left alone and used.
set -euo pipefail
cd "$(dirname "$0")"

BASE=localhost/helpdesk-standin/debian:bookworm
MIRROR=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list 2>/dev/null | grep -oE 'https?://[^ ]+' | head -n 1 || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

rootfs=""
CONTEXT=$(mktemp -d /var/tmp/helpdesk-standin-context.XXXXXX)
trap 'rm -rf "$CONTEXT" $rootfs' EXIT

if ! podman image exists "$BASE"; then
    echo "stand-ins: debootstrap of Debian bookworm from $MIRROR (about two minutes)"
    rootfs=$(mktemp -d /var/tmp/helpdesk-standin-rootfs.XXXXXX)
    timeout 900 debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
    tar -C "$rootfs" -c . | podman import --quiet - "$BASE" >/dev/null
fi

# The build context: these files and the certificate authorities the host added.
cp ./*.Containerfile postgres-entrypoint.sh "$CONTEXT/"
mkdir "$CONTEXT/ca-certificates"
find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$CONTEXT/ca-certificates/" \; \
    2>/dev/null || true

build() {  # image, Containerfile
    local image=$1 file=$2 digest
    digest=$(cat "$file" postgres-entrypoint.sh "$CONTEXT"/ca-certificates/* 2>/dev/null \
        | sha256sum | cut -c1-16)
    if podman image exists "$image"; then
        local label
        label=$(podman image inspect --format '{{ index .Labels "helpdesk.standin" }}' "$image")
        if [ -z "$label" ] || [ "$label" = "<no value>" ]; then
            echo "stand-ins: $image is not a stand-in (an official image): used as it is"
            return
        fi
        [ "$label" = "$digest" ] && { echo "stand-ins: $image cached"; return; }
    fi
    local previous
    previous=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    echo "stand-ins: building $image"
    timeout 900 podman build --quiet --label "helpdesk.standin=$digest" --tag "$image" \
        --file "$CONTEXT/$file" "$CONTEXT" >/dev/null
    # The replaced stand-in, now untagged.
    [ -z "$previous" ] || podman rmi "$previous" >/dev/null 2>&1 || true
}

build docker.io/library/python:3.11-slim python.Containerfile
build docker.io/library/postgres:15 postgres.Containerfile
build docker.io/library/redis:7 redis.Containerfile
