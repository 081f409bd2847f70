#!/usr/bin/env bash
# Build measure.ts (and the engine it imports) into a temp dir and run it; extra arguments go
# to measure.ts (see its header). VIPCAST_PERF_OUT=dir reuses a build dir; VIPCAST_PERF_NOBUILD=1
# skips the build (back-to-back runs of one build). Example: test/health/perf/run.sh --passive off --window 20
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="${VIPCAST_PERF_OUT:-/tmp/vipcast-perf-$$}"
cd "$repo"
[ -n "${VIPCAST_PERF_NOBUILD:-}" ] || npx tsc -p "$here/tsconfig.json" --outDir "$out" >&2
# Resolve node_modules from the repo: link it next to the compiled tree.
[ -e "$out/node_modules" ] || ln -s "$repo/node_modules" "$out/node_modules"
[ -e "$out/package.json" ] || cp "$repo/package.json" "$out/package.json"
VIPCAST_PERF_SERVERS="$here/servers.mjs" exec node ${NODE_FLAGS:-} "$out/test/health/perf/measure.js" "$@"
