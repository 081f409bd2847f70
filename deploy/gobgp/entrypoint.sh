#!/bin/bash
# gobgpd as vipcast's sidecar.
#   GOBGP_API_HOSTS   gRPC listen address (default 127.0.0.1:50051: only the pod reaches it)
#   GOBGP_CONFIG      gobgpd config file, used when it exists (default /etc/gobgp/gobgpd.conf)
#   GOBGP_LOG_LEVEL   debug|info|warn|error (default info)
#   VIPCAST_HEALTHZ   fail-safe watchdog (for engines without liveness probes, e.g. compose):
#                     host:port of vipcast's admin API; when /healthz has not answered 200 for
#                     VIPCAST_HEALTHZ_FAILURES (default 3) probes VIPCAST_HEALTHZ_PERIOD (default
#                     5s) apart, after VIPCAST_HEALTHZ_GRACE (default 30s) since the last 200 or
#                     start, gobgpd is stopped and the container exits 1, so every route vipcast
#                     put in it is dropped. In Kubernetes the sidecar's livenessProbe does this.
#
# `gobgp-sidecar wait-vipcast-exit HOST:PORT SECONDS` (the Kubernetes preStop): keeps gobgpd's
# sessions up while vipcast drains (vipcast's /healthz stays 200 during its ordered shutdown),
# and returns once vipcast is gone (nothing accepts on its admin port), once vipcast is hung
# (it accepts, from the kernel's backlog, but /healthz does not answer 200 within 2 s: waiting
# would only delay the fail-safe), or after SECONDS.
set -uo pipefail

# healthz HOST:PORT -> 0 when GET /healthz answers 200 within 2 s (bash /dev/tcp: no curl needed)
healthz() {
  local host=${1%:*} port=${1##*:} line
  { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
  printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
  IFS= read -r -t 2 line <&3 || { exec 3<&-; return 1; }
  exec 3<&-
  [[ $line == HTTP/1.[01]\ 200* ]]
}

if [ "${1:-}" = wait-vipcast-exit ]; then
  addr=${2:-127.0.0.1:9179}; limit=${3:-40}; start=$SECONDS
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    healthz "$addr" || exit 0
    sleep 1
  done
  exit 0
fi
api=${GOBGP_API_HOSTS:-127.0.0.1:50051}
conf=${GOBGP_CONFIG:-/etc/gobgp/gobgpd.conf}
args=(--api-hosts "$api" --log-plain --log-level "${GOBGP_LOG_LEVEL:-info}" --pprof-disable)
[ -f "$conf" ] && args+=(-f "$conf" -t "${GOBGP_CONFIG_TYPE:-toml}")
[ "$#" -gt 0 ] && args+=("$@")

if [ -z "${VIPCAST_HEALTHZ:-}" ]; then
  exec /usr/bin/gobgpd "${args[@]}"
fi

/usr/bin/gobgpd "${args[@]}" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
period=${VIPCAST_HEALTHZ_PERIOD:-5}; failures=${VIPCAST_HEALTHZ_FAILURES:-3}; grace=${VIPCAST_HEALTHZ_GRACE:-30}
last_ok=$SECONDS; failed=0
while kill -0 "$child" 2>/dev/null; do
  sleep "$period" & wait $! 2>/dev/null
  kill -0 "$child" 2>/dev/null || break
  if healthz "$VIPCAST_HEALTHZ"; then last_ok=$SECONDS; failed=0; continue; fi
  failed=$((failed + 1))
  if [ "$failed" -ge "$failures" ] && [ $((SECONDS - last_ok)) -ge "$grace" ]; then
    echo "gobgp-sidecar: vipcast /healthz at $VIPCAST_HEALTHZ failed $failed times; stopping gobgpd so its routes are withdrawn" >&2
    kill -TERM "$child" 2>/dev/null
    wait "$child"
    exit 1
  fi
done
wait "$child"
