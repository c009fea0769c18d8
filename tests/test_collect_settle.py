"""A container's limits read in its first seconds (collect.LIMITS_SETTLE_S): runc puts the init
process in the new cgroup, then writes the limits, so a read in between finds none (memory.max
"max": on the systemd v2 guest, 100-200 ms of each start of a crash-looping container). Such a
read is made again each tick until the init process is old enough, a limit known (in this run
or the one before a restart) filling in for none found; after that the limits are read every
`limits_s` only. On a fake root whose /proc/uptime the test moves on (the process start
times are in ticks since boot, as the kernel's)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ctop_py.collect import LIMITS_SETTLE_S, Collector
from ctop_py.model import ContainerRaw, RawSample
from tests.fakeroot import FakeHost, net_dev, v1_files, v2_files, write_v1
from tests.filereads import files_read

ID = "0c1d2e3f405162738495a6b7c8d9eaf00112233445566778899aabbccddeeff0"
CTR_NS = {"pid": 4026532300, "net": 4026532301, "mnt": 4026532302, "uts": 4026532303}
PATH = f"/system.slice/docker-{ID}.scope"
V1_PATH = f"/docker/{ID}"
TICKS = os.sysconf("SC_CLK_TCK")
MiB = 1 << 20


class Host:
    """A fake v1 or v2 host with one container, a clock since boot, and its memory limit."""

    def __init__(self, base: Path, mode: str) -> None:
        self.fake = FakeHost(base, mode)
        self.mode = mode
        self.path = PATH if mode == "v2" else V1_PATH
        self.uptime = 1000.0
        self.set_uptime(self.uptime)
        if mode == "v2":
            self.fake.write_cgroup(self.path, v2_files(memory_max="max"))
        else:
            write_v1(self.fake, self.path, v1_files())
        self.set_memory_max(None)

    def set_uptime(self, seconds: float) -> None:
        self.uptime = seconds
        (self.fake.base / "proc/uptime").write_text(f"{seconds:.2f} 1.00\n")

    def set_memory_max(self, limit: int | None) -> None:
        if self.mode == "v2":
            text = "max" if limit is None else str(limit)
            self.fake.write_cgroup(self.path, {"memory.max": text + "\n"})
        else:  # v1's "no limit": the largest page-aligned value
            text = str(0x7FFFFFFFFFFFF000 if limit is None else limit)
            self.fake.write_cgroup(self.path, {"memory.limit_in_bytes": text + "\n"}, "memory")

    def start(self, pid: int, age_s: float) -> None:
        """The container's init process, started `age_s` ago; the one before it gone."""
        for old in self.fake.base.glob("proc/[0-9]*"):
            if old.name not in ("2", str(pid)):
                shutil.rmtree(old)
        for procs in (self.fake.base / "sys/fs/cgroup").rglob("cgroup.procs"):
            if ID in str(procs):
                procs.write_text("")
        start = round((self.uptime - age_s) * TICKS)
        self.fake.add_process(pid, "sh", cgroup_path=self.path, namespaces=CTR_NS,
                              nspid=(pid, 1), net=net_dev(1000, 500), start=start)  # fmt: skip


def memory_max(sample: RawSample) -> int | None:
    (c,) = [c for c in sample.containers if c.id == ID]
    assert isinstance(c, ContainerRaw) and c.cgroup is not None and not c.cgroup.gone
    return c.cgroup.limits.memory_max_bytes


@pytest.mark.parametrize("mode", ["v2", "v1"])
@pytest.mark.parametrize("brief", [False, True], ids=["full", "brief"])
def test_limits_read_again_until_settled(tmp_path: Path, mode: str, brief: bool) -> None:
    host = Host(tmp_path, mode)
    # limits_s as the CLI's (read once): only the settling rule reads them again.
    collector = Collector(host.fake.root, engines=[], limits_s=1e9)

    def tick() -> int | None:
        sample = collector.sample(detail=frozenset() if brief else None, brief=brief)
        return memory_max(sample)

    limit_file = "memory.max" if mode == "v2" else "memory.limit_in_bytes"
    try:
        # A new container, half a second old, before the runtime set its limit: the
        # kernel's answer then, no limit.
        host.start(100, age_s=0.5)
        assert tick() is None
        # The runtime writes it: the next tick reads it although limits_s is long.
        host.set_memory_max(24 * MiB)
        assert tick() == 24 * MiB
        assert tick() == 24 * MiB  # the same bytes, still young: read again, the same
        # Old enough: one more read settles it; then no read each tick.
        host.set_uptime(host.uptime + LIMITS_SETTLE_S)
        assert tick() == 24 * MiB
        with files_read() as paths:
            tick()
            tick()
        assert not [p for p in paths if p.endswith(limit_file)], paths
        # A change now is not seen before limits_s (here never): it was settled.
        host.set_memory_max(32 * MiB)
        assert tick() == 24 * MiB

        # It restarts: a new init process, in the new cgroup before the runtime wrote its
        # limit. The limit known fills in for the none found while it is young ...
        host.set_memory_max(None)
        host.start(200, age_s=0.2)
        assert tick() == 24 * MiB
        host.set_uptime(host.uptime + 1)
        assert tick() == 24 * MiB
        # ... a limit found wins (read each tick while young) ...
        host.set_memory_max(32 * MiB)
        assert tick() == 32 * MiB
        # ... and a limit file gone as its cgroup is removed (the kernel removes the
        # controllers' files first) does not take it away.
        limit_path = host.fake.cgroup_dir(host.path, None if mode == "v2" else "memory")
        (limit_path / limit_file).unlink()
        assert tick() == 32 * MiB
        # Old enough: read as it is, then settled. Started again with no limit (the
        # engine's configuration changed while it was stopped): seen once it is settled.
        host.set_memory_max(32 * MiB)
        host.set_uptime(host.uptime + LIMITS_SETTLE_S)
        assert tick() == 32 * MiB
        host.set_memory_max(None)
        host.start(300, age_s=0.1)
        assert tick() == 32 * MiB
        host.set_uptime(host.uptime + LIMITS_SETTLE_S)
        assert tick() is None
        with files_read() as paths:
            assert tick() is None
        assert not [p for p in paths if p.endswith(limit_file)], paths
    finally:
        collector.close()


def test_an_old_container_is_settled_at_once(tmp_path: Path) -> None:
    """A container found long after it started (the app's start): one read, no more."""
    host = Host(tmp_path, "v2")
    host.set_memory_max(24 * MiB)
    host.start(100, age_s=3600)
    collector = Collector(host.fake.root, engines=[], limits_s=1e9)
    try:
        assert memory_max(collector.sample()) == 24 * MiB
        host.set_memory_max(None)
        with files_read() as paths:
            assert memory_max(collector.sample()) == 24 * MiB
        assert not [p for p in paths if p.endswith("memory.max")], paths
    finally:
        collector.close()


def test_no_uptime_means_settled(tmp_path: Path) -> None:
    """A root without /proc/uptime (older fake trees, a partial copy): ages unknown, every
    read settled, as before the rule."""
    host = Host(tmp_path, "v2")
    (host.fake.base / "proc/uptime").unlink()
    host.start(100, age_s=0.1)
    collector = Collector(host.fake.root, engines=[], limits_s=1e9)
    try:
        assert memory_max(collector.sample()) is None
        host.set_memory_max(24 * MiB)
        assert memory_max(collector.sample()) is None
    finally:
        collector.close()


def test_the_readme_says_the_settling_time() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"under {LIMITS_SETTLE_S:g} s old" in " ".join(readme.split())
