"""Build fake host roots under tmp_path: /proc entries, cgroup trees for v1, hybrid and v2."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from ctop_py.demo.host import HOST_NS, NET_DEV_HEADER
from ctop_py.host import HostRoot

FIXTURES = Path(__file__).parent / "fixtures"
CAPTURE_V2 = FIXTURES / "cgroup-v2-systemd"  # shared/reference/captures: another team's capture
CAPTURE_V2_LIVE = FIXTURES / "cgroup-v2-live"  # our own, from tests/v2host/capture.sh


V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "systemd")


def net_dev(rx: int, tx: int, lo: int = 999) -> str:
    return (
        NET_DEV_HEADER
        + f"    lo: {lo} 10 0 0 0 0 0 0 {lo} 10 0 0 0 0 0 0\n"
        + f"  eth0: {rx} 7 0 0 0 0 0 0 {tx} 5 0 0 0 0 0 0\n"
    )


class FakeHost:
    def __init__(self, base: Path, mode: str = "v2") -> None:
        self.base = base
        self.mode = mode
        self.root = HostRoot.at(base)
        proc = base / "proc"
        proc.mkdir(parents=True, exist_ok=True)
        self.set_cpu(1000, 5000)
        (proc / "meminfo").write_text("MemTotal:       24000000 kB\nMemFree: 1 kB\n")
        cgroup = base / "sys/fs/cgroup"
        cgroup.mkdir(parents=True, exist_ok=True)
        if mode == "v2":
            (cgroup / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
        else:
            for controller in V1_CONTROLLERS:
                (cgroup / controller).mkdir(exist_ok=True)
            if mode == "hybrid":
                (cgroup / "unified").mkdir(exist_ok=True)
                (cgroup / "unified/cgroup.controllers").write_text("\n")
        # kthreadd: the host's namespaces are read from it
        self.add_process(2, "kthreadd", ppid=0, cgroup_path="/", namespaces=HOST_NS)

    def set_cpu(self, busy: int, idle: int) -> None:
        lines = [f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0", "cpu0 1 0 0 1 0 0 0 0 0 0"]
        lines += ["cpu1 1 0 0 1 0 0 0 0 0 0", "btime 1700000000"]
        (self.base / "proc/stat").write_text("\n".join(lines) + "\n")

    def cgroup_lines(self, path: str) -> str:
        if self.mode == "v2":
            return f"0::{path}\n"
        lines = [f"{i + 1}:{'name=systemd' if c == 'systemd' else c}:{path}"
                 for i, c in enumerate(V1_CONTROLLERS)]  # fmt: skip
        if self.mode == "hybrid":
            lines.append(f"0::{path}")
        return "\n".join(lines) + "\n"

    def add_process(
        self,
        pid: int,
        comm: str,
        *,
        ppid: int = 1,
        cgroup_path: str = "/",
        namespaces: Mapping[str, int] | None = None,
        nspid: tuple[int, ...] | None = None,
        cmdline: tuple[str, ...] = (),
        cpu_ticks: int = 0,
        start: int = 100,
        net: str | None = None,
        uid: int = 0,
    ) -> Path:
        directory = self.base / "proc" / str(pid)
        directory.mkdir(parents=True, exist_ok=True)
        fields = ["S", str(ppid)] + ["0"] * 9 + [str(cpu_ticks), "0"] + ["0"] * 4
        fields += ["1", "0", str(start), "1000", "25"] + ["0"] * 20
        (directory / "stat").write_text(f"{pid} ({comm}) {' '.join(fields)}\n")
        ids = "\t".join(str(p) for p in (nspid or (pid,)))
        (directory / "status").write_text(
            f"Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nNSpid:\t{ids}\n"
        )
        (directory / "cmdline").write_bytes(b"\0".join(a.encode() for a in cmdline) + b"\0")
        (directory / "cgroup").write_text(self.cgroup_lines(cgroup_path))
        if cgroup_path != "/":
            self.join_cgroup(pid, cgroup_path)
        ns_dir = directory / "ns"
        if ns_dir.exists():
            shutil.rmtree(ns_dir)
        ns_dir.mkdir()
        for ns_type, inode in {**HOST_NS, **(namespaces or {})}.items():
            os.symlink(f"{ns_type}:[{inode}]", ns_dir / ns_type)
        if net is not None:
            (directory / "net").mkdir(exist_ok=True)
            (directory / "net/dev").write_text(net)
        return directory

    def join_cgroup(self, pid: int, path: str) -> None:
        """List pid in cgroup.procs of path, in every hierarchy (as the kernel shows it)."""
        if self.mode == "v2":
            controllers: tuple[str | None, ...] = (None,)
        else:
            controllers = V1_CONTROLLERS + (("unified",) if self.mode == "hybrid" else ())
        for controller in controllers:
            procs = self.cgroup_dir(path, controller) / "cgroup.procs"
            existing = procs.read_text().split() if procs.exists() else []
            if str(pid) not in existing:
                procs.write_text("".join(f"{p}\n" for p in [*existing, str(pid)]))

    def cgroup_dir(self, path: str, controller: str | None = None) -> Path:
        base = self.base / "sys/fs/cgroup"
        if controller is not None:
            base = base / controller
        directory = base / path.lstrip("/")
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def write_cgroup(
        self, path: str, files: Mapping[str, str], controller: str | None = None
    ) -> None:
        directory = self.cgroup_dir(path, controller)
        for name, content in files.items():
            (directory / name).write_text(content)


def v2_files(
    usage_usec: int = 1_000_000,
    periods: int = 10,
    throttled: int = 5,
    throttled_usec: int = 400_000,
    cpu_max: str = "10000 100000",
    memory_current: int = 10 << 20,
    inactive_file: int = 2 << 20,
    memory_max: str = "50331648",
    pids_current: int = 3,
    pids_max: str = "50",
    rbytes: int = 0,
    wbytes: int = 0,
    psi_total: int = 1000,
) -> dict[str, str]:
    psi = (
        f"some avg10=1.00 avg60=2.00 avg300=3.00 total={psi_total}\n"
        f"full avg10=0.50 avg60=0.25 avg300=0.10 total={psi_total // 2}\n"
    )
    return {
        "cpu.stat": (
            f"usage_usec {usage_usec}\nuser_usec {usage_usec // 2}\nsystem_usec {usage_usec // 2}\n"
            f"nr_periods {periods}\nnr_throttled {throttled}\nthrottled_usec {throttled_usec}\n"
        ),
        "cpu.max": cpu_max + "\n",
        "cpu.weight": "100\n",
        "memory.current": f"{memory_current}\n",
        "memory.max": memory_max + "\n",
        "memory.high": "max\n",
        "memory.stat": f"anon 100\nfile 200\ninactive_file {inactive_file}\nactive_file 0\n",
        "memory.events": "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n",
        "pids.current": f"{pids_current}\n",
        "pids.max": pids_max + "\n",
        "io.stat": f"8:0 rbytes={rbytes} wbytes={wbytes} rios=1 wios=1 dbytes=0 dios=0\n",
        "cpu.pressure": psi,
        "memory.pressure": psi,
        "io.pressure": psi,
    }


def v1_files(
    usage_ns: int = 1_000_000_000,
    periods: int = 10,
    throttled: int = 5,
    throttled_ns: int = 400_000_000,
    quota: int = 10000,
    usage_bytes: int = 10 << 20,
    total_inactive_file: int = 2 << 20,
    limit: int = 9223372036854771712,
    pids_max: str = "max",
) -> dict[str, dict[str, str]]:
    """Files per v1 controller directory."""
    return {
        "cpu": {
            "cpu.stat": (
                f"nr_periods {periods}\nnr_throttled {throttled}\nthrottled_time {throttled_ns}\n"
            ),
            "cpu.cfs_quota_us": f"{quota}\n",
            "cpu.cfs_period_us": "100000\n",
            "cpu.shares": "1024\n",
        },
        "cpuacct": {"cpuacct.usage": f"{usage_ns}\n"},
        "cpuset": {"cpuset.cpus": "0-1\n", "cpuset.mems": "0\n"},
        "memory": {
            "memory.usage_in_bytes": f"{usage_bytes}\n",
            "memory.limit_in_bytes": f"{limit}\n",
            "memory.memsw.limit_in_bytes": f"{limit}\n",
            "memory.max_usage_in_bytes": f"{usage_bytes * 2}\n",
            "memory.stat": (
                f"cache 100\nrss 200\ninactive_file 7\ntotal_inactive_file {total_inactive_file}\n"
            ),
            "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
            "memory.failcnt": "4\n",
        },
        "pids": {"pids.current": "2\n", "pids.max": pids_max + "\n"},
        "blkio": {
            "blkio.throttle.io_service_bytes_recursive": (
                "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 0\n8:0 Total 12288\n"
                "Total 12288\n"
            )
        },
    }


def write_v1(host: FakeHost, path: str, files: dict[str, dict[str, str]]) -> None:
    for controller, content in files.items():
        host.write_cgroup(path, content, controller)
