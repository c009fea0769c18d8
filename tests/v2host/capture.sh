#!/bin/bash
# capture.sh - regenerate tests/fixtures/cgroup-v2-live from a fresh cgroup v2 guest
# (one VM, ~2-3 min with a cached image): tests/v2host/capture.sh [OUTDIR]
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd -P)
OUT=$(realpath -m "${1:-$REPO/tests/fixtures/cgroup-v2-live}")
case $OUT in "$REPO"/*) ;; *) echo "capture: OUTDIR must be inside $REPO (the guest sees only that)" >&2; exit 2 ;; esac
"$HERE/run.sh" --probe || exit 2
exec "$HERE/vm.sh" -t "${CTOP_V2HOST_TIMEOUT:-1200}" "$HERE/guest-capture.sh" "$OUT"
