#!/bin/bash
# run.sh - `make test-v2`: the live Docker tests (pytest -m docker) on a real cgroup v2 host with
# Docker's systemd cgroup driver: one throw-away qemu VM per run (see README.md beside this file).
#
#   tests/v2host/run.sh [PYTEST_ARGS...]   install the host tools, build or reuse the guest image,
#                                          boot one VM, run the tests in it; exit = pytest's status
#   tests/v2host/run.sh --probe            install the host tools if missing; exit 0 when qemu can
#                                          run here, 77 (reason on stderr) when it cannot
#
# Environment: CTOP_V2HOST_DIR (image cache, default /var/tmp/ctop-py-v2host),
# CTOP_V2HOST_TIMEOUT (VM time limit in s, default 1800), CTOP_V2HOST_ACCEL (kvm|tcg|auto).
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOST_PACKAGES="qemu-system-x86 debootstrap e2fsprogs util-linux"
HOST_COMMANDS="qemu-system-x86_64 debootstrap mkfs.ext4 flock"

missing_tools() {
  local c out=""
  for c in $HOST_COMMANDS; do PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null || out+=" $c"; done
  echo "${out# }"
}

ensure_host_tools() {
  [ -z "$(missing_tools)" ] && return 0
  echo "v2host: installing host tools ($HOST_PACKAGES) for: $(missing_tools)" >&2
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      $HOST_PACKAGES; } >&2 || return 1
  [ -z "$(missing_tools)" ]
}

# Why qemu cannot start a TCG x86 machine with 9p here (empty: it can).
qemu_problem() {
  command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is not installed and could not be installed (missing: $(missing_tools))"; return; }
  qemu-system-x86_64 -device help 2>/dev/null | grep -q '"virtio-9p-pci"' \
    || { echo "this qemu-system-x86_64 has no virtio-9p-pci (virtfs) support"; return; }
  echo quit | timeout 60 qemu-system-x86_64 -accel tcg -M pc -nodefaults -display none \
      -monitor stdio -S >/dev/null 2>&1 \
    || echo "qemu-system-x86_64 cannot start a TCG machine here"
}

if [ "${1:-}" = --probe ]; then
  ensure_host_tools
  problem=$(qemu_problem)
  [ -z "$problem" ] || { echo "v2host: qemu cannot run here: $problem" >&2; exit 77; }
  exit 0
fi

t0=$SECONDS
ensure_host_tools || { echo "v2host: ERROR: host tools missing: $(missing_tools)" >&2; exit 2; }
problem=$(qemu_problem)
[ -z "$problem" ] || { echo "v2host: ERROR: qemu cannot run here: $problem" >&2; exit 2; }
"$HERE/vm.sh" -t "${CTOP_V2HOST_TIMEOUT:-1800}" "$HERE/guest-test.sh" "$@"
rc=$?
echo "v2host: make test-v2 finished with exit status $rc after $((SECONDS - t0))s wall" >&2
exit "$rc"
