#!/usr/bin/env bash
# kustomize for test/deploy/kubernetes.test.ts: built once with `go install` from its Go module
# (pinned) and cached outside the repo. Never fails CI: without Go the test falls back to
# `kubectl kustomize` where that exists, or skips saying why.
set -uo pipefail
VERSION=v5.5.0
BIN_DIR=${VIPCAST_CACHE_DIR:-/var/cache/vipcast}/bin
# (a go-installed kustomize reports its version as "(devel)": a stamp records which one it is)
[ -x "$BIN_DIR/kustomize" ] && [ -f "$BIN_DIR/.kustomize-$VERSION" ] && exit 0
command -v go >/dev/null || { echo "kustomize.sh: no Go toolchain, kustomize $VERSION not built"; exit 0; }
mkdir -p "$BIN_DIR"
start=$SECONDS
if GOBIN="$BIN_DIR" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$VERSION" >"$BIN_DIR/../kustomize-build.log" 2>&1; then
  rm -f "$BIN_DIR"/.kustomize-* && touch "$BIN_DIR/.kustomize-$VERSION"
  echo "kustomize.sh: built kustomize $VERSION in $((SECONDS - start))s"
else
  echo "kustomize.sh: go install kustomize $VERSION failed (see ${BIN_DIR%/bin}/kustomize-build.log)"
fi
exit 0
