#!/usr/bin/env bash
# Print the path of a helm binary of the pinned release, building it first
# when it is missing.
#
# Helm is built from source with `go install`, through the Go module proxy
# (GOPROXY, by default https://proxy.golang.org), into
# ${SEAWALL_CACHE:-$HOME/.cache/seawall}/bin. The first build downloads
# about 200 MB of modules and took 2.5 minutes on a 2-core machine. Later
# runs find the binary and return at once. Set HELM to use another binary.
#
# Progress goes to standard error, and standard output is only the path.
set -euo pipefail

HELM_VERSION="v3.21.4"
# The Kubernetes version that `helm template` and `helm lint` assume without
# a cluster. Helm's Makefile derives it from the client-go module it builds
# with: v0.36.2 for helm v3.21.4, so Kubernetes 1.36. Without these flags a
# `go install` build assumes Kubernetes 1.20.
KUBE_MAJOR=1
KUBE_MINOR=36

CACHE="${SEAWALL_CACHE:-$HOME/.cache/seawall}"
BIN_DIR="$CACHE/bin"
TARGET="$BIN_DIR/helm"
STAMP="$BIN_DIR/helm.build"

if [[ -n "${HELM:-}" ]]; then
    echo "$HELM"
    exit 0
fi

LDFLAGS="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for package in pkg/lint/rules pkg/chartutil; do
    LDFLAGS+=" -X helm.sh/helm/v3/$package.k8sVersionMajor=$KUBE_MAJOR"
    LDFLAGS+=" -X helm.sh/helm/v3/$package.k8sVersionMinor=$KUBE_MINOR"
done

# The stamp records the flags of the last build, so a binary built with
# other flags, or of another release, is rebuilt.
if [[ -x "$TARGET" && -f "$STAMP" && "$(cat "$STAMP")" == "$LDFLAGS" ]]; then
    echo "$TARGET"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    echo "ensure-helm: 'go' not found on PATH: install Go 1.24 or later" >&2
    exit 1
fi

mkdir -p "$BIN_DIR"
echo "ensure-helm: building helm $HELM_VERSION into $BIN_DIR" >&2
# -buildvcs=false: the module cache has no VCS data to stamp. CGO is off so
# the binary is static and needs no C toolchain.
GOBIN="$BIN_DIR" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}" \
    go install -ldflags "$LDFLAGS" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
printf '%s' "$LDFLAGS" > "$STAMP"
echo "$TARGET"
