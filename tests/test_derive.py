"""derive(): every rate from two hand-built samples, with the exact value it must have, and
each boundary (first sample, counter reset, zero or negative interval, missing readings, no
quota, a cgroup gone, a sandbox without a cgroup). The mutation run (`make mutate`) uses these."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctop_py.derive import _psi_rates, delta, derive, rate
from ctop_py.model import (
    CgroupMode,
    CgroupStats,
    ContainerRaw,
    CpuCounters,
    HostInfo,
    IoCounters,
    Limits,
    MemoryCounters,
    NetCounters,
    Process,
    Psi,
    PsiLine,
    RawSample,
    Throttling,
)

S = 1_000_000_000  # ns per s
HOST = HostInfo("h", 2, CgroupMode.V2, 4, 8 << 30, 0.0, 100, {})


def cgroup(
    usage: int = 0,
    periods: int = 0,
    throttled: int = 0,
    throttled_ns: int = 0,
    quota: float | None = 0.5,
    read: int | None = 0,
    write: int | None = 0,
    used: int | None = 1000,
    limit: int | None = 4000,
    psi_total: int = 0,
    gone: bool = False,
) -> CgroupStats:
    return CgroupStats(
        version=2,
        path="/c",
        limits=Limits(
            cpu_quota_us=None if quota is None else int(quota * 100_000),
            cpu_period_us=None if quota is None else 100_000,
            memory_max_bytes=limit,
        ),
        cpu=CpuCounters(
            usage_ns=usage, nr_periods=periods, nr_throttled=throttled, throttled_ns=throttled_ns
        ),
        memory=MemoryCounters(current_bytes=2000, used_bytes=used),
        io=IoCounters(read_bytes=read, write_bytes=write),
        pids_current=3,
        psi={"cpu": Psi(some=PsiLine(0, 0, 0, psi_total), full=PsiLine(0, 0, 0, psi_total // 2))},
        gone=gone,
    )


def container(
    cg: CgroupStats | None, rx: int = 0, tx: int = 0, pids: tuple[int, ...] = (10,)
) -> ContainerRaw:
    return ContainerRaw(
        id="c1",
        runtime="docker",
        name="one",
        image=None,
        state="running",
        labels={},
        cgroup_path="/c",
        init_pid=10,
        pids=pids,
        namespaces={},
        shared_namespaces={},
        cgroup=cg,
        net=NetCounters(rx, tx, 0, 0, ("eth0",)),
    )


def process(ticks: int, start: int = 5, rss: int = 100, threads: int = 2) -> Process:
    return Process(10, 1, "sh", "R", start, ticks, rss, threads, 0, (10,), (), {}, ())


def sample(
    at_s: float,
    c: ContainerRaw,
    procs: tuple[Process, ...] = (),
    busy: int = 0,
    total: int = 0,
) -> RawSample:
    return RawSample(int(at_s * S), at_s, HOST, (c,), procs, busy, total, {})


def test_delta_and_rate_edges() -> None:
    assert delta(None, 1) is None and delta(1, None) is None
    assert delta(5, 4) is None  # a reset
    assert delta(5, 5) == 0 and delta(4, 9) == 5
    assert rate(0, 10, 2.0) == 5.0
    assert rate(0, 10, 0.0) is None and rate(0, 10, -1.0) is None and rate(0, 10, None) is None
    assert rate(10, 0, 1.0) is None and rate(None, 3, 1.0) is None


def test_every_rate_exactly() -> None:
    a = sample(
        10.0,
        container(cgroup(usage=1 * S, periods=100, throttled=10, throttled_ns=S // 10,
                         read=1000, write=0, psi_total=0), rx=100, tx=50),
        (process(ticks=200),), busy=1000, total=4000,
    )  # fmt: skip
    b = sample(
        12.0,
        container(cgroup(usage=2 * S, periods=120, throttled=15, throttled_ns=S // 2,
                         read=5000, write=800, psi_total=500_000), rx=300, tx=90),
        (process(ticks=300),), busy=1500, total=5000,
    )  # fmt: skip
    snap = derive(a, b)
    assert snap.interval_s == 2.0 and snap.time == 12.0 and snap.raw is b and snap.host is HOST
    assert snap.host_cpu_percent == pytest.approx(50.0)  # 500 busy of 1000 ticks
    (v,) = snap.containers
    assert v.usage.cpu_percent == pytest.approx(50.0)  # 1 s of CPU in 2 s
    assert v.usage.cpu_percent_of_quota == pytest.approx(100.0)  # of 0.5 CPU
    assert v.usage.memory_used_bytes == 1000 and v.usage.memory_current_bytes == 2000
    assert v.usage.memory_percent_of_limit == pytest.approx(25.0)
    assert v.usage.pids_current == 3
    assert v.usage.net_rx_bytes_per_s == 100.0 and v.usage.net_tx_bytes_per_s == 20.0
    assert v.usage.io_read_bytes_per_s == 2000.0 and v.usage.io_write_bytes_per_s == 400.0
    t = v.throttling
    assert t.throttled_percent == pytest.approx(25.0)  # 5 of 20 periods
    assert t.periods_in_window == 20
    assert t.throttled_seconds_per_s == pytest.approx(0.2)  # 0.4 s throttled in 2 s
    assert (t.nr_periods, t.nr_throttled, t.throttled_seconds) == (120, 15, 0.5)
    assert v.psi["cpu"].some_percent == 25.0  # 0.5 s stalled in 2 s (exactly: µs per s)
    assert v.psi["cpu"].full_percent == 12.5
    (p,) = v.processes
    assert p.cpu_percent == pytest.approx(50.0)  # 100 ticks in 2 s at 100 Hz


def test_first_sample_has_no_rates_but_levels() -> None:
    snap = derive(None, sample(1.0, container(cgroup(usage=S, periods=9, throttled=3))))
    (v,) = snap.containers
    assert snap.interval_s is None and snap.host_cpu_percent is None
    assert v.usage.cpu_percent is None and v.usage.cpu_percent_of_quota is None
    assert v.usage.net_rx_bytes_per_s is None and v.usage.io_read_bytes_per_s is None
    assert v.throttling.throttled_percent is None and v.throttling.periods_in_window is None
    assert v.throttling.throttled_seconds_per_s is None
    assert v.throttling.nr_throttled == 3 and v.usage.memory_used_bytes == 1000
    assert v.psi["cpu"].some_percent is None


@pytest.mark.parametrize("later_s", [10.0, 9.0])
def test_no_time_passed_gives_no_rates(later_s: float) -> None:
    a = sample(10.0, container(cgroup(usage=S)), (process(1),), busy=1, total=2)
    b = sample(later_s, container(cgroup(usage=2 * S)), (process(5),), busy=3, total=4)
    snap = derive(a, b)
    (v,) = snap.containers
    assert snap.interval_s is None and snap.host_cpu_percent is None
    assert v.usage.cpu_percent is None and v.throttling.throttled_percent is None
    assert v.processes[0].cpu_percent is None


def test_counter_reset_gives_no_rate_for_that_counter_only() -> None:
    a = sample(1.0, container(cgroup(usage=5 * S, read=100), rx=500))
    b = sample(2.0, container(cgroup(usage=S, read=300), rx=100))  # restarted: usage went back
    (v,) = derive(a, b).containers
    assert v.usage.cpu_percent is None and v.usage.net_rx_bytes_per_s is None
    assert v.usage.io_read_bytes_per_s == 200.0


def test_no_quota_means_no_throttling_and_no_percent_of_quota() -> None:
    a = sample(1.0, container(cgroup(usage=0, periods=0, quota=None)))
    b = sample(2.0, container(cgroup(usage=S // 4, periods=10, throttled=2, quota=None)))
    (v,) = derive(a, b).containers
    assert v.usage.cpu_percent == pytest.approx(25.0)
    assert v.usage.cpu_percent_of_quota is None
    assert v.throttling.throttled_percent is None and v.throttling.throttled_seconds_per_s is None
    assert v.throttling.periods_in_window == 10


def test_quota_and_no_period_elapsed_is_zero_throttled() -> None:
    a = sample(1.0, container(cgroup(periods=7, throttled=7)))
    b = sample(2.0, container(cgroup(periods=7, throttled=7)))
    (v,) = derive(a, b).containers
    assert v.throttling.throttled_percent == 0.0 and v.throttling.periods_in_window == 0


def test_missing_readings_give_none() -> None:
    a = sample(1.0, container(cgroup(read=None, used=None, limit=None)))
    b = sample(2.0, container(cgroup(read=None, used=None, limit=None)))
    (v,) = derive(a, b).containers
    assert v.usage.io_read_bytes_per_s is None and v.usage.memory_percent_of_limit is None
    zero_limit = sample(2.0, container(cgroup(limit=0)))
    (w,) = derive(a, zero_limit).containers
    assert w.usage.memory_percent_of_limit is None  # 0 means "no limit" here, not ÷0


def test_net_needs_both_readings() -> None:
    a = sample(1.0, replace(container(cgroup()), net=None))
    b = sample(2.0, container(cgroup(), rx=100))
    (v,) = derive(a, b).containers
    assert v.usage.net_rx_bytes_per_s is None and v.usage.net_tx_bytes_per_s is None
    (w,) = derive(b, sample(3.0, replace(container(cgroup()), net=None))).containers
    assert w.usage.net_rx_bytes_per_s is None


def test_a_gone_cgroup_has_no_rates() -> None:
    a = sample(1.0, container(cgroup(usage=S, gone=True)))
    b = sample(2.0, container(cgroup(usage=2 * S)))
    (v,) = derive(a, b).containers
    assert v.usage.cpu_percent is None and v.throttling.throttled_percent is None
    (w,) = derive(b, sample(3.0, container(cgroup(usage=3 * S, gone=True)))).containers
    assert w.usage.cpu_percent is None and w.throttling == Throttling()


def test_reused_pid_and_host_counter_reset() -> None:
    a = sample(1.0, container(cgroup()), (process(500, start=5),), busy=10, total=10)
    b = sample(2.0, container(cgroup()), (process(20, start=9),), busy=5, total=20)
    snap = derive(a, b)
    assert snap.containers[0].processes[0].cpu_percent is None  # another process
    assert snap.host_cpu_percent is None  # busy went backwards
    c = sample(3.0, container(cgroup()), (process(20, start=9),), busy=5, total=20)
    assert derive(b, c).host_cpu_percent is None  # no ticks elapsed: unknown, not 0 ÷ 0


def test_sandbox_without_cgroup_sums_its_processes() -> None:
    a = sample(1.0, container(None, rx=0, tx=0), (process(100, rss=1000, threads=3),))
    b = sample(3.0, container(None, rx=400, tx=200), (process(300, rss=1500, threads=4),))
    (v,) = derive(a, b).containers
    assert v.usage.cpu_percent == pytest.approx(100.0)  # 200 ticks in 2 s at 100 Hz
    assert v.usage.memory_used_bytes == 1500 and v.usage.pids_current == 4
    assert v.usage.net_rx_bytes_per_s == 200.0 and v.usage.net_tx_bytes_per_s == 100.0
    assert v.throttling == Throttling() and v.psi == {}
    assert v.raw is b.containers[0] and [u.process for u in v.processes] == [b.processes[0]]
    (first,) = derive(None, b).containers
    assert first.usage.cpu_percent is None and first.usage.net_rx_bytes_per_s is None
    empty = sample(3.0, container(None, pids=()), ())
    (none,) = derive(a, empty).containers
    assert none.usage == type(none.usage)()


def test_psi_capped_at_100_and_missing_lines() -> None:
    a = sample(1.0, container(cgroup(psi_total=0)))
    b = sample(2.0, container(cgroup(psi_total=3_000_000)))  # 3 s of stall in 1 s: clock skew
    (v,) = derive(a, b).containers
    assert v.psi["cpu"].some_percent == 100.0 and v.psi["cpu"].full_percent == 100.0
    assert b.containers[0].cgroup is not None
    no_full = replace(b.containers[0].cgroup, psi={"cpu": Psi(some=PsiLine(0, 0, 0, 10))})
    c = sample(3.0, replace(container(no_full)))
    (w,) = derive(b, c).containers
    assert w.psi["cpu"].full_percent is None and w.psi["cpu"].some_percent is None  # reset


def test_processes_missing_from_the_sample_are_skipped_not_the_rest() -> None:
    """A pid in cgroup.procs whose process was not read (it exited mid-sample) is skipped;
    the pids after it still count."""
    a = sample(1.0, container(cgroup(), pids=(9, 10)), (process(100),))
    b = sample(2.0, container(cgroup(), pids=(9, 10)), (process(150),))
    (v,) = derive(a, b).containers
    assert [(u.process.pid, u.cpu_percent) for u in v.processes] == [(10, 50.0)]


def test_absent_throttled_time_and_psi_lines() -> None:
    bare = replace(
        cgroup(),
        cpu=CpuCounters(usage_ns=0),
        psi={"io": Psi(full=PsiLine(0, 0, 0, 100))},
    )
    (v,) = derive(None, sample(1.0, container(bare))).containers
    assert v.throttling.throttled_seconds is None and v.throttling.nr_periods is None
    assert v.psi["io"].some_percent is None and v.psi["io"].full_percent is None


def test_a_record_unchanged_twice_keeps_its_view_and_a_change_shows_next() -> None:
    """The collector gives an idle container's very record back; derive() then gives back the
    view it made for it (the UI's rows compare by identity), equal to a fresh derivation
    (from an equal record that is another object), and a changed counter shows at once."""
    idle = container(cgroup(usage=3 * S, periods=50, throttled=5, psi_total=9))
    first = derive(sample(1.0, idle), sample(2.0, idle))
    second = derive(sample(2.0, idle), sample(3.5, idle))
    assert second.containers[0] is first.containers[0]
    fresh = derive(sample(2.0, replace(idle)), sample(3.5, replace(idle))).containers[0]
    assert fresh is not second.containers[0] and fresh == second.containers[0]
    assert fresh.usage.cpu_percent == 0.0 and fresh.throttling.throttled_percent == 0.0
    busy = container(cgroup(usage=4 * S, periods=60, throttled=8, psi_total=9))
    moved = derive(sample(3.5, idle), sample(4.5, busy)).containers[0]
    assert moved.usage.cpu_percent == pytest.approx(100.0)
    assert moved.throttling.throttled_percent == pytest.approx(30.0)
    back = derive(sample(4.5, busy), sample(5.5, busy)).containers[0]
    assert back.usage.cpu_percent == 0.0 and back.raw is busy


def test_an_unchanged_record_with_its_processes_read_gets_their_rates() -> None:
    """With process detail (the container on screen) the view is not reused: its processes'
    CPU moves while the cgroup record is the same object."""
    idle = container(cgroup(usage=S))
    derive(sample(1.0, idle, (process(ticks=100),)), sample(2.0, idle, (process(ticks=100),)))
    later = derive(sample(2.0, idle, (process(ticks=100),)), sample(3.0, idle, (process(50),)))
    (p,) = later.containers[0].processes
    assert p.cpu_percent is None  # ticks went back: a reset, not a reused 0 %
    moved = derive(sample(3.0, idle, (process(ticks=100),)), sample(4.0, idle, (process(130),)))
    (p,) = moved.containers[0].processes
    assert p.cpu_percent == pytest.approx(30.0)


def test_idle_records_that_moved_in_the_list_keep_their_views_and_others_get_theirs() -> None:
    """derive() finds an idle record at its previous place first; a container added before
    it (the list shifts) or a swap must still pair every record with its own previous one."""
    a = replace(container(cgroup(usage=3 * S)), id="a", name="a")
    b = replace(container(cgroup(usage=5 * S)), id="b", name="b")
    n = replace(container(cgroup(usage=7 * S)), id="n", name="n")
    two = RawSample(1 * S, 1.0, HOST, (a, b), (), 0, 0, {})
    first = derive(two, replace(two, monotonic_ns=2 * S, time=2.0))
    by_id = {v.raw.id: v for v in first.containers}
    shifted = replace(two, monotonic_ns=3 * S, time=3.0, containers=(n, b, a))
    views = {v.raw.id: v for v in derive(replace(two, monotonic_ns=2 * S), shifted).containers}
    assert views["a"] is by_id["a"] and views["b"] is by_id["b"]
    assert views["a"].usage.cpu_percent == 0.0 and views["n"].usage.cpu_percent is None
    # A busier record of b where a was: its rate against b's own previous counters.
    busier = replace(b, cgroup=cgroup(usage=6 * S))
    swapped = replace(two, monotonic_ns=4 * S, time=4.0, containers=(busier, a))
    moved = {v.raw.id: v for v in derive(shifted, swapped).containers}
    assert moved["b"].usage.cpu_percent == pytest.approx(100.0)
    assert moved["a"] is by_id["a"]


@pytest.mark.parametrize(
    ("prev_read", "cur_read", "first"),
    [
        (None, None, True),  # the first sample
        (500_000_000, 500_000_000, False),  # a brief container's reading, carried
        (None, 1_500_000_000, False),  # opened, then closed: since when, unknown
    ],
)
def test_psi_without_an_interval_equals_the_full_computation(
    prev_read: int | None, cur_read: int | None, first: bool
) -> None:
    """Where a PSI reading has no interval, derive() hands every resource one shared empty
    PsiRates instead of working each out: equal to `_psi_rates` on the same readings (with
    copies: not the same objects), though the totals moved (a rate would be a figure with
    an interval)."""
    psi_prev = {"cpu": Psi(PsiLine(0, 0, 0, 100), PsiLine(0, 0, 0, 50)), "io": Psi(None, None)}
    psi_cur = {"cpu": Psi(PsiLine(0, 0, 0, 900), PsiLine(0, 0, 0, 400)), "io": Psi(None, None)}
    a_cg = replace(cgroup(), psi=psi_prev, psi_read_ns=prev_read)
    b_cg = replace(cgroup(usage=S), psi=psi_cur, psi_read_ns=cur_read)
    a, b = sample(1.0, container(a_cg)), sample(2.0, container(b_cg))
    (view,) = derive(None if first else a, b).containers
    slow = {
        r: _psi_rates(None if first else replace(psi_prev[r]), replace(v), None)
        for r, v in psi_cur.items()
    }
    assert view.psi == slow and set(view.psi) == {"cpu", "io"}
    assert view.psi["cpu"].some_percent is None and view.psi["cpu"].full_percent is None
    # With an interval the same totals give rates: the shortcut is not taken there.
    fresh = replace(b_cg, psi_read_ns=None)
    (rated,) = derive(replace(a, containers=(container(replace(a_cg, psi_read_ns=None)),)),
                      sample(2.0, container(fresh))).containers  # fmt: skip
    assert rated.psi["cpu"].some_percent == pytest.approx(100.0 * 800 / 1_000_000)
