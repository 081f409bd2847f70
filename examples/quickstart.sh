#!/usr/bin/env bash
# vipcast quickstart: watch a VIP go up, down, drain and withdraw at a BGP peer, with nothing
# else installed. The peer is vipcast itself in receive-only mode (`vipcast listen`); the
# service is a tiny HTTP server. Everything runs on 127.0.0.1 (ports 1179, 8080, 9179) and
# the script stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/src/cli/main.js ] || npm run build
vipcast() { node dist/src/cli/main.js "$@"; }
cli=dist/src/cli/main.js

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -f examples/drain-web
  rm -rf "$work"
}
trap cleanup EXIT

service() { node -e "require('http').createServer((q,s)=>s.end('ok\n')).listen(8080,'127.0.0.1')" & service_pid=$!; pids+=("$service_pid"); }

# Waits (at most 20 s) until the peer's output has N lines matching a pattern.
expect_peer() {
  local pattern=$1 count=$2 what=$3
  for _ in $(seq 1 200); do
    if [ "$(grep -c -- "$pattern" "$work/peer.log" 2>/dev/null || true)" -ge "$count" ]; then
      echo "  ok: $what"; return 0
    fi
    sleep 0.1
  done
  echo "  FAILED: $what (peer output below)"; cat "$work/peer.log"; echo "--- vipcast log"; tail -20 "$work/vipcast.log"; exit 1
}

echo "1. a receive-only BGP peer (AS 65000) on 127.0.0.1:1179, and a service on 127.0.0.1:8080"
node "$cli" listen --local-as 65000 --router-id 127.0.0.2 --address 127.0.0.1 --port 1179 >"$work/peer.log" 2>&1 &
pids+=($!)
service

echo "2. vipcast run --config examples/quickstart.yaml (VIP 192.0.2.10/32, http check)"
node "$cli" run --config examples/quickstart.yaml >"$work/vipcast.log" 2>&1 &
vipcast_pid=$!
pids+=("$vipcast_pid")
expect_peer 'announce.*192.0.2.10/32' 1 "the peer received 192.0.2.10/32"

echo "3. stop the service: the route is withdrawn"
kill "$service_pid"
expect_peer 'withdraw.*192.0.2.10/32' 1 "the peer saw the withdraw"

echo "4. start the service again: the route comes back"
service
expect_peer 'announce.*192.0.2.10/32' 2 "the peer received it again"

echo "5. touch examples/drain-web: drained in order (GRACEFUL_SHUTDOWN 65535:0 first, withdraw after the grace period)"
touch examples/drain-web
expect_peer '65535:0' 1 "the peer saw the RFC 8326 graceful-shutdown community"
expect_peer 'withdraw.*192.0.2.10/32' 2 "then the withdraw"
rm -f examples/drain-web
expect_peer 'announce.*192.0.2.10/32' 4 "undrained: announced again"

echo "6. vipcast status"
vipcast status --admin http://127.0.0.1:9179 | sed 's/^/  /'

echo "7. SIGTERM: ordered shutdown (community, grace period, withdraw, exit 0)"
kill -TERM "$vipcast_pid"
status=0; wait "$vipcast_pid" || status=$?
expect_peer 'withdraw.*192.0.2.10/32' 3 "the peer saw the final withdraw"
echo "  vipcast exited with status $status"

echo
echo "What the peer printed:"
sed 's/^/  /' "$work/peer.log"
