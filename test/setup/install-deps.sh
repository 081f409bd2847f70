#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine (run as root; idempotent).
# Real BGP peers come from Debian: bird2, frr, gobgpd (3.10), exabgp. GoBGP's latest v3 and v4
# are built from their Go modules by test/setup/gobgp-binaries.sh.
set -euo pipefail
pkgs=(bird2 frr gobgpd exabgp iproute2 dnsutils tshark nix-bin golang-github-osrg-gobgp-dev
      podman docker-compose debootstrap runc uidmap slirp4netns fuse-overlayfs)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packages start their daemons as system services where an init system runs; tests start
# their own instances on test addresses, so the system ones must not hold port 179.
for svc in bird frr gobgpd exabgp; do
  (systemctl stop "$svc" 2>/dev/null || service "$svc" stop 2>/dev/null) >/dev/null 2>&1 || true
done
pkill -x bird 2>/dev/null || true
pkill -x gobgpd 2>/dev/null || true
exit 0
