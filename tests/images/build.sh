#!/usr/bin/env bash
# Build the test images locally (no registry): a busybox root filesystem through `docker
# import`, then layered with a Dockerfile through the classic builder. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BASE=ctop-test-base:1
LAYERED=ctop-test-layered:1
HISTORY=ctop-test-history:1
# The explorer's image; CTOP_EXPLORE_IMAGE renames it (parallel runs on one engine).
EXPLORE=${CTOP_EXPLORE_IMAGE:-ctop-test-explore:1}
BUSYBOX=${BUSYBOX:-/bin/busybox}

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if [ ! -x "$BUSYBOX" ] || ! "$BUSYBOX" --list >/dev/null 2>&1; then
    echo "build: $BUSYBOX missing; installing busybox-static" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/tmp" "$tmp/root" "$tmp/proc" "$tmp/sys" "$tmp/dev"
  chmod 1777 "$tmp/tmp"
  cp "$BUSYBOX" "$tmp/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$tmp/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$tmp/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/etc/group"
  tar -C "$tmp" -c . | docker import -c 'CMD ["sh"]' -c 'ENV PATH=/bin' - "$BASE" >/dev/null
  echo "build: imported $BASE" >&2
fi

if ! docker image inspect "$LAYERED" >/dev/null 2>&1; then
  DOCKER_BUILDKIT=0 docker build -q -t "$LAYERED" -f "$here/Dockerfile.layered" "$here" >/dev/null
  echo "build: built $LAYERED" >&2
fi

if ! docker image inspect "$HISTORY" >/dev/null 2>&1; then
  DOCKER_BUILDKIT=0 docker build -q -t "$HISTORY" -f "$here/Dockerfile.history" "$here" >/dev/null
  echo "build: built $HISTORY" >&2
fi

if ! docker image inspect "$EXPLORE" >/dev/null 2>&1; then
  DOCKER_BUILDKIT=0 docker build -q -t "$EXPLORE" -f "$here/Dockerfile.explore" "$here" >/dev/null
  echo "build: built $EXPLORE" >&2
fi
