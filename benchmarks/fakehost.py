"""Generated cgroup v2 hosts (systemd driver) with thousands of Docker containers.

Every container gets the full set of files a real v2 container cgroup has (copied from the
capture in tests/fixtures/cgroup-v2-systemd: 68 files in `system.slice/docker-<id>.scope`),
an init process with /proc/<pid>/{stat,status,cgroup,cmdline,ns/*,net/dev} taken from a real
busybox `sleep` in a container, and its containerd shim in `system.slice/containerd.service`,
as on a real host. Files with the same content are hard links to one template (thousands of
identical 4 KiB files would cost gigabytes); each path is still its own directory entry.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from ctop_py.demo.host import HOST_NS, NET_DEV_HEADER

REPO = Path(__file__).resolve().parent.parent
CAPTURE = REPO / "tests" / "fixtures" / "cgroup-v2-systemd"
CAPTURED_SCOPE = (
    CAPTURE
    / "sys/fs/cgroup/system.slice"
    / "docker-4442952b11c14f1587556e8f7119067f60b70fb842b8d78143451689ea8cc84b.scope"
)

NS_LINKS = ("cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
            "time_for_children", "user", "uts")  # fmt: skip

# /proc/PID/stat and status of a busybox `sleep` in a Docker container (captured on this
# engine), with the pid fields templated.
STAT = (
    "{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 1085 0 1 0 0 1 0 0 20 0 1 0 {start} "
    "2322432 315 18446744073709551615 4198400 5785993 140720567091072 0 0 0 0 0 0 1 0 0 17 0 "
    "0 0 0 0 0 6141704 6178576 548442112 140720567099320 140720567099330 140720567099330 "
    "140720567099373 0\n"
)
STATUS = """Name:\t{comm}
Umask:\t0022
State:\tS (sleeping)
Tgid:\t{pid}
Ngid:\t0
Pid:\t{pid}
PPid:\t{ppid}
TracerPid:\t0
Uid:\t0\t0\t0\t0
Gid:\t0\t0\t0\t0
FDSize:\t64
Groups:\t0\x20
NStgid:\t{nspid}
NSpid:\t{nspid}
NSpgid:\t{nspid}
NSsid:\t{nspid}
Kthread:\t0
VmPeak:\t    2268 kB
VmSize:\t    2268 kB
VmLck:\t       0 kB
VmPin:\t       0 kB
VmHWM:\t    1380 kB
VmRSS:\t    1380 kB
RssAnon:\t      56 kB
RssFile:\t    1324 kB
RssShmem:\t       0 kB
VmData:\t     176 kB
VmStk:\t     132 kB
VmExe:\t    1552 kB
VmLib:\t       8 kB
VmPTE:\t      40 kB
VmSwap:\t       0 kB
HugetlbPages:\t       0 kB
CoreDumping:\t0
THP_enabled:\t1
untag_mask:\t0xffffffffffffffff
Threads:\t1
SigQ:\t1/96365
SigPnd:\t0000000000000000
ShdPnd:\t0000000000000000
SigBlk:\t0000000000000000
SigIgn:\t0000000000000000
SigCgt:\t0000000000000000
CapInh:\t0000000000000000
CapPrm:\t00000000a80425fb
CapEff:\t00000000a80425fb
CapBnd:\t00000000a80425fb
CapAmb:\t0000000000000000
NoNewPrivs:\t0
Seccomp:\t2
Seccomp_filters:\t1
Speculation_Store_Bypass:\tvulnerable
SpeculationIndirectBranch:\talways enabled
Cpus_allowed:\t3
Cpus_allowed_list:\t0-1
Mems_allowed:\t00000000,00000001
Mems_allowed_list:\t0
voluntary_ctxt_switches:\t12
nonvoluntary_ctxt_switches:\t80
"""
NET_DEV = NET_DEV_HEADER + (
    "    lo:       0       0    0    0    0     0          0         0        0       0    0 "
    "   0    0     0       0          0\n"
    "  eth0:     486       5    0    0    0     0          0         0        0       0    0 "
    "   0    0     0       0          0\n"
)
# Host services found on a Debian host running Docker with the systemd driver.
SERVICES = ("containerd.service", "docker.service", "cron.service", "dbus.service",
            "ssh.service", "systemd-journald.service", "systemd-logind.service",
            "systemd-udevd.service", "rsyslog.service", "systemd-timesyncd.service",
            "docker.socket", "system-getty.slice", "system-serial\\x2dgetty.slice")  # fmt: skip
# Files of a non-container cgroup (services): the same template minus per-scope ones.
DIR_TEMPLATE_FILES = ("cgroup.controllers", "cgroup.events", "cgroup.procs", "cgroup.stat",
                      "cgroup.subtree_control", "cgroup.type", "cpu.pressure", "cpu.stat",
                      "io.pressure", "memory.current", "memory.pressure", "memory.stat",
                      "pids.current")  # fmt: skip
PER_CONTAINER = ("cgroup.procs", "cgroup.threads")


def container_id(i: int) -> str:
    return hashlib.sha256(f"ctop-py-bench-{i}".encode()).hexdigest()


class FakeV2Host:
    """A v2 host tree under `base` with `count` Docker containers (systemd driver)."""

    def __init__(self, base: Path, count: int) -> None:
        self.base = base
        self.count = count
        self.proc = base / "proc"
        self.cgroup = base / "sys/fs/cgroup"
        self.templates = base / "templates"

    def build(self) -> FakeV2Host:
        if self.base.exists():
            shutil.rmtree(self.base)
        self.proc.mkdir(parents=True)
        self.cgroup.mkdir(parents=True)
        self.templates.mkdir()
        for f in CAPTURED_SCOPE.iterdir():
            if f.is_file() and f.name not in PER_CONTAINER:
                shutil.copyfile(f, self.templates / f.name)
        self._host_files()
        shim_pids = []
        for i in range(self.count):
            cid = container_id(i)
            init_pid = 100_000 + 2 * i + 1
            shim_pid = init_pid - 1
            shim_pids.append(shim_pid)
            scope = f"/system.slice/docker-{cid}.scope"
            self._scope(scope, init_pid)
            self._process(
                shim_pid, "containerd-shim", ppid=1, cgroup="/system.slice/containerd.service",
                namespaces=HOST_NS, nspid=str(shim_pid), cmdline=(
                    "/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", cid,
                    "-address", "/run/containerd/containerd.sock"),
            )  # fmt: skip
            ns = {t: 4026532200 + 10 * i + k for k, t in enumerate(("ipc", "mnt", "net", "pid",
                                                                    "uts", "cgroup"))}  # fmt: skip
            self._process(
                init_pid, "sleep", ppid=shim_pid, cgroup=scope, namespaces={**HOST_NS, **ns},
                nspid=f"{init_pid}\t1", cmdline=("sleep", "3600"), net=True,
            )  # fmt: skip
        procs = self.cgroup / "system.slice/containerd.service/cgroup.procs"
        procs.write_text("".join(f"{p}\n" for p in [3, *shim_pids]))
        return self

    def _host_files(self) -> None:
        stat = ["cpu  1000000 0 200000 9000000 1000 0 5000 0 0 0"]
        stat += ["cpu0 500000 0 100000 4500000 500 0 2500 0 0 0"]
        stat += ["cpu1 500000 0 100000 4500000 500 0 2500 0 0 0"]
        stat += ["intr 1 0", "ctxt 1", "btime 1700000000", "processes 1", "procs_running 1"]
        (self.proc / "stat").write_text("\n".join(stat) + "\n")
        (self.proc / "meminfo").write_text("MemTotal:       24000000 kB\nMemFree: 1 kB\n")
        (self.proc / "sys/kernel").mkdir(parents=True)
        (self.proc / "sys/kernel/hostname").write_text("benchhost\n")
        (self.cgroup / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids\n")
        (self.cgroup / "cgroup.subtree_control").write_text("cpuset cpu io memory pids\n")
        for name in ("cpu.pressure", "io.pressure", "memory.pressure"):
            shutil.copyfile(CAPTURE / "sys/fs/cgroup" / name, self.cgroup / name)
        for d in ("system.slice", "init.scope", "user.slice", "user.slice/user-0.slice",
                  "user.slice/user-0.slice/session-1.scope",
                  "user.slice/user-0.slice/user@0.service", "dev-hugepages.mount",
                  "sys-kernel-debug.mount", "proc-sys-fs-binfmt_misc.mount"):  # fmt: skip
            self._plain_dir(d)
        for service in SERVICES:
            self._plain_dir(f"system.slice/{service}")
        (self.cgroup / "init.scope/cgroup.procs").write_text("1\n")
        (self.cgroup / "system.slice/docker.service/cgroup.procs").write_text("2\n")
        self._process(1, "systemd", ppid=0, cgroup="/init.scope", namespaces=HOST_NS,
                      nspid="1", cmdline=("/sbin/init",))  # fmt: skip
        self._process(2, "dockerd", ppid=1, cgroup="/system.slice/docker.service",
                      namespaces=HOST_NS, nspid="2",
                      cmdline=("/usr/sbin/dockerd", "-H", "fd://"))  # fmt: skip
        self._process(3, "containerd", ppid=1, cgroup="/system.slice/containerd.service",
                      namespaces=HOST_NS, nspid="3", cmdline=("/usr/bin/containerd",))  # fmt: skip

    def _plain_dir(self, rel: str) -> None:
        directory = self.cgroup / rel
        directory.mkdir(parents=True, exist_ok=True)
        for name in DIR_TEMPLATE_FILES:
            if name == "cgroup.procs":
                (directory / name).write_text("")
            else:
                os.link(self.templates / name, directory / name)

    def _scope(self, rel: str, pid: int) -> None:
        directory = self.cgroup / rel.lstrip("/")
        directory.mkdir()
        for name in os.listdir(self.templates):
            os.link(self.templates / name, directory / name)
        for name in PER_CONTAINER:
            (directory / name).write_text(f"{pid}\n")

    def _process(
        self,
        pid: int,
        comm: str,
        *,
        ppid: int,
        cgroup: str,
        namespaces: dict[str, int],
        nspid: str,
        cmdline: tuple[str, ...],
        net: bool = False,
    ) -> None:
        directory = self.proc / str(pid)
        directory.mkdir()
        (directory / "stat").write_text(STAT.format(pid=pid, comm=comm, ppid=ppid,
                                                    start=100_000 + pid))  # fmt: skip
        (directory / "status").write_text(STATUS.format(pid=pid, comm=comm, ppid=ppid,
                                                        nspid=nspid))  # fmt: skip
        (directory / "cgroup").write_text(f"0::{cgroup}\n")
        (directory / "cmdline").write_bytes(b"\0".join(a.encode() for a in cmdline) + b"\0")
        ns_dir = directory / "ns"
        ns_dir.mkdir()
        for link in NS_LINKS:
            ns_type = link.removesuffix("_for_children")
            os.symlink(f"{ns_type}:[{namespaces[ns_type]}]", ns_dir / link)
        if net:
            (directory / "net").mkdir()
            (directory / "net/dev").write_text(NET_DEV)

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
