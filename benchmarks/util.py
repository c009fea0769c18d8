"""Shared helpers: statistics, load averages, CPU seconds of processes read from /proc."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
DAEMON_COMMS = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2")


def loadavg() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def qemu_running() -> list[str]:
    """Command lines of running qemu processes (another engineer's VM eats CPU)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("qemu"):
            found.append(f"{name} {comm}")
    return found


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median and spread (quartiles, extremes) of a list of measurements."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return {"n": 0}

    def q(p: float) -> float:
        if n == 1:
            return ordered[0]
        pos = p * (n - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

    return {
        "n": n,
        "median": statistics.median(ordered),
        "p25": q(0.25),
        "p75": q(0.75),
        "min": ordered[0],
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def ms(values: Iterable[float]) -> list[float]:
    return [v * 1000.0 for v in values]


def proc_cpu_s(pid: int | str) -> float | None:
    """utime + stime of one process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def proc_comm(pid: int | str) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def proc_status_kib(pid: int | str, key: str) -> int | None:
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def daemon_pids() -> dict[int, str]:
    """dockerd, containerd and every containerd shim on this host."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            comm = proc_comm(name)
            if comm is not None and (comm in DAEMON_COMMS or comm.startswith("containerd-shim")):
                found[int(name)] = comm
    return found


@dataclass
class DaemonWindow:
    """CPU seconds dockerd, containerd and the shims spent between start() and stop()."""

    pids: dict[int, str]
    before: dict[int, float]
    t0: float
    after: dict[int, float] | None = None
    t1: float | None = None

    @classmethod
    def start(cls) -> DaemonWindow:
        pids = daemon_pids()
        before = {p: c for p in pids if (c := proc_cpu_s(p)) is not None}
        return cls(pids, before, time.monotonic())

    def stop(self) -> dict[str, Any]:
        self.t1 = time.monotonic()
        self.after = {p: c for p in self.before if (c := proc_cpu_s(p)) is not None}
        by_comm: dict[str, float] = {}
        for pid, end in self.after.items():
            comm = self.pids[pid]
            key = "shims" if comm.startswith("containerd-shim") else comm
            by_comm[key] = by_comm.get(key, 0.0) + end - self.before[pid]
        total = sum(by_comm.values())
        window = self.t1 - self.t0
        return {
            "window_s": round(window, 3),
            "cpu_s": round(total, 3),
            "cpu_percent_of_core": round(100.0 * total / window, 3) if window > 0 else None,
            "by_process": {k: round(v, 3) for k, v in sorted(by_comm.items())},
            "processes": len(self.after),
        }


def daemon_idle_baseline(seconds: float) -> dict[str, Any]:
    window = DaemonWindow.start()
    time.sleep(seconds)
    return window.stop()


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
