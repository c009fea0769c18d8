#!/bin/bash
# Runs INSIDE the v2 guest (tests/v2host/capture.sh boots it through vm.sh); cwd = the project.
# Starts a `--cpus` spinner and a memory+pids limited container from the project's test image
# and copies what a cgroup v2 consumer reads (container cgroup files, /proc/<pid>/cgroup,
# mountinfo, docker inspect, host facts) into OUTDIR as a tree that mirrors the real paths.
set -euo pipefail
OUT=$(realpath -m "${1:?usage: guest-capture.sh OUTDIR}")
tmp=$OUT.tmp
rm -rf "$tmp"; mkdir -p "$tmp"

echo "== tests/images/build.sh"
tests/images/build.sh
IMAGE=ctop-test-base:1

echo "== start containers"
docker rm -f spin spin-limited >/dev/null 2>&1 || true
docker run -d --name spin --cpus 0.2 "$IMAGE" sh -c 'while true; do :; done' >/dev/null
docker run -d --name spin-limited --cpus 0.5 --memory 128m --pids-limit 64 "$IMAGE" \
  sh -c 'dd if=/dev/zero of=/ddfile bs=1M count=16 2>/dev/null; sync; while true; do :; done' >/dev/null
sleep "${SPIN_SECONDS:-8}"     # let cpu.stat accumulate usage and throttling

copy_file() {   # copy_file SRC -> $tmp/SRC (skips unreadable and write-only files)
  local src=$1 dst=$tmp$1
  mkdir -p "$(dirname "$dst")"
  cat "$src" > "$dst" 2>/dev/null || rm -f "$dst"
}

cg_root=/sys/fs/cgroup
for f in cgroup.controllers cgroup.subtree_control cpu.pressure memory.pressure io.pressure \
         system.slice/cgroup.controllers system.slice/cgroup.subtree_control; do
  copy_file "$cg_root/$f"
done

for name in spin spin-limited; do
  pid=$(docker inspect -f '{{.State.Pid}}' "$name")
  cid=$(docker inspect -f '{{.Id}}' "$name")
  echo "== $name pid=$pid id=${cid:0:12}"
  copy_file "/proc/$pid/cgroup"
  copy_file "/proc/$pid/mountinfo"
  grep ' - overlay ' "/proc/$pid/mountinfo" > "$tmp/proc/$pid/mountinfo.overlay-line" || true
  rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
  dir=$cg_root$rel
  mkdir -p "$tmp$dir"
  ls -la "$dir" > "$tmp$dir.ls-la.txt"
  for f in "$dir"/*; do [ -f "$f" ] && [ -r "$f" ] && copy_file "$f"; done
  # the same data seen from inside the container (private cgroup namespace)
  inside=$tmp/container-view/$name
  mkdir -p "$inside"
  docker exec "$name" cat /proc/self/cgroup > "$inside/proc-self-cgroup" 2>&1 || true
  docker exec "$name" cat /proc/self/mountinfo > "$inside/proc-self-mountinfo" 2>&1 || true
  docker exec "$name" ls -la /sys/fs/cgroup > "$inside/sys-fs-cgroup.ls-la.txt" 2>&1 || true
  for f in cpu.max cpu.stat memory.max memory.current pids.max pids.current; do
    docker exec "$name" cat "/sys/fs/cgroup/$f" > "$inside/$f" 2>&1 || true
  done
  docker inspect "$name" > "$tmp/docker-inspect-$name.json"
  printf '%s pid=%s id=%s cgroup=%s\n' "$name" "$pid" "$cid" "$dir" >> "$tmp/containers.txt"
done

{
  echo "kernel: $(uname -r)"
  echo "cmdline: $(cat /proc/cmdline)"
  echo "systemd: $(systemctl --version | head -n1)"
  echo "docker: $(docker version -f '{{.Server.Version}}')"
  docker info -f 'cgroup driver: {{.CgroupDriver}}, cgroup version: {{.CgroupVersion}}, storage: {{.Driver}}'
  echo "cgroup fs: $(stat -fc %T /sys/fs/cgroup)"
  echo "image: $IMAGE (tests/images/build.sh)"
  echo "captured: $(date -u +%FT%TZ)"
} > "$tmp/meta.txt"
grep -E ' /sys/fs/cgroup ' /proc/self/mountinfo > "$tmp/host-cgroup2-mountinfo-line" || true
docker rm -f spin spin-limited >/dev/null

# keep the hand-written README across regenerations
[ -f "$OUT/README.md" ] && cp "$OUT/README.md" "$tmp/README.md"
rm -rf "$OUT"; mv "$tmp" "$OUT"
cat "$OUT/meta.txt"
echo "$(find "$OUT" -type f | wc -l) files, $(du -sh --apparent-size "$OUT" | cut -f1) in $OUT"
