#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io if missing, start dockerd in
# the background (logging to a file) when no engine runs, and wait until its socket answers.
set -euo pipefail
LOG=${CTOP_DOCKERD_LOG:-/var/log/ctop-py-dockerd.log}

if docker version >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd (log: $LOG)" >&2
  mkdir -p "$(dirname "$LOG")"
  # --live-restore: containers outlive a daemon restart (tests stop dockerd to prove ctop-py
  # does not need it)
  nohup dockerd --live-restore >>"$LOG" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
  if docker version >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "ensure-docker: dockerd did not answer within 60 s; see $LOG" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
