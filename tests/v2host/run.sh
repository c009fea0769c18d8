#!/bin/bash
# run.sh - `make test-v2`: the live Docker tests (pytest -m docker) on a real cgroup v2 host with
# Docker's systemd cgroup driver: one throw-away qemu VM per run (see README.md beside this file).
#
#   tests/v2host/run.sh [PYTEST_ARGS...]   install the host tools, build or reuse the guest image,
#                                          boot one VM, run the tests in it; exit = pytest's status
#   tests/v2host/run.sh --probe            install the host tools if missing; exit 0 when qemu can
#                                          run here; 77 (reason on stderr) ONLY when this machine
#                                          cannot run qemu at all (its qemu refuses to start a TCG
#                                          machine, or has no 9p); any other problem (install
#                                          failed, dpkg lock held too long, no root to install,
#                                          a TCG start slower than its deadline) is an error: 2
#
# Environment: CTOP_V2HOST_DIR (image cache, default /var/tmp/ctop-py-v2host),
# CTOP_V2HOST_TIMEOUT (VM time limit in s, default 2700), CTOP_V2HOST_ACCEL (kvm|tcg|auto).
# The limit is for a hung guest: a whole run under TCG took 1,262 to 1,516 s of VM wall on a
# quiet 2-core host, and one beside other work passed 1,800 s at 90 % with every test passing.
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
  [ "$(id -u)" = 0 ] || { echo "v2host: installing them needs root" >&2; return 1; }
  command -v apt-get >/dev/null || { echo "v2host: no apt-get to install them" >&2; return 1; }
  # Wait for another apt/dpkg (up to 10 min) instead of failing on its lock.
  { apt-get -o DPkg::Lock::Timeout=600 update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
         --no-install-recommends $HOST_PACKAGES; } >&2 || return 1
  [ -z "$(missing_tools)" ]
}

# Why qemu cannot start a TCG x86 machine with 9p here (empty: it can). Exit status 1 with a
# message: this machine cannot run qemu (a skip); 2: the check itself did not finish (an error).
qemu_problem() {
  command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is not installed"; return 2; }
  qemu-system-x86_64 -device help 2>/dev/null | grep -q '"virtio-9p-pci"' \
    || { echo "this qemu-system-x86_64 has no virtio-9p-pci (virtfs) support"; return 1; }
  local out rc
  out=$(echo quit | timeout "${CTOP_V2HOST_PROBE_TIMEOUT:-180}" qemu-system-x86_64 -accel tcg -M pc \
      -nodefaults -display none -monitor stdio -S 2>&1 >/dev/null)
  rc=$?
  [ "$rc" = 0 ] && return 0
  if [ "$rc" = 124 ]; then
    echo "qemu-system-x86_64 did not start a TCG machine within ${CTOP_V2HOST_PROBE_TIMEOUT:-180} s (a loaded host is not a reason to skip)"
    return 2
  fi
  echo "qemu-system-x86_64 cannot start a TCG machine here (exit $rc): ${out//$'\n'/ }"
  return 1
}

if [ "${1:-}" = --probe ]; then
  ensure_host_tools || { echo "v2host: ERROR: host tools missing: $(missing_tools)" >&2; exit 2; }
  problem=$(qemu_problem)
  case $? in
    0) exit 0 ;;
    1) echo "v2host: qemu cannot run here: $problem" >&2; exit 77 ;;
    *) echo "v2host: ERROR: $problem" >&2; exit 2 ;;
  esac
fi

t0=$SECONDS
ensure_host_tools || { echo "v2host: ERROR: host tools missing: $(missing_tools)" >&2; exit 2; }
problem=$(qemu_problem) || { echo "v2host: ERROR: qemu cannot run here: $problem" >&2; exit 2; }
"$HERE/vm.sh" -t "${CTOP_V2HOST_TIMEOUT:-2700}" "$HERE/guest-test.sh" "$@"
rc=$?
echo "v2host: make test-v2 finished with exit status $rc after $((SECONDS - t0))s wall" >&2
exit "$rc"
