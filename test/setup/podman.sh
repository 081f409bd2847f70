#!/usr/bin/env bash
# Container engine for the deployment tests (test/deploy/): podman with its Docker-compatible
# socket and a local Debian base image, since no image registry is reachable here.
#
# Idempotent and cached: a second run only pings the socket and checks that the image exists.
# It never fails CI: when no engine can be had it prints why, writes the reason to
# $VIPCAST_ENGINE_REASON_FILE, exits 0, and the container tests skip with that reason.
set -uo pipefail

SOCK_PATH=${VIPCAST_PODMAN_SOCK:-/run/podman/podman.sock}
BASE_IMAGE=${VIPCAST_BASE_IMAGE:-localhost/debian:bookworm}
CACHE_DIR=${VIPCAST_CACHE_DIR:-/var/cache/vipcast}
REASON_FILE=${VIPCAST_ENGINE_REASON_FILE:-/tmp/vipcast-engine-unavailable}
CONF=/etc/containers/containers.conf
MARK="# managed by vipcast test/setup/podman.sh"

log() { echo "podman.sh: $*"; }
unavailable() {
  log "no container engine: $*"
  printf '%s\n' "$*" >"$REASON_FILE" 2>/dev/null || true
  exit 0
}

rm -f "$REASON_FILE" 2>/dev/null || true
# kustomize for the manifest tests (no engine needed; cached)
bash "$(dirname "$0")/kustomize.sh" || true
[ "$(id -u)" = 0 ] || unavailable "needs root to configure podman (running as uid $(id -u))"
command -v podman >/dev/null || unavailable "podman is not installed (test/setup/install-deps.sh installs it)"

# 1. containers.conf: runc (crun is not what Debian's podman finds here) and modest ulimits
#    (without them container start fails on setrlimit and cgroups on this machine).
write_conf() {
  mkdir -p /etc/containers
  cat >"$CONF" <<EOF
$MARK
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
EOF
}
if [ ! -f "$CONF" ]; then
  write_conf
  log "wrote $CONF"
elif ! grep -q '^runtime *= *"runc"' "$CONF" || ! grep -q '^default_ulimits' "$CONF"; then
  if grep -q "$MARK" "$CONF"; then
    write_conf
  else
    cp "$CONF" "$CONF.vipcast-backup"
    # Insert the keys under existing tables, or add the tables.
    tmp=$(mktemp)
    awk '
      /^\[containers\]/ { print; if (!u) print "default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]"; u=1; next }
      /^\[engine\]/     { print; if (!r) print "runtime = \"runc\""; r=1; next }
      /^default_ulimits/ || /^runtime *=/ { next }
      { print }
      END {
        if (!u) { print "[containers]"; print "default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]" }
        if (!r) { print "[engine]"; print "runtime = \"runc\"" }
      }' "$CONF.vipcast-backup" >"$tmp" && mv "$tmp" "$CONF"
    log "updated $CONF (backup at $CONF.vipcast-backup)"
  fi
fi

# 2. The Docker-compatible API socket (testcontainers and docker-compose talk to it).
ping_socket() { curl -sf --max-time 3 --unix-socket "$SOCK_PATH" http://d/_ping >/dev/null 2>&1; }
if ! ping_socket; then
  mkdir -p "$(dirname "$SOCK_PATH")" "$CACHE_DIR"
  rm -f "$SOCK_PATH"
  setsid nohup podman system service --time=0 "unix://$SOCK_PATH" >"$CACHE_DIR/podman-service.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do ping_socket && break; sleep 0.2; done
  ping_socket || unavailable "podman system service did not answer on $SOCK_PATH (see $CACHE_DIR/podman-service.log)"
  log "podman API socket up at $SOCK_PATH"
fi

# 3. A Debian base image made locally (no registry): debootstrap minbase, imported as a tarball.
#    The tarball is cached so a wiped image store is refilled in seconds.
if ! podman image exists "$BASE_IMAGE"; then
  mkdir -p "$CACHE_DIR"
  tarball="$CACHE_DIR/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || unavailable "debootstrap is not installed, cannot make $BASE_IMAGE"
    root=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
    log "debootstrap --variant=minbase bookworm (first run only, about a minute)"
    start=$(date +%s)
    if ! debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$CACHE_DIR/debootstrap.log" 2>&1; then
      rm -rf "$root"
      unavailable "debootstrap failed (see $CACHE_DIR/debootstrap.log)"
    fi
    # Smaller image: no apt lists or caches (builds run apt-get update themselves).
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
    log "debootstrap done in $(( $(date +%s) - start ))s"
  fi
  podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" <"$tarball" >/dev/null 2>&1 \
    || unavailable "podman import of $tarball failed"
  log "imported $BASE_IMAGE"
fi

# 4. Can containers actually start? (checked once per engine start; cached by a stamp file
#    keyed on the service's pid so a restarted service is checked again)
pid=$(pgrep -f "podman system service --time=0 unix://$SOCK_PATH" | head -n1)
stamp="$CACHE_DIR/run-ok.${pid:-none}"
if [ ! -f "$stamp" ]; then
  if out=$(timeout 60 podman run --rm --network=none "$BASE_IMAGE" true 2>&1); then
    rm -f "$CACHE_DIR"/run-ok.*
    touch "$stamp"
  else
    unavailable "podman cannot start a container: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
  fi
fi
log "engine ready (socket $SOCK_PATH, base image $BASE_IMAGE)"
exit 0
