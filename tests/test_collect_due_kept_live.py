"""The due files (limits, PSI) kept open between their reads (issue 16, c6), on this host's
Docker engine: containers whose limits, memory, CPU and pids change between ticks, sampled by
a collector that has read them for a while (kept fds, plans, parse cache) and by a new one
(nothing kept, every file opened and parsed), both while the containers are frozen (`docker
pause`: no counter moves between the two reads); every value the same, the limits the
kernel's files'. A collector whose kept due files answer stale bytes fails the comparison."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ctop_py.collect import Collector
from ctop_py.model import CgroupStats, ContainerRaw
from ctop_py.openfiles import KeptFiles
from tests.conftest import BASE_IMAGE, SPIN, RunContainer
from tests.test_openfiles_live import V2

pytestmark = pytest.mark.docker

LIMITS_S = 0.4


def cgroup_dir(pid: int, controller: str) -> Path:
    """The process's cgroup directory of this controller, from the kernel's /proc/PID/cgroup."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (V2 and controllers == "") or (not V2 and controller in controllers.split(",")):
            base = "/sys/fs/cgroup" if V2 else f"/sys/fs/cgroup/{controller}"
            return Path(base) / path.lstrip("/")
    raise AssertionError(f"no {controller} cgroup for {pid}")


def kernel_quota_us(pid: int) -> int | None:
    """The CPU quota the kernel holds, read here."""
    d = cgroup_dir(pid, "cpu")
    if V2:
        quota = (d / "cpu.max").read_text().split()[0]
        return None if quota == "max" else int(quota)
    value = int((d / "cpu.cfs_quota_us").read_text())
    return None if value < 0 else value


def kernel_memory_max(pid: int) -> int:
    d = cgroup_dir(pid, "memory")
    return int((d / ("memory.max" if V2 else "memory.limit_in_bytes")).read_text())


def without_psi(stats: CgroupStats | None) -> CgroupStats | None:
    """A brief container's PSI is read with its limits and carried between (its reading's
    time says so): not a value of this instant, left out of the comparison."""
    if stats is None:
        return None
    return dataclasses.replace(stats, psi={}, psi_read_ns=None, psi_since_ns=None)


def values(c: ContainerRaw) -> dict[str, object]:
    """What the collector read from the kernel for the container, by field."""
    result: dict[str, object] = {}
    for field in dataclasses.fields(ContainerRaw):
        if field.name == "state":  # without an engine, the on-disk state, read once
            continue
        value = getattr(c, field.name)
        result[field.name] = without_psi(value) if field.name == "cgroup" else value
    return result


def compare(kept: ContainerRaw, new: ContainerRaw) -> None:
    """Field by field: the kept collector's record against the new collector's."""
    a, b = values(kept), values(new)
    for name in a:
        assert a[name] == b[name], (kept.name, name, a[name], b[name])


def by_id(sample_containers: Sequence[ContainerRaw], ids: set[str]) -> dict[str, ContainerRaw]:
    return {c.id: c for c in sample_containers if c.id in ids}


def new_reading(ids: set[str]) -> dict[str, ContainerRaw]:
    collector = Collector(engines=[], limits_s=LIMITS_S)
    try:
        return by_id(collector.sample(detail=(), brief=True).containers, ids)
    finally:
        collector.close()


def frozen_round(cached: Collector, ctrs: Sequence[Any]) -> tuple[dict[str, ContainerRaw], ...]:
    """Both readings of the containers, paused: the cached collector's once its limits are
    due again (read through its kept due files), between two new collectors' that agree (a
    frozen cgroup's memory.stat may still move a little, as per-CPU page lists drain)."""
    ids = {c.id for c in ctrs}
    for c in ctrs:
        c.pause()
    try:
        for _ in range(6):
            time.sleep(LIMITS_S * 1.5)  # every container's limits due in the next tick
            before = new_reading(ids)
            kept = by_id(cached.sample(detail=(), brief=True).containers, ids)
            after = new_reading(ids)
            if all(values(before[i]) == values(after[i]) for i in ids):
                break
        else:
            raise AssertionError("the frozen containers' files kept moving")
    finally:
        for c in ctrs:
            c.unpause()
    assert kept.keys() == after.keys() == ids
    return kept, after


def changing_containers(run_container: RunContainer) -> list[Any]:
    spinner = run_container(
        BASE_IMAGE, SPIN, cpu_quota=50000, cpu_period=100000, mem_limit="64m",
        memswap_limit="128m",
    )  # fmt: skip
    idle = run_container(BASE_IMAGE, ["sleep", "3600"], mem_limit="48m", memswap_limit="96m")
    return [spinner, idle]


def change(ctrs: Sequence[Any], round_: int) -> None:
    """New limits, memory and processes between the frozen readings (the spinner's CPU
    usage moves by itself)."""
    spinner, idle = ctrs
    spinner.update(cpu_quota=20000 + 10000 * round_, mem_limit=f"{72 + 8 * round_}m",
                   memswap_limit=f"{160 + 8 * round_}m")  # fmt: skip
    idle.update(cpu_quota=33000 + 1000 * round_, cpu_period=100000)
    # A process more (pids, memory) in the idle one, each round.
    idle.exec_run(["sh", "-c", f"dd if=/dev/zero bs=1k count={64 * (round_ + 1)} | sleep 600"],
                  detach=True)  # fmt: skip


def test_kept_due_files_give_what_a_new_collector_reads(run_container: RunContainer) -> None:
    ctrs = changing_containers(run_container)
    pids = {c.id: int(c.attrs["State"]["Pid"]) for c in ctrs}
    cached = Collector(engines=[], limits_s=LIMITS_S)
    try:
        for _ in range(4):  # plans made, the due files read and kept
            cached.sample(detail=(), brief=True)
            time.sleep(LIMITS_S / 2)
        quota_files = {
            cid: str(cgroup_dir(pid, "cpu") / ("cpu.max" if V2 else "cpu.cfs_quota_us"))
            for cid, pid in pids.items()
        }
        first_fds = {cid: cached.kept_due.fds().get(path) for cid, path in quota_files.items()}
        assert None not in first_fds.values(), "the due files are not kept"
        quotas: set[int | None] = set()
        for round_ in range(3):
            change(ctrs, round_)
            for _ in range(2):
                cached.sample(detail=(), brief=True)
                time.sleep(LIMITS_S / 2)
            kept, new = frozen_round(cached, ctrs)
            for cid, pid in pids.items():
                compare(kept[cid], new[cid])
                stats = kept[cid].cgroup
                assert stats is not None
                # The kernel's files, read here: the changed limits, not the first ones.
                assert stats.limits.cpu_quota_us == kernel_quota_us(pid)
                assert stats.limits.memory_max_bytes == kernel_memory_max(pid)
                quotas.add(stats.limits.cpu_quota_us)
            # Read through the same kept fd every round (none opened again).
            fds = {cid: cached.kept_due.fds().get(path) for cid, path in quota_files.items()}
            assert fds == first_fds
        assert len(quotas) == 6  # every round's new quota seen, for both
    finally:
        cached.close()


class StaleKept(KeptFiles):
    """Kept files that answer each file's first bytes again: a stale cache."""

    def __init__(self, inner: KeptFiles) -> None:
        super().__init__(inner.budget, inner.base)
        self.first: dict[str, bytes | None] = {}

    def read_each(self, paths: Sequence[str], out: list[bytes | None]) -> None:
        fresh: list[bytes | None] = []
        super().read_each(paths, fresh)
        out += [self.first.setdefault(p, d) for p, d in zip(paths, fresh, strict=True)]


def test_the_comparison_fails_on_stale_due_files(run_container: RunContainer) -> None:
    ctrs = changing_containers(run_container)
    cached = Collector(engines=[], limits_s=LIMITS_S)
    cached.kept_due.close()
    cached.kept_due = StaleKept(cached.kept_due)
    try:
        cached.sample(detail=(), brief=True)
        time.sleep(LIMITS_S / 2)
        cached.sample(detail=(), brief=True)
        change(ctrs, 0)
        kept, new = frozen_round(cached, ctrs)
        with pytest.raises(AssertionError):
            for cid in kept:
                compare(kept[cid], new[cid])
        for c in ctrs:
            stats = kept[c.id].cgroup
            assert stats is not None
            assert stats.limits.cpu_quota_us != kernel_quota_us(int(c.attrs["State"]["Pid"]))
    finally:
        cached.close()
