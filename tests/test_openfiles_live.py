"""Files kept open between ticks, on this host's Docker engine: the counters read through the
kept fds against the kernel's files opened here, before and after each tick; a container
restarted in the same cgroup path read from its new cgroup; a container removed leaves no fd."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ctop_py.cgroupfs import detect_layout
from ctop_py.collect import Collector
from ctop_py.host import HostRoot
from ctop_py.model import CgroupMode, ContainerRaw
from tests.conftest import BASE_IMAGE, SPIN, RunContainer, wait_for
from tests.filereads import fd_targets

pytestmark = pytest.mark.docker

V2 = detect_layout(HostRoot()).mode is CgroupMode.V2


def cpu_file(pid: int) -> Path:
    """The container's CPU usage file, found from the kernel's /proc/PID/cgroup."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if V2 and controllers == "":
            return Path("/sys/fs/cgroup") / path.lstrip("/") / "cpu.stat"
        if "cpuacct" in controllers.split(","):
            return Path("/sys/fs/cgroup/cpuacct") / path.lstrip("/") / "cpuacct.usage"
    raise AssertionError(f"no cpu cgroup for {pid}")


def usage_ns(path: Path) -> int:
    """Read here, with open/read/close."""
    text = path.read_text()
    if V2:
        return int(text.split("usage_usec ", 1)[1].split()[0]) * 1000
    return int(text)


def ours(collector: Collector, cid: str) -> ContainerRaw:
    (c,) = [c for c in collector.sample(detail=(), brief=True).containers if c.id == cid]
    return c


def test_kept_fds_read_what_the_kernel_files_say_and_follow_a_restart(
    run_container: RunContainer,
) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, cpu_quota=50000, cpu_period=100000)
    pid = int(ctr.attrs["State"]["Pid"])
    path = cpu_file(pid)
    before_fds = set(fd_targets())
    collector = Collector(engines=[])
    try:
        last = -1
        for tick in range(5):
            low = usage_ns(path)
            c = ours(collector, ctr.id)
            high = usage_ns(path)
            assert c.cgroup is not None and c.cgroup.cpu.usage_ns is not None
            assert low <= c.cgroup.cpu.usage_ns <= high  # read in between, not a stale value
            assert c.cgroup.cpu.usage_ns > last  # it spins: every tick reads a new value
            last = c.cgroup.cpu.usage_ns
            if tick >= 2:  # from the third tick on, read through kept fds
                kept = collector.kept.fds()
                assert str(path) in kept and f"/proc/{pid}/stat" in kept
            time.sleep(0.3)
        assert c.init_pid == pid

        ctr.restart(timeout=0)  # the same id, so the same cgroup path
        ctr.reload()
        new_pid = int(ctr.attrs["State"]["Pid"])
        assert new_pid != pid and cpu_file(new_pid) == path
        low = usage_ns(path)
        c = wait_for(
            lambda: ((c := ours(collector, ctr.id)).init_pid == new_pid and c) or None,
            30, "the new init",
        )  # fmt: skip
        high = usage_ns(path)
        assert c.cgroup is not None and c.cgroup.cpu.usage_ns is not None
        # The new cgroup's counter (started again from 0), not the old one's last value.
        assert low <= c.cgroup.cpu.usage_ns <= high < last

        ctr.remove(force=True)
        wait_for(lambda: not Path(f"/proc/{new_pid}").exists() or None, 30, "its init gone")
        sample = collector.sample(detail=(), brief=True)  # no error
        assert ctr.id not in {c.id for c in sample.containers if c.state == "running"}
        left = fd_targets()
        leaked = [t for fd, t in left.items() if fd not in before_fds and ctr.id in t]
        leaked += [t for t in left.values() if f"/proc/{new_pid}/" in t or f"/proc/{pid}/" in t]
        assert not leaked
    finally:
        collector.close()
    # Every kept fd closed with the collector (the Docker SDK's new sockets aside).
    files = ("/sys/fs/cgroup/", "/proc/")
    assert not [t for fd, t in fd_targets().items() if fd not in before_fds and t.startswith(files)]
