#!/bin/bash
# vm.sh - boot a throw-away Debian 12 guest under qemu that is a real cgroup v2 Docker host
# (systemd PID 1, cgroup2 only, docker.io 20.10 with native.cgroupdriver=systemd and overlay2,
# PSI on), run one bash script in it as root, and return that script's exit status.
#
#   tests/v2host/vm.sh [options] GUEST_SCRIPT [ARGS...]
#   tests/v2host/vm.sh --build-only | --rebuild
#
# Options:
#   -s DIR        host folder shared read-write over 9p at the SAME absolute path (default: the
#                 repository root); the guest script starts there
#   -t SEC        kill the VM after SEC seconds (default 1800; exit 124)
#   -m MB         guest RAM (default 2048);  --cpus N  guest vCPUs (default 2)
#   --accel A     kvm | tcg | auto (default auto: kvm only with real VT-x/AMD-V, else TCG)
#   -v            boot progress and the serial console on stderr
#   --console     interactive serial console instead of a script (root, no password; Ctrl-a x)
#
# The guest script's stdout+stderr are streamed to stdout. Exit status: the guest script's;
# 124 timeout; 255 VM/boot/build failure (the run folder with console.log is kept, see stderr).
#
# The image is built once (debootstrap, as root) and cached in $CTOP_V2HOST_DIR
# (default /var/tmp/ctop-py-v2host), keyed on the recipe below and on the project's
# dependency list: its venv ($GUEST_VENV) already holds the dependencies of pyproject.toml, so a
# run only installs the project itself, offline. Every run opens the image with snapshot=on (starts clean).
# The apt mirror is read from this machine's /etc/apt/sources.list*.
# Adapted from the team's shared v2vm tool; the project does not need it at run time.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd -P)
DIR=${CTOP_V2HOST_DIR:-/var/tmp/ctop-py-v2host}
IMG_VERSION=4                       # bump to force a rebuild when the recipe changes
IMG=$DIR/rootfs.img
KERNEL=$DIR/vmlinuz
INITRD=$DIR/initrd.img
STAMP=$DIR/image.ok
SUITE=bookworm
IMG_SIZE=8G                         # sparse
# The last line is the guest's `make deps`: what the live tests need besides the engine.
PACKAGES="linux-image-amd64 systemd systemd-sysv udev kmod dbus docker.io
 python3 python3-venv python3-pip iproute2 procps ca-certificates zstd
 busybox-static prometheus strace tmux"
# Guest-local venv: not in the shared checkout (the host has its own .venv there), and under
# /usr so that tests which bind-mount /usr into a container (test_root_container) see it.
GUEST_VENV=/usr/local/ctop-py-venv
# Guest-local bytecode cache (PYTHONPYCACHEPREFIX): nothing is written into the shared checkout,
# yet nothing is recompiled per process. Pre-filled for the stdlib and the venv at build time.
GUEST_PYCACHE=/var/cache/ctop-py-pyc

VERBOSE=0
log() { if [ "$VERBOSE" = 1 ] || [ "${1:-}" = "-f" ]; then [ "${1:-}" = "-f" ] && shift; echo "v2host: $*" >&2; fi; }
die() { echo "v2host: ERROR: $*" >&2; exit 255; }

# The project's runtime + dev dependencies (the guest venv is pre-filled with them).
project_requirements() {
  python3 - "$REPO/pyproject.toml" <<'PY'
import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))["project"]
reqs = list(p.get("dependencies", [])) + list(p.get("optional-dependencies", {}).get("dev", []))
reqs += ["hatchling>=1.18", "editables"]  # to install the project with --no-build-isolation
print("\n".join(reqs))
PY
}

image_key() {
  { echo "$IMG_VERSION $SUITE $PACKAGES $GUEST_VENV $GUEST_PYCACHE"; project_requirements; } | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- mirror detection
# First Debian mirror URI serving suite $1 in this host's apt configuration (deb822 or one-line).
host_mirror_for_suite() {
  local suite=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && enabled != "no" && uris != "") { split(uris, u, " "); print u[1]; found=1; exit } types=suites=uris=""; enabled="" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1)=="types:"   { $1=""; types=$0 }
      tolower($1)=="uris:"    { $1=""; sub(/^ +/,""); uris=$0 }
      tolower($1)=="suites:"  { $1=""; suites=$0 }
      tolower($1)=="enabled:" { enabled=tolower($2) }
      END { if (!found) flush() }' "$f" | head -n1 | grep . && return 0
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '$1=="deb" { i=2; if ($2 ~ /^\[/) { while (i<=NF && $i !~ /\]$/) i++; i++ } if ($(i+1)==want) { print $i; exit } }' "$f" | head -n1 | grep . && return 0
  done
  return 1
}

# ---------------------------------------------------------------- image build
BUILD_ROOT=""
umount_build() {
  local m
  [ -n "$BUILD_ROOT" ] && [ "$BUILD_ROOT" != / ] || return 0
  for m in dev/pts sys proc; do
    if mountpoint -q "$BUILD_ROOT/$m"; then umount "$BUILD_ROOT/$m" || umount -l "$BUILD_ROOT/$m"; fi
  done
}

build_image() {
  command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
  command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing (e2fsprogs)"
  local mirror sec root t0 key=$1
  mirror=$(host_mirror_for_suite "$SUITE") || die "no apt source for '$SUITE' in /etc/apt/sources.list*"
  sec=$(host_mirror_for_suite "$SUITE-security" || true)
  root=$DIR/rootfs.build
  t0=$(date +%s)
  log -f "building the guest image (debootstrap $SUITE + venv; first time only, ~3 min) -> $IMG"
  BUILD_ROOT=$root
  trap umount_build EXIT            # never leave the chroot mounts behind
  umount_build; rm -rf --one-file-system "$root" "$IMG.tmp"
  mkdir -p "$root"
  : > "$DIR/build.log"
  debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$mirror" \
    >> "$DIR/build.log" 2>&1 || { tail -20 "$DIR/build.log" >&2; die "debootstrap failed (log: $DIR/build.log)"; }
  {
    echo "deb $mirror $SUITE main"
    echo "deb $mirror $SUITE-updates main"
    [ -n "$sec" ] && echo "deb $sec $SUITE-security main"
  } > "$root/etc/apt/sources.list"
  # never start services inside the build chroot (this host may run its own dockerd)
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  # small initramfs: only what mounts /dev/vda (ext4 on virtio-blk); boots faster under TCG
  mkdir -p "$root/etc/initramfs-tools/conf.d"
  printf 'MODULES=list\nCOMPRESS=zstd\n' > "$root/etc/initramfs-tools/conf.d/v2host.conf"
  printf '%s\n' virtio_pci virtio_blk crc32c_generic crc32c_intel ext4 >> "$root/etc/initramfs-tools/modules"
  echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' > "$root/etc/fstab"
  mount -t proc proc "$root/proc"
  mount -t sysfs sys "$root/sys"
  mount -t devpts devpts "$root/dev/pts" 2>/dev/null || true
  if ! chroot "$root" /bin/sh -c "export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8;
        apt-get update && apt-get install -y --no-install-recommends $(echo $PACKAGES) && apt-get clean" \
        >> "$DIR/build.log" 2>&1; then
    tail -30 "$DIR/build.log" >&2; die "package install failed (log: $DIR/build.log)"
  fi
  # Guest-local venv with the project's dependencies. The wheels are fetched by this host's own
  # pip (its index and TLS setup) for CPython 3.11 on this platform (x86_64, glibc 2.36 like the guest),
  # then installed offline in the chroot, at native speed rather than under TCG.
  project_requirements > "$root/root/requirements.txt"
  mkdir -p "$root/root/wheels"
  if ! python3 -m pip download -q -d "$root/root/wheels" -r "$root/root/requirements.txt" \
        --only-binary=:all: --implementation cp --python-version 3.11 >> "$DIR/build.log" 2>&1; then
    tail -30 "$DIR/build.log" >&2; die "pip download of the project's dependencies failed (log: $DIR/build.log)"
  fi
  if ! chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
        /bin/sh -c "python3 -m venv $GUEST_VENV && $GUEST_VENV/bin/pip install -q --no-index \
                    --find-links /root/wheels -r /root/requirements.txt && rm -rf /root/.cache /root/wheels &&
                    mkdir -p -m 1777 $GUEST_PYCACHE && { PYTHONPYCACHEPREFIX=$GUEST_PYCACHE \
                      $GUEST_VENV/bin/python -m compileall -q -j0 /usr/lib/python3.11 $GUEST_VENV/lib \
                      >/dev/null || true; }" \
        >> "$DIR/build.log" 2>&1; then
    tail -30 "$DIR/build.log" >&2; die "venv install failed (log: $DIR/build.log)"
  fi
  umount_build
  rm -f "$root/usr/sbin/policy-rc.d"
  configure_guest "$root"
  cp "$(ls -1 "$root"/boot/vmlinuz-* | sort -V | tail -n1)" "$KERNEL.tmp"
  cp "$(ls -1 "$root"/boot/initrd.img-* | sort -V | tail -n1)" "$INITRD.tmp"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/tmp/* 2>/dev/null
  truncate -s "$IMG_SIZE" "$IMG.tmp"
  mkfs.ext4 -q -F -L v2hostroot -d "$root" "$IMG.tmp" >> "$DIR/build.log" 2>&1 || die "mkfs.ext4 -d failed"
  # running VMs keep the old inodes open, so replacing the files under them is safe
  mv -f "$KERNEL.tmp" "$KERNEL"; mv -f "$INITRD.tmp" "$INITRD"; mv -f "$IMG.tmp" "$IMG"
  rm -rf --one-file-system "$root"
  trap - EXIT; BUILD_ROOT=""
  echo "$key" > "$STAMP"
  log -f "image built in $(( $(date +%s) - t0 ))s: $(du -h "$IMG" | cut -f1) used"
}

configure_guest() {
  local r=$1
  echo v2host > "$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 v2host\n::1 localhost ip6-localhost ip6-loopback\n' > "$r/etc/hosts"
  chroot "$r" passwd -d root >/dev/null
  # network: qemu user-mode NIC, DHCP via systemd-networkd (10.0.2.0/24, dns 10.0.2.3)
  mkdir -p "$r/etc/systemd/network"
  printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' > "$r/etc/systemd/network/20-v2host.network"
  rm -f "$r/etc/resolv.conf"; echo 'nameserver 10.0.2.3' > "$r/etc/resolv.conf"
  chroot "$r" systemctl enable systemd-networkd.service >/dev/null 2>&1
  chroot "$r" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
    e2scrub_all.timer e2scrub_reap.service fstrim.timer prometheus.service >/dev/null 2>&1
  mkdir -p "$r/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\n' > "$r/etc/systemd/journald.conf.d/v2host.conf"
  # docker: cgroup v2 + systemd cgroup driver (20.10's default on v2, made explicit); live-restore
  # as scripts/ensure-docker.sh sets it (tests stop the daemon with containers running)
  mkdir -p "$r/etc/docker"
  cat > "$r/etc/docker/daemon.json" <<'JSON'
{
  "exec-opts": ["native.cgroupdriver=systemd"],
  "storage-driver": "overlay2",
  "log-driver": "json-file",
  "live-restore": true
}
JSON
  # guest side: mount the 9p shares, run /v2host/run.sh, write rc, power off
  cat > "$r/usr/local/sbin/v2host-run" <<'SH'
#!/bin/bash
set -u
modprobe -q 9pnet_virtio; modprobe -q 9p
mkdir -p /v2host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none v2hostctl /v2host 2>/dev/null; then
  echo "v2host-run: no control share, nothing to do" >/dev/console; exit 0
fi
. /v2host/env
if [ -n "${V2HOST_SHARE_PATH:-}" ]; then
  mkdir -p "$V2HOST_SHARE_PATH"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none share "$V2HOST_SHARE_PATH" \
    || echo "v2host-run: cannot mount the share at $V2HOST_SHARE_PATH" >> /v2host/output
fi
# docker.service is ordered before this unit; wait for the socket to answer anyway
for _ in $(seq 1 120); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
args=(); [ -s /v2host/args ] && mapfile -d '' -t args < /v2host/args
cut -d' ' -f1 /proc/uptime > /v2host/started
cd "${V2HOST_SHARE_PATH:-/root}" || cd /root
HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
  bash /v2host/run.sh "${args[@]}" > /v2host/output 2>&1 < /dev/null
rc=$?
echo "$rc" > /v2host/rc.tmp && mv /v2host/rc.tmp /v2host/rc
cut -d' ' -f1 /proc/uptime > /v2host/finished
sync
systemctl poweroff -ff
SH
  chmod 755 "$r/usr/local/sbin/v2host-run"
  cat > "$r/etc/systemd/system/v2host-run.service" <<'UNIT'
[Unit]
Description=v2host: run the host-provided script and power off
Wants=docker.service
After=docker.service multi-user.target
ConditionKernelCommandLine=v2host.run=1

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/v2host-run
StandardOutput=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
UNIT
  chroot "$r" systemctl enable v2host-run.service docker.service containerd.service >/dev/null 2>&1
}

ensure_image() {
  local key
  mkdir -p "$DIR"
  key=$(image_key) || die "cannot read $REPO/pyproject.toml"
  exec 9>"$DIR/build.lock"
  flock 9
  if [ "$REBUILD" = 1 ] || [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$key" ] \
     || [ ! -f "$IMG" ] || [ ! -f "$KERNEL" ] || [ ! -f "$INITRD" ]; then
    [ "$(id -u)" = 0 ] || die "building the guest image needs root"
    build_image "$key"
  else
    log "image $key cached in $DIR"
  fi
  flock -u 9
  exec 9>&-
}

# A stock kernel hangs under a nested software hypervisor (kvm_pvm), so "auto" picks KVM only
# when /dev/kvm is backed by real VT-x/AMD-V.
kvm_usable() {
  [ -w /dev/kvm ] || return 1
  grep -qwE 'vmx|svm' /proc/cpuinfo || return 1
  [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]
}

# ---------------------------------------------------------------- main
REBUILD=0; BUILD_ONLY=0; CONSOLE=0
SHARE=$REPO; TIMEOUT=1800; MEM=2048; CPUS=2; ACCEL=${CTOP_V2HOST_ACCEL:-auto}
while [ $# -gt 0 ]; do
  case $1 in
    -s) SHARE=$2; shift 2 ;;
    -t) TIMEOUT=$2; shift 2 ;;
    -m) MEM=$2; shift 2 ;;
    --cpus) CPUS=$2; shift 2 ;;
    --accel) ACCEL=$2; shift 2 ;;
    -v) VERBOSE=1; shift ;;
    --console) CONSOLE=1; shift ;;
    --build-only) BUILD_ONLY=1; shift ;;
    --rebuild) REBUILD=1; BUILD_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
ensure_image
[ "$BUILD_ONLY" = 1 ] && { log -f "image ready: $IMG"; exit 0; }
if [ "$CONSOLE" = 0 ]; then
  [ $# -ge 1 ] || die "no guest script given (see --help)"
  [ -f "$1" ] || die "guest script not found: $1"
fi

case $ACCEL in
  auto) if kvm_usable; then ACCEL=kvm; else ACCEL=tcg; fi ;;
  kvm|tcg) ;;
  *) die "--accel must be kvm, tcg or auto" ;;
esac
if [ "$ACCEL" = kvm ]; then
  ACCEL_OPTS=(-accel kvm -cpu host,-arch-capabilities)
else
  ACCEL_OPTS=(-accel tcg,thread=multi,tb-size=512 -cpu "${CTOP_V2HOST_CPU:-max}")
fi

SHARE=$(cd "$SHARE" 2>/dev/null && pwd -P) || die "share dir not found"
case $SHARE in
  /|/bin*|/boot*|/dev*|/etc*|/lib*|/proc*|/root|/root/venv*|/run*|/sbin*|/sys*|/usr*|/v2host*|/var/lib*|/var/run*)
    die "share path $SHARE would shadow guest system files; use another folder" ;;
esac

mkdir -p "$DIR/runs"
RUN=$(mktemp -d "$DIR/runs/run.XXXXXX")
CTL=$RUN/ctl; mkdir -p "$CTL"
if [ "$CONSOLE" = 0 ]; then
  cp "$1" "$CTL/run.sh"; shift
  [ $# -gt 0 ] && printf '%s\0' "$@" > "$CTL/args"
fi
: > "$CTL/output"
{ printf 'V2HOST_SHARE_PATH=%q\n' "$SHARE"; printf 'export V2HOST_VENV=%q V2HOST_PYCACHE=%q\n' "$GUEST_VENV" "$GUEST_PYCACHE"; } > "$CTL/env"

APPEND="root=/dev/vda rw console=ttyS0 panic=1 quiet loglevel=3 systemd.show_status=0 psi=1"
APPEND+=" systemd.unified_cgroup_hierarchy=1 net.ifnames=0 apparmor=0"
[ "$CONSOLE" = 1 ] || APPEND+=" v2host.run=1"
QEMU=(qemu-system-x86_64 "${ACCEL_OPTS[@]}" -m "$MEM" -smp "$CPUS" -nographic -no-reboot
      -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND"
      -drive "file=$IMG,format=raw,if=virtio,cache=unsafe,snapshot=on"
      -virtfs "local,path=$CTL,mount_tag=v2hostctl,security_model=none,id=v2hostctl"
      -virtfs "local,path=$SHARE,mount_tag=share,security_model=none,multidevs=remap,id=share"
      -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= -device virtio-rng-pci)

if [ "$CONSOLE" = 1 ]; then
  log -f "interactive console ($ACCEL); log in as root; 'poweroff' to quit (Ctrl-a x kills qemu)"
  exec "${QEMU[@]}"
fi

QEMU+=(-serial "file:$RUN/console.log" -monitor none)
log "run dir $RUN, accel=$ACCEL, cpus=$CPUS, mem=${MEM}M, share=$SHARE"
T0=$(date +%s.%N)
"${QEMU[@]}" < /dev/null > "$RUN/qemu.log" 2>&1 &
QPID=$!
echo "$QPID" > "$RUN/qemu.pid"
TPID=""; CPID=""
cleanup() { kill "$QPID" 2>/dev/null; [ -n "$TPID" ] && kill "$TPID" 2>/dev/null; [ -n "$CPID" ] && kill "$CPID" 2>/dev/null; }
trap 'cleanup; echo "v2host: interrupted; run folder $RUN" >&2; exit 130' INT TERM HUP
tail -n +1 -s 0.5 -F --pid="$QPID" "$CTL/output" 2>/dev/null &
TPID=$!
if [ "$VERBOSE" = 1 ]; then
  tail -n +1 -s 0.5 -F --pid="$QPID" "$RUN/console.log" 2>/dev/null | sed 's/^/[console] /' >&2 &
  CPID=$!
fi
# watchdog; it must not keep our stdout open (or leave its sleep behind) once qemu is gone
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$TIMEOUT" & sp=$!; wait "$sp"
  kill -0 "$QPID" 2>/dev/null && { echo timeout > "$RUN/timed_out"; kill "$QPID"; } ) >/dev/null 2>&1 &
WPID=$!
wait "$QPID"; QRC=$?
kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; wait "$TPID" 2>/dev/null
elapsed=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}')
if [ -f "$CTL/rc" ]; then
  RC=$(cat "$CTL/rc")
  log -f "guest script exit $RC; VM wall ${elapsed}s (guest uptime: script started $(cat "$CTL/started" 2>/dev/null)s, ended $(cat "$CTL/finished" 2>/dev/null)s)"
  [ "${CTOP_V2HOST_KEEP_RUN:-0}" = 1 ] || rm -rf "$RUN"
  exit "$RC"
fi
if [ -f "$RUN/timed_out" ]; then
  log -f "timeout after ${TIMEOUT}s; console log: $RUN/console.log"; exit 124
fi
log -f "VM ended (qemu rc $QRC) without a result after ${elapsed}s; console: $RUN/console.log, qemu: $RUN/qemu.log"
tail -n 15 "$RUN/qemu.log" "$RUN/console.log" >&2 2>/dev/null
exit 255
