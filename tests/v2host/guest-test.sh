#!/bin/bash
# Runs INSIDE the v2 guest (tests/v2host/run.sh boots it through vm.sh); cwd = the project,
# shared over 9p at the same absolute path. Installs the project into the guest-local venv
# $V2HOST_VENV (the image has its dependencies already), builds the test images with the
# project's own tests/images/build.sh, then runs the live Docker tests. Exit status = pytest's.
# Arguments are passed on to pytest.
set -uo pipefail
start=$SECONDS
step() { echo "== v2host [+$((SECONDS - start))s] $*"; }
die() { echo "v2host guest: ERROR: $*"; exit 3; }
VENV=${V2HOST_VENV:?set by vm.sh}

step "guest up after $(cut -d' ' -f1 /proc/uptime)s; must be cgroup v2 with Docker's systemd cgroup driver"
fs=$(stat -fc %T /sys/fs/cgroup)
engine=$(docker info -f '{{.CgroupDriver}} {{.CgroupVersion}} {{.Driver}}' 2>&1)
echo "kernel $(uname -r), $(nproc) vCPUs, /sys/fs/cgroup: $fs, PSI: $([ -e /sys/fs/cgroup/cpu.pressure ] && echo on || echo off)," \
     "docker $(docker version -f '{{.Server.Version}}' 2>&1) (cgroup driver, version, storage: $engine)"
[ "$fs" = cgroup2fs ] || die "/sys/fs/cgroup is $fs, not cgroup2fs"
[ "$engine" = "systemd 2 overlay2" ] || die "docker reports '$engine', want 'systemd 2 overlay2'"

# Nothing of the guest's may land in the shared checkout (others use it at the same time):
# bytecode goes to a guest-local prefix (pre-filled for the stdlib and the venv), Hypothesis'
# database to /root, and pytest's cache is off.
export PYTHONPYCACHEPREFIX=${V2HOST_PYCACHE:?set by vm.sh} PIP_DISABLE_PIP_VERSION_CHECK=1 \
       HYPOTHESIS_STORAGE_DIRECTORY=/root/.hypothesis
# Under TCG a `docker run` takes ~4 s: give tests/test_churn.py's burst time to start containers.
export CTOP_STRESS_SECONDS=${CTOP_STRESS_SECONDS:-30}
# Every test deadline is scaled by this (tests/conftest.py deadline_s): TCG is ~4x slower.
export CTOP_TEST_SLOWNESS=${CTOP_TEST_SLOWNESS:-4}

# Both steps are slow under TCG and independent: run them side by side.
step "tests/images/build.sh & pip install -e '.[dev]' into $VENV"
build_log=$(mktemp)
tests/images/build.sh > "$build_log" 2>&1 &
build_pid=$!
# --no-deps --no-index: the image was built for exactly this dependency list (vm.sh keys it so)
"$VENV/bin/pip" install -q --no-deps --no-index --no-build-isolation -e '.[dev]' || die "pip install failed"
step "pip done"
wait "$build_pid"; build_rc=$?
sed 's/^/  /' "$build_log"
[ "$build_rc" = 0 ] || die "tests/images/build.sh failed ($build_rc)"
step "images built"

# Collecting all ~30 test modules costs ~40 s under TCG, so only the files that use the docker
# marker are handed to pytest (-m docker still selects the tests), unless a path is given.
given_path=0
for a in "$@"; do [ -e "${a%%::*}" ] && given_path=1; done
if [ "$given_path" = 0 ]; then
  mapfile -t files < <(grep -rl --include='test_*.py' 'mark\.docker' tests | sort)
  [ ${#files[@]} -gt 0 ] || die "no test file uses pytest.mark.docker"
  set -- "$@" "${files[@]}"
fi
step "CI=true pytest -m docker $*"
# CI=true: a missing engine or tool fails instead of skipping (tests/conftest.py).
# Per-test timeout scaled like every deadline (the strace test runs each command traced: slow
# under TCG).
CI=true "$VENV/bin/python" -m pytest -m docker -p no:cacheprovider -v --durations=8 \
  --timeout "$((300 * ${CTOP_TEST_SLOWNESS:-4}))" "$@"
rc=$?
[ "$rc" = 5 ] && echo "v2host guest: pytest collected no docker test"
step "pytest exit status $rc"
exit "$rc"
