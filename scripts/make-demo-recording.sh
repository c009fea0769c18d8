#!/usr/bin/env bash
# Record the demo that ships with the package (ctop-py --demo) from real containers on this
# host's engine. Needs the test images (tests/images/build.sh). Usage: make-demo-recording.sh [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-90}
out="$here/ctop_py/data/demo.rec"
img=ctop-test-base:1
layered=ctop-test-layered:1
names=(demo-web demo-sidecar demo-api demo-worker demo-db demo-cron demo-migrate)
cleanup() { docker rm -f "${names[@]}" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
label=(--label com.docker.compose.project=demo)
docker run -d --name demo-web "${label[@]}" -m 128m "$img" sh -c 'while true; do sleep 1; done' >/dev/null
docker run -d --name demo-sidecar "${label[@]}" --network container:demo-web "$img" sleep 100000 >/dev/null
docker run -d --name demo-api "${label[@]}" --cpus 0.25 -m 256m "$layered" >/dev/null
docker run -d --name demo-worker "${label[@]}" --cpus 1.5 --pids-limit 64 "$img" \
  sh -c 'for i in 1 2 3; do sleep 100000 & done; while true; do :; done' >/dev/null
docker run -d --name demo-db "${label[@]}" -m 64m --memory-swap 64m "$img" \
  sh -c 'dd if=/dev/zero of=/dev/shm/buffer bs=1M count=52 2>/dev/null; sleep 100000' >/dev/null
docker run -d --name demo-cron "${label[@]}" --pid host "$img" sleep 100000 >/dev/null
docker run --name demo-migrate "${label[@]}" "$img" true >/dev/null
rm -f "$out"
"$here/.venv/bin/ctop-py" record "$out" --interval 1 --duration "$seconds" \
  --label com.docker.compose.project=demo
ls -la "$out"
