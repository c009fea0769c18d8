"""Brief sampling, the app's default for the containers not open (cgroupfs.BRIEF_SET), against
real containers: a throttled spinner, one whose processes its memory limit OOM-kills, one at
its pids limit. The list's cells, the OOM mark, the DIAGNOSIS findings and the kernel events
the app derives from brief samples are those a full collector derives beside it, and agree
with the kernel's files and `docker inspect` (read by the test, not through ctop-py). The
container opened gets every counter from the next tick. The files read per container and
tick, brief and full, are the lists written here (v1 on this host, v2 on a fake tree)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ctop_py.cgroupfs import detect_layout
from ctop_py.collect import Collector
from ctop_py.diagnose import Diagnoser, Finding
from ctop_py.host import HostRoot
from ctop_py.model import CgroupMode, ContainerRaw, Snapshot
from ctop_py.present import DASH
from ctop_py.sources import LiveSource
from ctop_py.ui import columns, fmt
from ctop_py.ui.history import Histories, container_key
from tests.conftest import BASE_IMAGE, SLEEP, SPIN, RunContainer, deadline_s, wait_settled
from tests.fakeroot import FakeHost, v2_files
from tests.filereads import files_read
from tests.groundtruth import docker_inspect, flat_keyed
from tests.test_diagnose_live import forker as start_forker

LAYOUT = detect_layout(HostRoot())
V2 = LAYOUT.mode is CgroupMode.V2

# Its children are OOM-killed, three times, when the test says so (/tmp/go); the shell lives on.
OOM_ON_CUE = (
    "while [ ! -e /tmp/go ]; do sleep 0.2; done; "
    "for i in 1 2 3; do tail /dev/zero; done; sleep 3600"
)
CTR_NS = {"pid": 4026532200, "net": 4026532201, "mnt": 4026532202, "uts": 4026532203}
MARK_KINDS = {"oom-kill", "memory-max", "memory-high", "pids-max"}


def controller_dir(c: ContainerRaw, controller: str) -> Path:
    assert c.cgroup_path is not None
    if V2:
        assert LAYOUT.unified is not None
        return LAYOUT.unified / c.cgroup_path.lstrip("/")
    return LAYOUT.controllers[controller] / c.cgroup_path.lstrip("/")


def oom_kills_of_kernel(c: ContainerRaw) -> int:
    directory = controller_dir(c, "memory")
    name = "memory.events" if V2 else "memory.oom_control"
    return flat_keyed(directory / name)["oom_kill"]


def memory_max_hits(c: ContainerRaw) -> int:
    """v2 memory.events max; v1 memory.failcnt (a memsw limit equal to the memory limit
    fails the memsw charge first: then memory.failcnt does not move)."""
    directory = controller_dir(c, "memory")
    if V2:
        return flat_keyed(directory / "memory.events")["max"]
    return int((directory / "memory.failcnt").read_text())


class Side:
    """One live source as the app drives it (brief or full), with what the app derives."""

    def __init__(self, brief: bool) -> None:
        self.source = LiveSource(collector=Collector(watch_engines=True), brief=brief)
        self.diagnoser = Diagnoser()
        self.histories = Histories()
        self.snapshot: Snapshot | None = None
        self.findings: dict[str, list[Finding]] = {}

    def tick(self) -> Snapshot:
        snapshot = self.source.next()
        self.snapshot = snapshot
        self.findings = self.diagnoser.observe(snapshot.raw)
        self.histories.feed(snapshot)
        return snapshot

    def view(self, cid: str) -> Any:
        assert self.snapshot is not None
        return next(v for v in self.snapshot.containers if v.raw.id == cid)

    def cells(self, cid: str) -> dict[str, columns.Cell]:
        view = self.view(cid)
        row = columns.RowInput(
            view, self.histories.get(container_key(view)), tuple(self.findings.get(cid, ()))
        )
        return {c.key: c.cell(row) for c in columns.COLUMNS}

    def kernel_kinds(self, cid: str) -> set[str]:
        return {e.kind for e in self.diagnoser.log.events if e.container_id == cid}

    def close(self) -> None:
        self.source.close()


@pytest.fixture
def sides() -> Iterator[tuple[Side, Side]]:
    brief, full = Side(brief=True), Side(brief=False)
    try:
        yield brief, full
    finally:
        brief.close()
        full.close()


def wait_for(
    what: str, check: Callable[[], bool], tick: Callable[[], None], timeout: float
) -> None:
    deadline = time.monotonic() + deadline_s(timeout)
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        tick()


PSI_KINDS = frozenset({"cpu-pressure", "memory-pressure", "io-pressure"})


@pytest.mark.docker
def test_brief_rows_show_what_full_ones_do(
    run_container: RunContainer, sides: tuple[Side, Side]
) -> None:
    spinner = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, network_mode="none")
    oomer = run_container(
        BASE_IMAGE,
        ["sh", "-c", OOM_ON_CUE],
        mem_limit="24m",
        memswap_limit="24m",
        network_mode="none",
    )
    forker = start_forker(run_container)
    ids = (spinner.id, oomer.id, forker.id)
    brief, full = sides

    def tick() -> None:
        brief.tick()
        full.tick()
        time.sleep(0.4)

    for _ in range(3):  # a baseline of every counter before the kills
        tick()
    assert brief.snapshot is not None
    raw = {c.id: c for c in brief.snapshot.raw.containers}
    assert all(cid in raw for cid in ids)
    assert oom_kills_of_kernel(raw[oomer.id]) == 0
    hits_before = memory_max_hits(raw[oomer.id])
    oomer.exec_run(["touch", "/tmp/go"])
    wait_for("three OOM kills", lambda: oom_kills_of_kernel(raw[oomer.id]) >= 3, tick, 30)
    for _ in range(4):  # the kills seen by both, and a window for the diagnosis
        tick()

    # The OOM mark and the lifecycle's count: three kills, the kernel's count, both ways.
    assert oom_kills_of_kernel(raw[oomer.id]) == 3
    for side in (brief, full):
        view = side.view(oomer.id)
        assert view.raw.cgroup.memory.events["oom_kill"] == 3
        assert view.raw.lifecycle.oom_kills == 3
        assert side.histories.get(container_key(view)).oom_kills_recent() == 3
        assert side.cells(oomer.id)["state"] == ("OOM×3", fmt.DANGER)

    truth = {cid: docker_inspect(cid)["HostConfig"] for cid in ids}
    for cid in ids:
        b, f = brief.cells(cid), full.cells(cid)
        # Cells that hold no rate (rates differ by the instant each collector read).
        for key in ("name", "image", "state"):
            assert b[key] == f[key], (cid, key)
        for key in ("mem", "pids"):  # "used / LIMIT": the limit part
            assert b[key][0].split(" / ")[1] == f[key][0].split(" / ")[1], (cid, key)
        for key in ("cpuq", "memp", "thr"):  # a figure or a dash alike
            assert (b[key][0] == DASH) == (f[key][0] == DASH), (cid, key)
        # The DIAGNOSIS: the same findings, the same severities. Pressure aside: a row not
        # open reads PSI every 5 s, so its pressure findings may come up to 5 s later (by
        # design), and on a loaded host the stall itself moves in that time. Pressure
        # findings from readings 5 s apart are tested on set timelines in
        # tests/test_psi_readings.py.
        kinds_b = [
            (x.kind, x.severity) for x in brief.findings.get(cid, []) if x.kind not in PSI_KINDS
        ]
        kinds_f = [
            (x.kind, x.severity) for x in full.findings.get(cid, []) if x.kind not in PSI_KINDS
        ]
        assert kinds_b == kinds_f, cid
        # The kernel events the app derives: the same kinds of limit hits.
        assert brief.kernel_kinds(cid) & MARK_KINDS == full.kernel_kinds(cid) & MARK_KINDS, cid
        # Limits as the engine set them.
        limits = brief.view(cid).limits
        assert limits == full.view(cid).limits
        nano = truth[cid]["NanoCpus"]
        assert limits.cpu_quota_cores == (pytest.approx(nano / 1e9) if nano else None)
        assert limits.memory_max_bytes == (truth[cid]["Memory"] or None)
        # pids: the kernel's pids.max is the truth (under the systemd driver on v2 the scope
        # has systemd's TasksMax where docker set none); docker's, where it set one.
        pids_file = (controller_dir(brief.view(cid).raw, "pids") / "pids.max").read_text()
        assert limits.pids_max == (None if pids_file.strip() == "max" else int(pids_file))
        if truth[cid]["PidsLimit"]:
            assert limits.pids_max == truth[cid]["PidsLimit"]

    # What each container is diagnosed with, against the kernel's counters.
    oom = {x.kind: x for x in brief.findings[oomer.id]}["oom-killed"]
    assert oom.sentence == {x.kind: x for x in full.findings[oomer.id]}["oom-killed"].sentence
    assert oom.evidence["oom_kills"] == 3
    assert oom.evidence["memory_max_bytes"] == truth[oomer.id]["Memory"]
    peak_file = "memory.peak" if V2 else "memory.max_usage_in_bytes"
    kernel_peak = int((controller_dir(raw[oomer.id], "memory") / peak_file).read_text())
    assert oom.evidence["memory_peak_bytes"] == kernel_peak
    for side in (brief, full):  # the kernel's oom-kill events: the three kills
        kills = [
            e.numbers["kills"]
            for e in side.diagnoser.log.events
            if e.container_id == oomer.id and e.kind == "oom-kill" and e.source == "kernel"
        ]
        assert sum(int(k or 0) for k in kills) == 3
    # memory-max events exactly when the kernel's count of limit hits rose meanwhile.
    hits_after = memory_max_hits(raw[oomer.id])
    assert ("memory-max" in brief.kernel_kinds(oomer.id)) == (hits_after > hits_before)
    assert "cpu-throttled" in {x.kind for x in brief.findings[spinner.id]}
    assert "throttle-start" in brief.kernel_kinds(spinner.id) & full.kernel_kinds(spinner.id)
    refused = flat_keyed(controller_dir(raw[forker.id], "pids") / "pids.events")["max"]
    pids = {x.kind: x for x in brief.findings[forker.id]}["pids-limit"]
    assert 0 < pids.evidence["refused"] <= refused
    assert "pids-max" in brief.kernel_kinds(forker.id)
    # The brief rows did leave out what only an open container shows.
    cpu = brief.view(spinner.id).raw.cgroup.cpu
    if not V2:
        assert cpu.user_ns is None and full.view(spinner.id).raw.cgroup.cpu.user_ns is not None


@pytest.mark.docker
def test_the_opened_container_gets_every_counter(run_container: RunContainer) -> None:
    spinner = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, network_mode="none")
    sleeper = run_container(BASE_IMAGE, SLEEP, mem_limit="64m", network_mode="none")
    wait_settled(spinner, sleeper)  # their limits read once, not each tick (young)
    source = LiveSource(collector=Collector(watch_engines=True))  # the app's: brief
    try:
        first = source.next()  # the first tick reads every container's limits (and PSI)
        readings = set()
        for _ in range(3):  # within one limits period: PSI read at most once more
            time.sleep(0.3)
            snapshot = source.next()
            by_id = {v.raw.id: v for v in snapshot.containers}
            cg = by_id[spinner.id].raw.cgroup
            assert cg is not None and cg.memory.swap_current_bytes is None
            if not V2:
                assert cg.cpu.user_ns is None and cg.cpu.system_ns is None
            # Between reads the record carries the last reading, and says when it was read.
            assert cg.psi_read_ns is not None
            assert first.raw.monotonic_ns <= cg.psi_read_ns <= snapshot.raw.monotonic_ns
            readings.add(cg.psi_read_ns)
            assert not any(p.pid in by_id[spinner.id].raw.pids for p in snapshot.raw.processes)
        assert len(readings) <= 2
        raw = by_id[spinner.id].raw
        psi_file = (
            (LAYOUT.unified / raw.cgroup_path.lstrip("/") / "cpu.pressure")
            if LAYOUT.unified is not None and raw.cgroup_path
            else None
        )
        source.want_detail(frozenset({spinner.id}))  # the app opens it
        for tick in (1, 2):
            time.sleep(0.3)
            acct = controller_dir(raw, "cpuacct")
            before = flat_keyed(controller_dir(raw, "cpu") / "cpu.stat") if V2 else None
            user_before = None if V2 else int((acct / "cpuacct.usage_user").read_text())
            snapshot = source.next()
            user_after = None if V2 else int((acct / "cpuacct.usage_user").read_text())
            after = flat_keyed(controller_dir(raw, "cpu") / "cpu.stat") if V2 else None
            by_id = {v.raw.id: v for v in snapshot.containers}
            opened, other = by_id[spinner.id], by_id[sleeper.id]
            cg = opened.raw.cgroup
            assert cg is not None
            # Its CPU split between the kernel's readings around the tick.
            if V2:
                assert before is not None and after is not None
                assert before["user_usec"] * 1000 <= (cg.cpu.user_ns or 0)
                assert (cg.cpu.user_ns or 0) <= after["user_usec"] * 1000
            else:
                assert user_before is not None and user_after is not None
                assert cg.cpu.user_ns is not None and user_before <= cg.cpu.user_ns <= user_after
            memsw = controller_dir(raw, "memory") / (
                "memory.swap.current" if V2 else "memory.memsw.usage_in_bytes"
            )
            assert (cg.memory.swap_current_bytes is not None) == memsw.exists()
            if psi_file is not None and psi_file.exists():
                truth = psi_file.read_text().split()
                assert "cpu" in cg.psi and cg.psi["cpu"].some is not None
                total_now = int(next(x for x in truth if x.startswith("total="))[6:])
                assert 0 <= cg.psi["cpu"].some.total_us <= total_now
                # No "–" after a tick: the rates of the second full tick are there.
                if tick == 2:
                    assert opened.psi["cpu"].some_percent is not None
            # Its processes: the kernel's list of its cgroup.
            procs = controller_dir(raw, "pids") / "cgroup.procs"
            read = {p.pid for p in snapshot.raw.processes}
            assert set(opened.raw.pids) <= read
            assert set(opened.raw.pids) & {int(x) for x in procs.read_text().split()}
            # The other one stays brief.
            assert other.raw.cgroup is not None
            assert other.raw.cgroup.memory.swap_current_bytes is None
            assert not set(other.raw.pids) & read
    finally:
        source.close()


# ---- the files read per container and tick ---------------------------------------------------


@contextmanager
def opened_files() -> Iterator[list[str]]:
    """Every file read meanwhile: opened, or read again through a fd the collector keeps."""
    with files_read() as paths:
        yield paths


def files_of(paths: list[str], c: ContainerRaw) -> list[str]:
    """The counter files of one container a tick opened: in its cgroup directories (not
    cgroup.procs: how it is found, not what is shown) and its init's /proc entries."""
    assert c.cgroup_path is not None
    cgroup = c.cgroup_path.rstrip("/") + "/"
    proc = f"/proc/{c.init_pid}/"
    found = []
    for path in paths:
        if cgroup in path and not path.endswith("/cgroup.procs"):
            found.append(path.rsplit("/", 1)[1])
        elif proc in path:
            found.append(path.split(proc, 1)[1])
    return sorted(found)


V1_BRIEF = sorted([
    "stat", "net/dev", "cpu.stat", "cpuacct.usage", "memory.stat", "memory.usage_in_bytes",
    "memory.oom_control", "memory.max_usage_in_bytes", "blkio.throttle.io_service_bytes_recursive",
    "pids.current", "pids.events",
])  # fmt: skip
V1_FULL_MORE = [
    "cpuacct.usage_user", "cpuacct.usage_sys", "memory.memsw.usage_in_bytes", "memory.failcnt",
    "cpu.pressure", "memory.pressure", "io.pressure",
]  # fmt: skip
V2_BRIEF = sorted([
    "stat", "net/dev", "cpu.stat", "memory.stat", "memory.current", "memory.peak",
    "memory.events", "io.stat", "pids.current", "pids.events",
])  # fmt: skip
V2_FULL_MORE = ["memory.swap.current", "cpu.pressure", "memory.pressure", "io.pressure"]
V2_PSI = ["cpu.pressure", "memory.pressure", "io.pressure"]


def ticks_traced(collector: Collector, brief: bool, cid: str) -> list[list[str]]:
    """The second and third ticks' files of one container (the second reads them one by one
    and plans, the third reads the plan's), after a first that read the limits."""
    result = []
    collector.sample(detail=(), brief=brief)
    for _ in range(2):
        with opened_files() as paths:
            sample = collector.sample(detail=(), brief=brief)
        c = next(c for c in sample.containers if c.id == cid)
        result.append(files_of(paths, c))
    return result


@pytest.mark.docker
def test_files_per_container_and_tick_on_this_host(run_container: RunContainer) -> None:
    limited = run_container(BASE_IMAGE, SLEEP, mem_limit="64m", network_mode="none")
    unlimited = run_container(BASE_IMAGE, SLEEP, network_mode="none")
    wait_settled(limited, unlimited)  # their limits read once, not each tick (young)
    if V2:
        brief_set, full_set = V2_BRIEF, sorted(V2_BRIEF + V2_FULL_MORE)
        brief_unlimited = brief_set
    else:
        # With a memory limit memory.failcnt too (it moves only under a limit of its own).
        brief_set = sorted([*V1_BRIEF, "memory.failcnt"])
        brief_unlimited = V1_BRIEF
        psi = LAYOUT.unified is not None
        full_set = sorted(V1_BRIEF + [f for f in V1_FULL_MORE if psi or "pressure" not in f])
    # A new container's next limit read is spread over limits_s by its ID's crc32, so with
    # the default 5 s a random ID can come due within a tick or two (seen on the slow v2
    # guest): a period this long puts it >= 16 minutes after the first tick.
    steady_s = 1e6
    for cid, brief_expected in ((limited.id, brief_set), (unlimited.id, brief_unlimited)):
        collector = Collector(engines=[], limits_s=steady_s)
        try:
            assert ticks_traced(collector, True, cid) == [brief_expected] * 2
        finally:
            collector.close()
        collector = Collector(engines=[], limits_s=steady_s)
        try:
            assert ticks_traced(collector, False, cid) == [full_set] * 2
        finally:
            collector.close()
    print(f"files per tick: brief {len(brief_set)}/{len(brief_unlimited)}, full {len(full_set)}")


def test_files_per_container_and_tick_v2(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    cid = "b1" * 32
    path = f"/system.slice/docker-{cid}.scope"
    files = {**v2_files(), "memory.peak": "1\n", "pids.events": "max 0\n"}
    host.write_cgroup(path, {**files, "memory.swap.current": "0\n"})
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1))
    collector = Collector(host.root, engines=[], limits_s=3600)
    assert ticks_traced(collector, True, cid) == [V2_BRIEF] * 2
    assert (
        ticks_traced(Collector(host.root, engines=[]), False, cid)
        == [sorted(V2_BRIEF + V2_FULL_MORE)] * 2
    )
    # PSI comes with the limits: the first tick of a collector, then every limits_s.
    collector = Collector(host.root, engines=[], limits_s=3600)
    with opened_files() as paths:
        sample = collector.sample(detail=(), brief=True)
    c = next(c for c in sample.containers if c.id == cid)
    read = files_of(paths, c)
    assert set(V2_BRIEF + V2_PSI) <= set(read) and "memory.swap.current" not in read
    assert c.cgroup is not None and set(c.cgroup.psi) == {"cpu", "memory", "io"}
