#!/usr/bin/env bash
# Builds the pinned GoBGP releases the GoBGP backend is tested against, from their Go modules,
# into a cache outside the repository: $VIPCAST_GOBGP_CACHE (default /var/cache/vipcast/gobgp)
# /<version>/{gobgpd,gobgp}. Debian's gobgpd (3.10, /usr/bin/gobgpd) is the third version tested.
# Idempotent: a version whose two binaries exist is not rebuilt. Prints where the binaries are.
# Without a Go toolchain, or when a build fails, it says so and exits 0: the tests then skip
# those versions with the reason.
set -euo pipefail

# Pinned: the latest v3 release and the current v4 release (bump both here and in
# test/harness/gobgpd.ts GOBGP_VERSIONS together).
VERSIONS=(v3.37.0 v4.8.0)
CACHE="${VIPCAST_GOBGP_CACHE:-/var/cache/vipcast/gobgp}"

if ! command -v go >/dev/null 2>&1; then
  echo "gobgp-binaries: no Go toolchain; GoBGP ${VERSIONS[*]} not built (their tests will skip)"
  exit 0
fi

# go install pkg@version first; when it fails (the module proxy refuses the v3 version list, which
# `go install` reads for deprecation notices, with 403), the same pinned version is built from a
# throwaway module, whose dependency versions are the same minimal selection.
build() {
  local major="$1" v="$2" out="$3"
  if GOBIN="$out" CGO_ENABLED=0 go install "github.com/osrg/gobgp/$major/cmd/gobgpd@$v" 2>"$out/install.log" \
     && GOBIN="$out" CGO_ENABLED=0 go install "github.com/osrg/gobgp/$major/cmd/gobgp@$v" 2>>"$out/install.log"; then
    return 0
  fi
  echo "gobgp-binaries: go install $v failed ($(tail -1 "$out/install.log")); building from a temp module" >&2
  local mod
  mod="$(mktemp -d)"
  (cd "$mod" && go mod init vipcast-gobgp-build >/dev/null 2>&1 \
     && go get "github.com/osrg/gobgp/$major/cmd/gobgpd@$v" "github.com/osrg/gobgp/$major/cmd/gobgp@$v" >/dev/null 2>&1 \
     && CGO_ENABLED=0 go build -o "$out/gobgpd" "github.com/osrg/gobgp/$major/cmd/gobgpd" \
     && CGO_ENABLED=0 go build -o "$out/gobgp" "github.com/osrg/gobgp/$major/cmd/gobgp")
  local rc=$?
  rm -rf "$mod"
  return $rc
}

failed=()
for v in "${VERSIONS[@]}"; do
  dir="$CACHE/$v"
  major="${v%%.*}" # v3 / v4
  if [ -x "$dir/gobgpd" ] && [ -x "$dir/gobgp" ]; then
    echo "gobgp-binaries: $v cached in $dir"
    continue
  fi
  mkdir -p "$dir"
  tmp="$(mktemp -d "$dir/.build.XXXXXX")"
  ok=0
  for attempt in 1 2 3; do
    if build "$major" "$v" "$tmp"; then ok=1; break; fi
    echo "gobgp-binaries: build of $v failed (attempt $attempt), retrying" >&2
    sleep $((attempt * 5))
  done
  if [ "$ok" != 1 ]; then
    rm -rf "$tmp"
    echo "gobgp-binaries: WARNING: could not build $v; its tests will skip with that reason" >&2
    failed+=("$v")
    continue
  fi
  mv -f "$tmp/gobgpd" "$tmp/gobgp" "$dir/"
  rm -rf "$tmp"
  echo "gobgp-binaries: $v built into $dir"
done
# Exit 0 even when a build failed (the module proxy may be unreachable): the rest of the setup
# must still run, and the tests of a missing version skip and say why.
[ ${#failed[@]} -eq 0 ] || echo "gobgp-binaries: not built: ${failed[*]}" >&2
exit 0
