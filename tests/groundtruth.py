"""Ground truth for the live tests, read independently of the code under test: the kernel's
files found from /proc/<pid>/cgroup (not the collector's discovery)."""

from __future__ import annotations

import bisect
import json
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def kernel_cgroup_dir(pid: int, controller: str) -> Path:
    """The cgroup directory of `pid` for a v1 controller (or the v2 one), from
    /proc/<pid>/cgroup: the kernel's answer, not the collector's discovery."""
    v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        if v2 and hierarchy == "0" and controllers == "":
            return Path("/sys/fs/cgroup", path.lstrip("/"))
        if not v2 and controller in controllers.split(","):
            return Path("/sys/fs/cgroup", controllers, path.lstrip("/"))
    raise AssertionError(f"pid {pid} has no {controller} cgroup")


def docker_inspect(cid: str) -> dict[str, Any]:
    """What `docker inspect` says of a container."""
    out = subprocess.run(["docker", "inspect", cid], capture_output=True, text=True, check=True)
    data: dict[str, Any] = json.loads(out.stdout)[0]
    return data


def flat_keyed(path: Path) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines())}


@dataclass(frozen=True)
class KernelCpu:
    """The kernel's CPU counters of a container's cgroup, and when they were read."""

    monotonic_ns: int
    usage_ns: int
    nr_periods: int
    nr_throttled: int
    throttled_ns: int


def kernel_cpu(pid: int) -> KernelCpu:
    now = time.monotonic_ns()
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        stat = flat_keyed(kernel_cgroup_dir(pid, "") / "cpu.stat")
        usage, throttled = stat["usage_usec"] * 1000, stat["throttled_usec"] * 1000
    else:
        stat = flat_keyed(kernel_cgroup_dir(pid, "cpu") / "cpu.stat")
        usage = int((kernel_cgroup_dir(pid, "cpuacct") / "cpuacct.usage").read_text())
        throttled = stat["throttled_time"]
    return KernelCpu(now, usage, stat["nr_periods"], stat["nr_throttled"], throttled)


def net_dev_rx(pid: int) -> int:
    """Received bytes of every interface but lo in the network namespace of `pid`."""
    total = 0
    for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]:
        name, counters = line.split(":", 1)
        if name.strip() != "lo":
            total += int(counters.split()[0])
    return total


def flat_keyed_kb(path: Path) -> dict[str, int]:
    return {line.split(":")[0]: int(line.split()[1]) for line in path.read_text().splitlines()}


class KernelSeries:
    """The kernel's CPU counters of one cgroup, read in a loop: (start, end, counters)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.reads: list[tuple[int, int, KernelCpu]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                start = time.monotonic_ns()
                counters = kernel_cpu(self.pid)
                self.reads.append((start, time.monotonic_ns(), counters))
                time.sleep(0.005)
        except BaseException as exc:  # said by wait_past, not lost with the thread
            self.error = exc

    error: BaseException | None = None

    def wait_past(self, t: int, timeout_s: float) -> None:
        """Until a read has started after monotonic time t (a loaded host may starve the
        reading thread for a while: wait for it rather than for a fixed time)."""
        until = time.monotonic() + timeout_s
        while not (self.reads and self.reads[-1][0] > t):
            assert self.error is None, f"the kernel reads stopped: {self.error!r}"
            assert time.monotonic() < until, "no kernel read after the sample"
            time.sleep(0.01)

    def __enter__(self) -> KernelSeries:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def at_most(self, t: int) -> KernelCpu:
        """Counters read wholly before t: no greater than the kernel's at t."""
        ends = [end for _, end, _ in self.reads]
        index = bisect.bisect_right(ends, t) - 1
        assert index >= 0, "no kernel read before the sample"
        return self.reads[index][2]

    def at_least(self, t: int) -> KernelCpu:
        """Counters read wholly after t: no smaller than the kernel's at t."""
        starts = [start for start, _, _ in self.reads]
        index = bisect.bisect_left(starts, t)
        assert index < len(self.reads), "no kernel read after the sample"
        return self.reads[index][2]
