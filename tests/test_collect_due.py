"""A container's limits due (issue 16, c4; v1 too since k5): the collector reads the limit
files (and a brief container's PSI files) and, when they hold the bytes its limits and PSI
reading were read from and no counter moved, keeps its record instead of making it again.
Every such tick must give what the full read gives: the shortcut (`Collector._due_files`)
beside the same collector with it turned off, on the same files, tick by tick, including files
that change between ticks, and against a new collector's read of those files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctop_py.collect import Collector
from ctop_py.model import ContainerRaw, RawSample
from tests.fakeroot import FakeHost, net_dev, v1_files, v2_files, write_v1
from tests.filereads import files_read

ID = "5a1f0e2b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
CTR_NS = {"pid": 4026532200, "net": 4026532201, "mnt": 4026532202, "uts": 4026532203}
PATH = f"/system.slice/docker-{ID}.scope"
LIMITS_S = 0.3
CPUSET = {"cpuset.cpus.effective": "0-1\n", "cpuset.mems.effective": "0\n"}


def only(sample: RawSample) -> ContainerRaw:
    (c,) = [c for c in sample.containers if c.id == ID]
    return c


def make_host(tmp_path: Path, cpuset: bool) -> FakeHost:
    host = FakeHost(tmp_path, "v2")
    files = v2_files()
    if cpuset:
        files |= CPUSET
    host.write_cgroup(PATH, files)
    host.add_process(100, "sh", cgroup_path=PATH, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(1000, 500), cpu_ticks=10)  # fmt: skip
    return host


def psi(avg10: str, total: int) -> str:
    return (
        f"some avg10={avg10} avg60=2.00 avg300=3.00 total={total}\n"
        f"full avg10=0.50 avg60=0.25 avg300=0.10 total={total // 2}\n"
    )


class Pair:
    """The same sampling by two collectors: `short` as shipped, `full` with the due files
    never read ahead (every due tick the full read, as before the shortcut)."""

    def __init__(self, host: FakeHost, brief: bool, open_one: bool = False) -> None:
        self.host, self.brief, self.open_one = host, brief, open_one
        self.short = Collector(host.root, engines=[], limits_s=LIMITS_S)
        self.full = Collector(host.root, engines=[], limits_s=LIMITS_S)
        self.full._due_files = lambda c, brief: None  # type: ignore[method-assign]

    def tick(self) -> tuple[ContainerRaw, ContainerRaw, RawSample]:
        if self.open_one:  # the app with this container open: full, its PSI kept too
            s, f = (c.sample(detail=frozenset({ID}), brief=True) for c in (self.short, self.full))
        elif self.brief:
            s, f = (c.sample(detail=frozenset(), brief=True) for c in (self.short, self.full))
        else:
            s, f = (c.sample(detail=()) for c in (self.short, self.full))
        self.last_full = f
        return only(s), only(f), s

    def close(self) -> None:
        self.short.close()
        self.full.close()


@pytest.fixture(params=[True, False], ids=["brief", "full"])
def brief(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def pair(tmp_path: Path, brief: bool) -> Iterator[Pair]:
    p = Pair(make_host(tmp_path, cpuset=True), brief)
    yield p
    p.close()


def same_values(a: ContainerRaw, b: ContainerRaw) -> None:
    """The two records say the same about the container (PSI by value; when each collector
    read it differs by the few µs between their ticks)."""
    assert a.cgroup is not None and b.cgroup is not None
    assert a.cgroup.limits == b.cgroup.limits
    assert a.cgroup.psi == b.cgroup.psi
    assert a.cgroup.cpu == b.cgroup.cpu and a.cgroup.memory == b.cgroup.memory
    assert a.cgroup.pids_current == b.cgroup.pids_current and a.net == b.net
    assert (a.pids, a.init_pid, a.namespaces) == (b.pids, b.init_pid, b.namespaces)


def new_collector_reads(host: FakeHost, brief: bool) -> ContainerRaw:
    collector = Collector(host.root, engines=[])
    try:
        if brief:
            return only(collector.sample(detail=frozenset(), brief=True))
        return only(collector.sample(detail=()))
    finally:
        collector.close()


def test_limits_due_unchanged_keep_the_record_and_read_each_due_file_once(pair: Pair) -> None:
    for _ in range(3):
        pair.tick()
    before, _, _ = pair.tick()
    time.sleep(LIMITS_S + 0.05)
    cgroup = pair.host.cgroup_dir(PATH)
    with files_read() as paths:
        due, due_full, _ = pair.tick()
    limit_file, psi_file = str(cgroup / "memory.max"), str(cgroup / "cpu.pressure")
    # `files_read` saw both collectors: each read the limit file once that tick.
    assert paths.count(limit_file) == 2
    assert paths.count(psi_file) == 2  # brief: with the limits; full: every tick
    with files_read() as paths:
        after, _, _ = pair.tick()
    assert limit_file not in paths  # the limits are fresh again: not read the next tick
    assert due is before and after is due  # nothing changed: the same record throughout
    same_values(due, due_full)
    same_values(due, new_collector_reads(pair.host, pair.brief))


@pytest.mark.parametrize(
    "change",
    [
        {"memory.max": "1048576\n"},
        {"cpu.max": "20000 100000\n"},
        {"pids.max": "max\n"},
        {"cpuset.cpus.effective": "1\n"},
        {"memory.high": "2097152\n", "memory.low": "4096\n"},
        {"memory.swap.max": "0\n"},  # a file that was absent appears
    ],
    ids=lambda c: "+".join(c),
)
def test_a_limit_changed_between_ticks_shows_on_the_due_tick(
    pair: Pair, change: dict[str, str]
) -> None:
    for _ in range(3):
        pair.tick()
    before, _, _ = pair.tick()
    pair.host.write_cgroup(PATH, change)
    time.sleep(LIMITS_S + 0.05)
    due, due_full, _ = pair.tick()
    assert due.cgroup is not None and before.cgroup is not None
    assert due.cgroup.limits != before.cgroup.limits
    same_values(due, due_full)
    same_values(due, new_collector_reads(pair.host, pair.brief))
    original = v2_files() | CPUSET
    for name in change:  # as it was: written back, or removed when it was absent
        if name in original:
            pair.host.write_cgroup(PATH, {name: original[name]})
        else:
            (pair.host.cgroup_dir(PATH) / name).unlink()
    time.sleep(LIMITS_S + 0.05)
    back, back_full, _ = pair.tick()  # and back: the bytes it first read, read again
    same_values(back, back_full)
    same_values(back, new_collector_reads(pair.host, pair.brief))


@pytest.mark.parametrize("open_one", [False, True], ids=["brief", "open"])
def test_psi_changed_or_not_at_due_ticks_as_the_full_read(tmp_path: Path, open_one: bool) -> None:
    """The app's PSI readings (a brief container's read with its limits, an open one's every
    tick): a due tick that finds the same values confirms the reading (its `psi_since_ns`
    after a later change is that tick's), one that finds new ones makes a new reading, as
    the full read does."""
    pair = Pair(make_host(tmp_path, cpuset=True), brief=True, open_one=open_one)
    try:
        for _ in range(3):
            pair.tick()
        first, first_full, _ = pair.tick()
        same_values(first, first_full)
        time.sleep(LIMITS_S + 0.05)
        confirmed, confirmed_full, confirm_sample = pair.tick()  # same PSI: confirmed
        confirm_full_sample = pair.last_full
        assert confirmed is first
        same_values(confirmed, confirmed_full)
        assert confirmed.cgroup is not None and first.cgroup is not None
        assert confirmed.cgroup.psi_read_ns == first.cgroup.psi_read_ns
        pair.host.write_cgroup(PATH, {"memory.pressure": psi("7.00", 5000)})
        time.sleep(LIMITS_S + 0.05)
        changed, changed_full, _ = pair.tick()
        same_values(changed, changed_full)
        if not open_one:
            same_values(changed, new_collector_reads(pair.host, brief=True))
        if open_one:  # an open container's record carries no reading: close it, and see
            pair.open_one = False
            changed, changed_full, _ = pair.tick()
        assert changed.cgroup is not None and changed_full.cgroup is not None
        memory_some = changed.cgroup.psi["memory"].some
        assert memory_some is not None and memory_some.avg10 == 7.0
        # The reading before this one was last found at the due tick that confirmed it.
        assert changed.cgroup.psi_since_ns == confirm_sample.monotonic_ns
        assert changed_full.cgroup.psi_since_ns == confirm_full_sample.monotonic_ns
        assert changed.cgroup.psi_read_ns is not None
        assert changed.cgroup.psi_read_ns > changed.cgroup.psi_since_ns
    finally:
        pair.close()


def test_no_effective_cpuset_reads_cpuset_cpus_with_the_limits(tmp_path: Path) -> None:
    """Without cpuset.cpus.effective the limits read cpuset.cpus: a change there shows on
    the due tick too."""
    pair = Pair(make_host(tmp_path, cpuset=False), brief=True)
    try:
        for _ in range(3):
            pair.tick()
        pair.host.write_cgroup(PATH, {"cpuset.cpus": "0\n"})
        time.sleep(LIMITS_S + 0.05)
        due, due_full, _ = pair.tick()
        assert due.cgroup is not None and due.cgroup.limits.cpuset_cpus == "0"
        same_values(due, due_full)
        pair.host.write_cgroup(PATH, {"cpuset.cpus": "1\n"})
        time.sleep(LIMITS_S + 0.05)
        again, again_full, _ = pair.tick()
        assert again.cgroup is not None and again.cgroup.limits.cpuset_cpus == "1"
        same_values(again, again_full)
        same_values(again, new_collector_reads(pair.host, brief=True))
    finally:
        pair.close()


# v1 (hybrid, as this host: PSI in the unified hierarchy): its limits' files, one directory
# per controller (k5: the shortcut extended from v2).
def make_v1_host(tmp_path: Path) -> FakeHost:
    host = FakeHost(tmp_path, "hybrid")
    write_v1(host, PATH, v1_files(limit=64 << 20))
    host.write_cgroup(PATH, {f"{r}.pressure": psi("1.00", 100) for r in ("cpu", "memory", "io")},
                      "unified")  # fmt: skip
    host.add_process(100, "sh", cgroup_path=PATH, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(1000, 500), cpu_ticks=10)  # fmt: skip
    return host


@pytest.fixture
def v1_pair(tmp_path: Path, brief: bool) -> Iterator[Pair]:
    p = Pair(make_v1_host(tmp_path), brief)
    yield p
    p.close()


def test_v1_limits_due_unchanged_keep_the_record_and_read_each_due_file_once(
    v1_pair: Pair,
) -> None:
    pair = v1_pair
    for _ in range(3):
        pair.tick()
    before, _, _ = pair.tick()
    time.sleep(LIMITS_S + 0.05)
    limit_file = str(pair.host.cgroup_dir(PATH, "memory") / "memory.limit_in_bytes")
    psi_file = str(pair.host.cgroup_dir(PATH, "unified") / "cpu.pressure")
    with files_read() as paths:
        due, due_full, _ = pair.tick()
    assert paths.count(limit_file) == 2  # once by each collector
    assert paths.count(psi_file) == 2
    with files_read() as paths:
        after, _, _ = pair.tick()
    assert limit_file not in paths
    assert due is before and after is due
    same_values(due, due_full)
    same_values(due, new_collector_reads(pair.host, pair.brief))


@pytest.mark.parametrize(
    "controller,change",
    [
        ("memory", {"memory.limit_in_bytes": "1048576\n"}),
        ("memory", {"memory.memsw.limit_in_bytes": f"{65 << 20}\n"}),  # swap 1 MiB
        ("cpu", {"cpu.cfs_quota_us": "20000\n"}),
        ("cpu", {"cpu.shares": "512\n"}),
        ("pids", {"pids.max": "50\n"}),
        ("cpuset", {"cpuset.cpus": "1\n"}),  # no cpuset.effective_cpus: the plain one
        ("cpuset", {"cpuset.effective_cpus": "0\n"}),  # absent, then present
        ("cpuset", {"cpuset.mems": "1\n"}),
        ("unified", {"memory.pressure": psi("7.00", 5000)}),
    ],
    ids=lambda c: c if isinstance(c, str) else "+".join(c),
)
def test_v1_a_limit_changed_between_ticks_shows_on_the_due_tick(
    v1_pair: Pair, controller: str, change: dict[str, str]
) -> None:
    pair = v1_pair
    for _ in range(3):
        pair.tick()
    before, _, _ = pair.tick()
    pair.host.write_cgroup(PATH, change, controller)
    time.sleep(LIMITS_S + 0.05)
    due, due_full, _ = pair.tick()
    assert due.cgroup is not None and before.cgroup is not None
    if controller == "unified":
        assert due.cgroup.psi != before.cgroup.psi or not pair.brief
    else:
        assert due.cgroup.limits != before.cgroup.limits
    same_values(due, due_full)
    same_values(due, new_collector_reads(pair.host, pair.brief))
    original = v1_files(limit=64 << 20).get(controller, {})
    for name in change:  # as it was: written back, or removed when it was absent
        if name in original:
            pair.host.write_cgroup(PATH, {name: original[name]}, controller)
        elif controller == "unified":
            pair.host.write_cgroup(PATH, {name: psi("1.00", 100)}, controller)
        else:
            (pair.host.cgroup_dir(PATH, controller) / name).unlink()
    time.sleep(LIMITS_S + 0.05)
    back, back_full, _ = pair.tick()
    assert back.cgroup is not None
    assert back.cgroup.limits == before.cgroup.limits
    same_values(back, back_full)
    same_values(back, new_collector_reads(pair.host, pair.brief))


def test_v1_due_tick_with_the_same_bytes_makes_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shortcut is taken on v1: a due tick whose files all hold the same bytes does not
    read the cgroup again (before k5, v1 always did)."""
    from ctop_py import cgroupfs

    host = make_v1_host(tmp_path)
    collector = Collector(host.root, engines=[], limits_s=LIMITS_S)
    try:
        for _ in range(4):
            before = only(collector.sample(detail=frozenset(), brief=True))
        calls: list[str] = []
        read_cgroup = cgroupfs.read_cgroup

        def counted(*args: object, **kwargs: object) -> object:
            calls.append("read_cgroup")
            return read_cgroup(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(cgroupfs, "read_cgroup", counted)
        time.sleep(LIMITS_S + 0.05)
        due = only(collector.sample(detail=frozenset(), brief=True))
        assert calls == [] and due is before
        host.write_cgroup(PATH, {"pids.max": "7\n"}, "pids")
        time.sleep(LIMITS_S + 0.05)
        changed = only(collector.sample(detail=frozenset(), brief=True))
        assert calls == ["read_cgroup"]
        assert changed.cgroup is not None and changed.cgroup.limits.pids_max == 7
    finally:
        collector.close()
