#!/usr/bin/env bash
# Builds vipcast's container images with podman (layer-cached: a rebuild with nothing changed
# takes seconds):
#   localhost/vipcast:dev               vipcast (deploy/image/Containerfile)
#   localhost/vipcast-gobgp:dev         gobgpd sidecar (deploy/gobgp/)
#   localhost/vipcast-router:dev        BIRD 2 router for the compose demo (deploy/router/)
#   localhost/vipcast-demo-backend:dev  busybox httpd demo backend (deploy/demo-backend/)
#
# usage: deploy/build-images.sh [vipcast|gobgp|router|demo-backend ...]   (default: all)
# env:   BASE_IMAGE      base of every image (default localhost/debian:bookworm)
#        TAG             image tag (default dev)
#        NODE_BIN        Node.js >= 20 binary copied into the vipcast image (default: `command -v node`)
#        NPM_DIR         npm package directory copied into the builder (default: next to node)
#        VIPCAST_SOURCE  worktree (default: the tracked files as they are now) or a git revision
#                        (e.g. HEAD: what is committed)
#        NPM_CACHE       npm cache mounted copy-on-write into the builder, whose `npm ci` runs
#                        --offline (default: $VIPCAST_CACHE_DIR/npm-cache, filled on the host
#                        from the lockfile whenever the lockfile changes)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
BASE_IMAGE=${BASE_IMAGE:-localhost/debian:bookworm}
TAG=${TAG:-dev}
CACHE_DIR=${VIPCAST_CACHE_DIR:-/var/cache/vipcast}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(vipcast gobgp router demo-backend)

build() { # build NAME CONTEXT [extra podman args...]
  local name=$1 ctx=$2; shift 2
  local t0=$SECONDS
  podman build --layers --pull=never --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "localhost/$name:$TAG" "$@" "$ctx" >"$CACHE_DIR/build-$name.log" 2>&1 \
    || { echo "build-images: $name failed, last lines of $CACHE_DIR/build-$name.log:" >&2; tail -n 30 "$CACHE_DIR/build-$name.log" >&2; return 1; }
  echo "build-images: localhost/$name:$TAG built in $((SECONDS - t0))s ($(podman image inspect --format '{{.Size}}' "localhost/$name:$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
}

stage_vipcast() { # stage the vipcast build context: app/ (sources), node/ (runtime), vipcast.yaml
  local ctx=$1 node npm_dir
  node=$(readlink -f "${NODE_BIN:-$(command -v node)}")
  "$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
    || { echo "build-images: $node is older than Node 20" >&2; return 1; }
  npm_dir=${NPM_DIR:-$(dirname "$(dirname "$node")")/lib/node_modules/npm}
  [ -f "$npm_dir/bin/npm-cli.js" ] || { echo "build-images: npm not found at $npm_dir (set NPM_DIR)" >&2; return 1; }
  rm -rf "$ctx" && mkdir -p "$ctx/app" "$ctx/node/bin" "$ctx/node/lib/node_modules"
  cp "$node" "$ctx/node/bin/node"
  cp -a "$npm_dir" "$ctx/node/lib/node_modules/npm"
  local paths=(package.json package-lock.json tsconfig.json tsconfig.build.json src proto)
  if [ "${VIPCAST_SOURCE:-worktree}" = worktree ]; then
    git ls-files -z -- "${paths[@]}" | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
      | tar --null -T - -cf - | tar -C "$ctx/app" -xf -
  else
    git archive --format=tar "$VIPCAST_SOURCE" -- "${paths[@]}" | tar -C "$ctx/app" -xf -
  fi
  mkdir -p "$ctx/app/src" "$ctx/app/proto"
  # The image compiles src/ only (tsconfig.build.json also covers bench/, which needs test/).
  printf '{ "extends": "./tsconfig.build.json", "include": ["src"] }\n' >"$ctx/app/tsconfig.image.json"
  cp deploy/image/Containerfile deploy/image/vipcast.yaml "$ctx/"
}

fill_npm_cache() { # fill_npm_cache APPDIR CACHE: every package of the lockfile in CACHE
  local app=$1 cache=$2 sum
  sum=$(sha256sum "$app/package-lock.json" | cut -c1-16)
  [ -f "$cache/.filled-$sum" ] && return 0
  local tmp; tmp=$(mktemp -d)
  cp "$app/package.json" "$app/package-lock.json" "$tmp/"
  (cd "$tmp" && npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --cache "$cache" >/dev/null 2>&1) \
    || { rm -rf "$tmp"; echo "build-images: npm ci on the host (to fill $cache) failed" >&2; return 1; }
  rm -rf "$tmp"
  rm -f "$cache"/.filled-*
  touch "$cache/.filled-$sum"
}

mkdir -p "$CACHE_DIR"
# One build at a time (test files running in parallel each ask for the images).
exec 9>"$CACHE_DIR/build-images.lock"
flock -w 1800 9 || { echo "build-images: another build holds $CACHE_DIR/build-images.lock" >&2; exit 1; }
for t in "${targets[@]}"; do
  case $t in
    vipcast)
      ctx="$CACHE_DIR/context/vipcast"
      stage_vipcast "$ctx"
      cache=${NPM_CACHE:-$CACHE_DIR/npm-cache}
      fill_npm_cache "$ctx/app" "$cache"
      # :O = overlay mount: npm may write to its cache, the writes are thrown away.
      build vipcast "$ctx" -f "$ctx/Containerfile" --volume "$cache:/root/.npm:O"
      ;;
    gobgp) build vipcast-gobgp "$repo/deploy/gobgp" ;;
    router) build vipcast-router "$repo/deploy/router" ;;
    demo-backend) build vipcast-demo-backend "$repo/deploy/demo-backend" ;;
    *) echo "build-images: unknown image $t" >&2; exit 2 ;;
  esac
done
