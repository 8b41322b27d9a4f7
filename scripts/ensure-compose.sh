#!/usr/bin/env bash
# Print the path of a docker-compose binary, installing Debian's
# docker-compose package first when none is on the PATH.
#
# Only `docker-compose config` (file validation) needs no Docker engine;
# `docker-compose up` needs one. The install runs `apt-get update` once and
# needs root. Progress goes to standard error, and standard output is only
# the path.
set -euo pipefail

if command -v docker-compose >/dev/null 2>&1; then
    command -v docker-compose
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-compose: docker-compose is missing and this system has no" \
        "apt-get: install docker-compose 1.29 or later by hand" >&2
    exit 1
fi

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
    SUDO=(sudo)
fi

# Another apt-get may hold the dpkg lock, so wait for it rather than fail.
APT_OPTIONS=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
echo "ensure-compose: installing Debian's docker-compose package" >&2
"${SUDO[@]}" apt-get "${APT_OPTIONS[@]}" update -qq >&2
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get "${APT_OPTIONS[@]}" \
    install -y -qq --no-install-recommends docker-compose >&2
command -v docker-compose
