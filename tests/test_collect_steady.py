"""The collector in steady state (issue 16): from its third tick on, a container whose limits
are known reads its files in one loop and gets its previous record back when no file changed.
Every change must still show on the next tick, exactly as a fresh collector reads it, and the
steady tick must read each file once, the same files as a full read."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ctop_py.collect import Collector
from ctop_py.model import ContainerRaw, RawSample
from tests.fakeroot import FakeHost, net_dev, v1_files, v2_files, write_v1
from tests.filereads import files_read

ID = "d89ef6da903ab9e80ab773ffad6eb38d24832a7a06551e4817552ce19ffd7008"
CTR_NS = {"pid": 4026532200, "net": 4026532201, "mnt": 4026532202, "uts": 4026532203}
NEW_NS = {"pid": 4026532300, "net": 4026532301, "mnt": 4026532302, "uts": 4026532303}
PATH = f"/system.slice/docker-{ID}.scope"


def only(sample: RawSample) -> ContainerRaw:
    (c,) = [c for c in sample.containers if c.id == ID]
    return c


def make_host(tmp_path: Path, mode: str) -> FakeHost:
    host = FakeHost(tmp_path, mode)
    if mode == "v2":
        host.write_cgroup(PATH, v2_files())
    else:
        write_v1(host, PATH, v1_files())
        host.write_cgroup(PATH, {"cpu.pressure": psi(777)}, "unified")
    host.add_process(100, "sh", cgroup_path=PATH, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(1000, 500), cpu_ticks=10)  # fmt: skip
    return host


def psi(total: int) -> str:
    return (
        f"some avg10=1.00 avg60=2.00 avg300=3.00 total={total}\n"
        f"full avg10=0.50 avg60=0.25 avg300=0.10 total={total // 2}\n"
    )


def fresh(host: FakeHost) -> ContainerRaw:
    """What a new collector reads from the same files: the ground truth to compare with."""
    collector = Collector(host.root, engines=[])
    try:
        return only(collector.sample(detail=()))
    finally:
        collector.close()


def settled(host: FakeHost, **kwargs: Any) -> tuple[Collector, ContainerRaw]:
    """A collector past its first ticks: the third tick gave back the second's record (the
    steady path is the one taken from now on)."""
    collector = Collector(host.root, engines=[], **kwargs)
    collector.sample(detail=())
    second = only(collector.sample(detail=()))
    third = only(collector.sample(detail=()))
    assert third is second
    return collector, third


def v2_cpu_stat(usage_usec: int) -> str:
    return (
        f"usage_usec {usage_usec}\nuser_usec 1\nsystem_usec 2\n"
        "nr_periods 10\nnr_throttled 5\nthrottled_usec 400000\n"
    )


# Each change: (modes, what to write, what the record must then show).
Change = tuple[str, Callable[[FakeHost], object], Callable[[ContainerRaw], object], object]
CHANGES: list[Change] = [
    ("v2", lambda h: h.write_cgroup(PATH, {"cpu.stat": v2_cpu_stat(7_000_000)}),
     lambda c: c.cgroup and c.cgroup.cpu.usage_ns, 7_000_000_000),
    ("v2", lambda h: h.write_cgroup(PATH, {"memory.current": f"{30 << 20}\n"}),
     lambda c: c.cgroup and c.cgroup.memory.used_bytes, (30 << 20) - (2 << 20)),
    ("v2", lambda h: h.write_cgroup(PATH, {"io.stat": "8:0 rbytes=5 wbytes=6 rios=1\n"}),
     lambda c: c.cgroup and (c.cgroup.io.read_bytes, c.cgroup.io.write_bytes), (5, 6)),
    ("v2", lambda h: h.write_cgroup(PATH, {"memory.pressure": psi(4242)}),
     lambda c: c.cgroup and c.cgroup.psi["memory"].some.total_us, 4242),  # type: ignore[union-attr]
    ("v2", lambda h: h.write_cgroup(PATH, {"memory.events": "max 9\noom 8\noom_kill 7\n"}),
     lambda c: c.cgroup and c.cgroup.memory.events.get("oom_kill"), 7),
    # A file that was absent appears, one that was there goes.
    ("v2", lambda h: h.write_cgroup(PATH, {"memory.peak": "123456\n"}),
     lambda c: c.cgroup and c.cgroup.memory.peak_bytes, 123456),
    ("v2", lambda h: (h.cgroup_dir(PATH) / "pids.current").unlink(),
     lambda c: c.cgroup and c.cgroup.pids_current, None),
    ("v1", lambda h: h.write_cgroup(PATH, {"cpuacct.usage": "5\n"}, "cpuacct"),
     lambda c: c.cgroup and c.cgroup.cpu.usage_ns, 5),
    ("v1", lambda h: h.write_cgroup(PATH, {"cpu.stat": "nr_periods 30\nnr_throttled 20\n"
                                           "throttled_time 9\n"}, "cpu"),
     lambda c: c.cgroup and c.cgroup.cpu.nr_throttled, 20),
    ("v1", lambda h: h.write_cgroup(PATH, {"memory.oom_control": "oom_kill 11\n"}, "memory"),
     lambda c: c.cgroup and c.cgroup.memory.events.get("oom_kill"), 11),
    ("v1", lambda h: h.write_cgroup(PATH, {"cpu.pressure": psi(99)}, "unified"),
     lambda c: c.cgroup and c.cgroup.psi["cpu"].some.total_us, 99),  # type: ignore[union-attr]
    ("v1", lambda h: h.write_cgroup(PATH, {"pids.current": "17\n"}, "pids"),
     lambda c: c.cgroup and c.cgroup.pids_current, 17),
    # The init's network counters and the container's processes.
    ("both", lambda h: (h.base / "proc/100/net/dev").write_text(net_dev(5555, 6666)),
     lambda c: c.net and (c.net.rx_bytes, c.net.tx_bytes), (5555, 6666)),
    ("both", lambda h: h.add_process(101, "worker", ppid=100, cgroup_path=PATH,
                                     namespaces=CTR_NS, nspid=(101, 2)),
     lambda c: c.pids, (100, 101)),
    # The init's pid now runs another process (a later start): its namespaces are read again.
    ("both", lambda h: h.add_process(100, "new", cgroup_path=PATH, namespaces=NEW_NS,
                                     nspid=(100, 1), net=net_dev(1000, 500), start=900),
     lambda c: c.namespaces["net"], NEW_NS["net"]),
]  # fmt: skip


CASES = [
    (mode, index)
    for index, (modes, *_) in enumerate(CHANGES)
    for mode in {"v2": ("v2",), "v1": ("hybrid",), "both": ("v2", "hybrid")}[modes]
]


@pytest.mark.parametrize(("mode", "index"), CASES)
def test_a_change_shows_on_the_next_steady_tick(tmp_path: Path, mode: str, index: int) -> None:
    _, change, read, expected = CHANGES[index]
    host = make_host(tmp_path, mode)
    collector, before = settled(host)
    assert read(before) != expected  # the change is one
    change(host)
    after = only(collector.sample(detail=()))
    collector.close()
    assert read(after) == expected
    assert read(fresh(host)) == expected  # the same as a fresh read of the same files
    assert after.cgroup == fresh(host).cgroup


def test_a_changed_limit_shows_once_limits_are_due(tmp_path: Path) -> None:
    host = make_host(tmp_path, "v2")
    collector, before = settled(host, limits_s=0.3)
    assert before.cgroup is not None and before.cgroup.limits.memory_max_bytes == 50331648
    host.write_cgroup(PATH, {"memory.max": "1048576\n"})
    time.sleep(0.35)
    after = only(collector.sample(detail=()))
    collector.close()
    assert after.cgroup is not None and after.cgroup.limits.memory_max_bytes == 1048576


@contextmanager
def opened() -> Iterator[Counter[str]]:
    """Every file read meanwhile (opened, or read again through a kept fd), counted."""
    with files_read() as paths:
        counts: Counter[str] = Counter()
        yield counts
    counts.update(paths)


@pytest.mark.parametrize("mode", ["v2", "hybrid"])
def test_the_steady_tick_reads_what_a_full_tick_reads_once(tmp_path: Path, mode: str) -> None:
    host = make_host(tmp_path, mode)
    collector = Collector(host.root, engines=[])
    collector.sample(detail=())
    with opened() as full:  # limits known, the record made from the files
        second = only(collector.sample(detail=()))
    with opened() as steady:
        third = only(collector.sample(detail=()))
    host.write_cgroup(PATH, {"memory.stat": "anon 1\ninactive_file 1\n"}, *(
        () if mode == "v2" else ("memory",)))  # fmt: skip
    with opened() as changed:  # one file changed: read in the loop, parsed once
        fourth = only(collector.sample(detail=()))
    collector.close()
    assert third is second and fourth is not third
    assert max(full.values()) == max(steady.values()) == max(changed.values()) == 1
    assert set(steady) == set(full) == set(changed)
    cgroup_files = {p for p in full if "/sys/fs/cgroup/" in p and "cgroup.procs" not in p}
    assert len(cgroup_files) >= 8 and f"{host.base}/proc/100/stat" in full
    assert f"{host.base}/proc/100/net/dev" in full


def test_the_tick_that_reads_limits_plans_the_next(tmp_path: Path) -> None:
    """Limits due: that tick reads them and the counters; the next one is steady again (its
    record back, no limit file read)."""
    host = make_host(tmp_path, "v2")
    collector, _ = settled(host, limits_s=0.3)
    time.sleep(0.35)
    with opened() as due:
        with_limits = only(collector.sample(detail=()))
    with opened() as after:
        next_one = only(collector.sample(detail=()))
    collector.close()
    limit_file = str(host.cgroup_dir(PATH) / "memory.max")
    assert due[limit_file] == 1 and after[limit_file] == 0
    assert next_one is with_limits
    limit_names = {"cpu.max", "cpu.weight", "cpuset.cpus", "cpuset.cpus.effective",
                   "cpuset.mems.effective", "memory.max", "memory.high", "memory.low",
                   "memory.swap.max", "pids.max"}  # fmt: skip
    assert set(after) < set(due)
    assert {os.path.basename(p) for p in set(due) - set(after)} <= limit_names
