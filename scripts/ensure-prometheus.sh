#!/usr/bin/env bash
# Install Debian's prometheus package when promtool or prometheus is missing.
#
# The alert-rule tests need promtool, and the observability integration test
# runs a prometheus server of its own on 127.0.0.1. Installing the package
# needs root (or sudo without a password). The package may also start a
# system prometheus service, which the tests never use: they start their own
# server with their own configuration, port and data folder.
set -euo pipefail

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "ensure-prometheus: promtool or prometheus is missing, and installing" \
        "Debian's prometheus package needs root; run:" \
        "apt-get install --no-install-recommends prometheus" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends prometheus

for tool in promtool prometheus; do
    if ! command -v "$tool" >/dev/null; then
        echo "ensure-prometheus: $tool is still missing after installing" \
            "the prometheus package" >&2
        exit 1
    fi
done
