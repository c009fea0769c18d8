"""diagnose() value by value: every finding compared whole (kind, severity, sentence, evidence)
against numbers worked out by hand from literal counters, with non-zero baselines, and each
threshold tried at, just below and just above its boundary. Written for the mutation run
(MUTATION.md): a change to any operator, constant or text of ctop_py/diagnose.py must fail one.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctop_py.diagnose import Diagnoser, Finding, _cores, _size, diagnose, summary
from ctop_py.events import Event
from ctop_py.model import CgroupStats, Lifecycle, Psi, PsiLine, RawSample
from ctop_py.thresholds import THRESHOLDS, Thresholds
from tests.diagfixtures import CID, MiB, container, sample, stats

NOW = 1_000_000.0  # sample(t).time is NOW + t
LOOKBACK = THRESHOLDS.lookback_s


def ev(t: float, kind: str, source: str = "engine", **numbers: int) -> Event:
    return Event(NOW + t, source, kind, CID, "app", numbers)


def pair(a: CgroupStats, b: CgroupStats, seconds: float = 10.0) -> list[Finding]:
    return diagnose([sample(5, container(a)), sample(5 + seconds, container(b))])[CID]


def with_psi(cg: CgroupStats, **psi: Psi) -> CgroupStats:
    return replace(cg, psi=psi)


def line(total_us: int) -> PsiLine:
    return PsiLine(0.0, 0.0, 0.0, total_us)


# -- number formatting ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "?"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024 - 1, "10.0 KiB"),
        (10 * 1024, "10 KiB"),
        (5 * MiB, "5.0 MiB"),
        (24 * MiB, "24 MiB"),
        (3 << 30, "3.0 GiB"),
        (3 << 40, "3.0 TiB"),
        (2048 << 40, "2048 TiB"),
    ],
)
def test_size_text(n: int | None, text: str) -> None:
    assert _size(n) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.1"), (0.25, "0.25"), (1.0, "1"), (9.5, "9.5"), (10.25, "10"), (12.345, "12")],
)
def test_cores_text(value: float, text: str) -> None:
    assert _cores(value) == text


# -- CPU throttling ---------------------------------------------------------------------


def cpu(
    usage_s: float, periods: int, throttled: int, waited_s: float, quota_us: int
) -> CgroupStats:
    return stats(
        usage_ns=round(usage_s * 1e9),
        periods=periods,
        throttled=throttled,
        throttled_ns=round(waited_s * 1e9),
        quota_us=quota_us,
    )


def test_cpu_throttled_whole_finding() -> None:
    # 61 of 97 periods throttled (62.89 %), 5.123456789 s used and 4 s waited over 10 s.
    a = cpu(100.0, 1000, 100, 50.0, 50_000)
    b = cpu(105.123456789, 1097, 161, 54.0, 50_000)
    assert pair(a, b) == [
        Finding(
            "cpu-throttled",
            "critical",
            "CPU quota: throttled in 63 % of periods, uses 0.51 of its 0.5 CPU, needs ~0.95",
            {
                "throttled_percent": 62.9,
                "quota_cores": 0.5,
                "used_cores": 0.512,
                "needed_cores": 0.95,  # 0.512 + 0.4 rounded up to the next 0.05
                "periods": 97,
                "throttled_periods": 61,
                "window_s": 10.0,
            },
        )
    ]


def test_cpu_throttled_boundaries() -> None:
    def severity(throttled_of_1000: int) -> list[str]:
        a = cpu(10.0, 5000, 200, 1.0, 20_000)
        b = cpu(12.0, 6000, 200 + throttled_of_1000, 3.0, 20_000)
        return [f.severity for f in pair(a, b)]

    assert severity(99) == []  # 9.9 %
    assert severity(100) == ["warning"]  # 10 %
    assert severity(499) == ["warning"]
    assert severity(500) == ["critical"]  # 50 %


def test_needed_cores_never_below_the_quota() -> None:
    # Little used, nothing waited: the estimate (0.05) is below the quota of 0.12345 cores.
    a = cpu(1.0, 100, 10, 0.0, 12_345)
    b = cpu(1.1, 200, 60, 0.0, 12_345)
    (f,) = pair(a, b)
    assert f.evidence["needed_cores"] == 0.12
    assert f.evidence["used_cores"] == 0.01
    assert f.sentence.endswith("uses 0.01 of its 0.12 CPU, needs ~0.12")


def test_needed_cores_with_nothing_used() -> None:
    # usage unchanged, 0.4 s waited per second: needs exactly 0.4, not the next step up.
    a = cpu(7.0, 100, 0, 1.0, 10_000)
    b = cpu(7.0, 200, 100, 5.0, 10_000)
    (f,) = pair(a, b)
    assert (f.evidence["used_cores"], f.evidence["needed_cores"]) == (0.0, 0.4)
    # and the same with nothing waited either: the quota
    b = cpu(7.0, 200, 100, 1.0, 10_000)
    (f,) = pair(a, b)
    assert (f.evidence["used_cores"], f.evidence["needed_cores"]) == (0.0, 0.1)


def test_no_throttling_finding_without_quota_periods_or_counts() -> None:
    a = cpu(1.0, 100, 10, 0.0, 10_000)
    b = cpu(2.0, 200, 110, 5.0, 10_000)
    assert [f.kind for f in pair(a, b)] == ["cpu-throttled"]
    no_quota = replace(b, limits=replace(b.limits, cpu_quota_us=None, cpu_period_us=None))
    assert pair(replace(a, limits=no_quota.limits), no_quota) == []
    no_count = replace(b, cpu=replace(b.cpu, nr_throttled=None))
    assert pair(replace(a, cpu=replace(a.cpu, nr_throttled=None)), no_count) == []
    no_periods = replace(b, cpu=replace(b.cpu, nr_periods=100))  # no period passed
    assert pair(a, no_periods) == []


# -- the window: which samples are compared, and over how long --------------------------


def throttled_at(t: float, k: int, *, mono: float | None = None) -> RawSample:
    """A sample at time t whose counters grew k steps: 1 s used, 50 of 100 periods throttled
    and 1 s waited per step."""
    s = sample(t, container(cpu(10.0 + k, 1000 + 100 * k, 50 * k, 2.0 * k, 100_000)))
    return s if mono is None else replace(s, monotonic_ns=int(mono * 1e9))


def test_window_uses_monotonic_time_then_wall_time() -> None:
    # Wall clock jumped 20 s while 10 s passed: the monotonic clock decides.
    s0, s1 = throttled_at(5, 0), replace(throttled_at(15, 1), time=NOW + 25)
    (f,) = diagnose([s0, s1])[CID]
    assert f.evidence["window_s"] == 10.0 and f.evidence["used_cores"] == 0.1
    # No monotonic clock (both 0, as in an old recording): the wall clock's 4 s.
    s0, s1 = throttled_at(5, 0, mono=0), throttled_at(9, 1, mono=0)
    (f,) = diagnose([s0, s1])[CID]
    assert f.evidence["window_s"] == 4.0 and f.evidence["used_cores"] == 0.25


def test_no_rates_over_no_time() -> None:
    s0, s1 = throttled_at(5, 0), throttled_at(5, 1)
    assert diagnose([s0, s1])[CID] == []
    # one second is enough
    (f,) = diagnose([throttled_at(5, 0), throttled_at(6, 1)])[CID]
    assert f.evidence["window_s"] == 1.0


def test_window_spans_the_first_to_the_last_usable_sample() -> None:
    samples = [throttled_at(0, 0), throttled_at(1, 1), throttled_at(2, 2), throttled_at(3, 3)]
    (f,) = diagnose(samples)[CID]
    assert (f.evidence["window_s"], f.evidence["periods"]) == (3.0, 300)
    # The container has no cgroup in the newest sample: the last usable one ends the window.
    gone = sample(4, container(None))
    (f,) = diagnose([*samples[:3], gone])[CID]
    assert (f.evidence["window_s"], f.evidence["periods"]) == (2.0, 200)


@pytest.mark.parametrize("gap", ["absent", "no-cgroup", "no-pids"])
def test_a_gap_in_the_window_starts_it_again(gap: str) -> None:
    middle = {
        "absent": sample(1),
        "no-cgroup": sample(1, container(None, state="running")),
        "no-pids": sample(1, replace(throttled_at(1, 1).containers[0], pids=())),
    }[gap]
    samples = [throttled_at(0, 0), middle, throttled_at(2, 2), throttled_at(5, 3)]
    (f,) = diagnose(samples)[CID]
    assert (f.evidence["window_s"], f.evidence["periods"]) == (3.0, 100)


def test_a_container_never_usable_gets_no_rates() -> None:
    odd = replace(container(None), pids=(7,))  # pids listed, but no cgroup read
    assert diagnose([sample(0, odd), sample(10, odd)])[CID] == []
    assert diagnose([sample(0, container(None)), sample(10, container(None))])[CID] == []


# -- pids -------------------------------------------------------------------------------


def pids(current: int, limit: int | None, refused: int) -> CgroupStats:
    return stats(pids=current, pids_max=limit, pids_events={"max": refused})


def test_pids_near_the_limit_boundary() -> None:
    assert pair(pids(899, 1000, 3), pids(899, 1000, 3)) == []  # 89.9 %
    assert pair(pids(900, 1000, 3), pids(900, 1000, 3)) == [
        Finding(
            "pids-limit",
            "warning",
            "pids 900 of its limit 1000: near the limit",
            {"pids_max": 1000, "refused": 0, "pids_current": 900},
        )
    ]


def test_pids_refused_forks_counted_over_the_window() -> None:
    assert pair(pids(10, 64, 5), pids(10, 64, 6)) == [
        Finding(
            "pids-limit",
            "critical",
            "pids limit 64 reached: 1 forks refused in 10 s; needs a higher --pids-limit",
            {"pids_max": 64, "refused": 1, "pids_current": 10},
        )
    ]
    (f,) = pair(pids(10, 64, 5), pids(10, 64, 8))
    assert f.evidence["refused"] == 3


def test_pids_refused_from_events_when_there_is_no_window() -> None:
    # The container ran (pids.max 64) and has no cgroup now: kernel pids-max events count.
    samples = [sample(0, container(pids(64, 64, 0))), sample(10, container(None))]
    events = [ev(2, "pids-max", "kernel", refused=3), ev(3, "pids-max", "kernel"), ev(4, "die")]
    events.append(ev(5, "pids-max", "kernel", refused=1))
    assert diagnose(samples, events)[CID] == [
        Finding(
            "pids-limit",
            "critical",
            "pids limit 64 reached: 4 forks refused in 2 min; needs a higher --pids-limit",
            {"pids_max": 64, "refused": 4, "pids_current": None},
        )
    ]
    (f,) = diagnose(samples, [ev(2, "pids-max", "kernel", refused=1)])[CID]
    assert f.evidence["refused"] == 1
    assert diagnose(samples, [ev(2, "pids-max", "kernel")])[CID] == []
    # and with no limit known at all
    bare = [sample(0, container(None)), sample(10, container(None))]
    (f,) = diagnose(bare, [ev(2, "pids-max", "kernel", refused=2)])[CID]
    assert (
        f.sentence == "pids limit ? reached: 2 forks refused in 2 min; needs a higher --pids-limit"
    )


# -- OOM kills --------------------------------------------------------------------------


def test_oom_kills_kernel_and_engine_take_the_larger() -> None:
    a = stats(memory_max=64 * MiB, peak=30 * MiB)
    gone = replace(stats(memory_max=64 * MiB, peak=90 * MiB), gone=True)  # not a reading
    b = stats(memory_max=64 * MiB, peak=40 * MiB)
    samples = [sample(0, container(a)), sample(5, container(gone)), sample(10, container(b))]
    events = [
        ev(1, "oom-kill", "kernel", kills=3),
        ev(2, "oom-kill", "kernel"),  # one kill when the count is not known
        ev(3, "oom-kill"),
        ev(4, "oom-kill"),
    ]
    assert diagnose(samples, events)[CID] == [
        Finding(
            "oom-killed",
            "critical",
            "OOM-killed 4× in 2 min at its 64 MiB limit (peak seen 40 MiB); "
            "needs a higher memory limit or less memory",
            {
                "oom_kills": 4,
                "oom_kills_total": None,
                "memory_max_bytes": 64 * MiB,
                "memory_peak_bytes": 40 * MiB,
                "window_s": LOOKBACK,
            },
        )
    ]
    # The engine's count when it is the larger.
    (f,) = diagnose(samples, [ev(1, "oom-kill", "kernel"), ev(2, "oom-kill"), ev(3, "oom-kill")])[
        CID
    ]
    assert f.evidence["oom_kills"] == 2
    # One kill is enough for critical.
    (f,) = diagnose(samples, [ev(1, "oom-kill")])[CID]
    assert (f.severity, f.evidence["oom_kills"]) == ("critical", 1)
    assert f.sentence.startswith("OOM-killed 1× in 2 min")


def test_oom_killed_in_its_last_run() -> None:
    life = Lifecycle(
        oom_killed=True, oom_kills=2, memory_peak_bytes=20 * MiB, memory_max_bytes=24 * MiB
    )
    exited = container(None, lifecycle=life)
    assert diagnose([sample(0, exited), sample(10, exited)])[CID] == [
        Finding(
            "oom-killed",
            "warning",
            "OOM-killed in its last run at its 24 MiB limit (peak seen 20 MiB); "
            "needs a higher memory limit or less memory",
            {
                "oom_kills": 2,
                "oom_kills_total": 2,
                "memory_max_bytes": 24 * MiB,
                "memory_peak_bytes": 20 * MiB,
                "window_s": LOOKBACK,
            },
        )
    ]
    unlimited = container(None, state="restarting", lifecycle=Lifecycle(oom_killed=True))
    assert diagnose([sample(0, unlimited), sample(10, unlimited)])[CID] == [
        Finding(
            "oom-killed",
            "warning",
            "OOM-killed in its last run with no memory limit; restarting",
            {
                "oom_kills": None,
                "oom_kills_total": None,
                "memory_max_bytes": None,
                "memory_peak_bytes": None,
                "window_s": LOOKBACK,
            },
        )
    ]


def test_no_oom_finding_without_a_kill_or_while_running_again() -> None:
    not_killed = container(None, lifecycle=Lifecycle(oom_killed=False, oom_kills=0))
    assert diagnose([sample(0, not_killed), sample(10, not_killed)])[CID] == []
    running = container(stats(), lifecycle=Lifecycle(oom_killed=True, oom_kills=1))
    assert diagnose([sample(0, running), sample(10, running)])[CID] == []


# -- crash loop and the look-back -------------------------------------------------------


def test_crash_loop_from_cgroup_recreations() -> None:
    samples = [sample(0, container(stats())), sample(10, container(stats(), state="restarting"))]
    events = [ev(t, "cgroup-recreated", "kernel") for t in (1, 2, 3)] + [ev(4, "die")]
    assert diagnose(samples, events)[CID] == [
        Finding(
            "crash-loop",
            "warning",
            "crash-looping: exit code unknown, 3 restarts in 2 min; restarting now",
            {
                "restart_count": None,
                "last_exit_code": None,
                "restarts_in_window": 3,
                "window_s": LOOKBACK,
            },
        )
    ]
    # Engine restarts, when there are any, are the count (not added to the re-creations).
    life = Lifecycle(restart_count=9, last_exit_code=3)
    samples[1] = sample(10, container(stats(), lifecycle=life))
    events += [ev(5, "restart"), ev(6, "restart")]
    assert diagnose(samples, events)[CID] == []
    events.append(ev(7, "restart"))
    assert diagnose(samples, events)[CID] == [
        Finding(
            "crash-loop",
            "warning",
            "crash-looping: exit code 3, 3 restarts in 2 min",
            {
                "restart_count": 9,
                "last_exit_code": 3,
                "restarts_in_window": 3,
                "window_s": LOOKBACK,
            },
        )
    ]


def test_crash_loop_critical_boundary() -> None:
    samples = [sample(0, container(stats())), sample(10, container(stats()))]
    four = [ev(t, "restart") for t in range(4)]
    assert [f.severity for f in diagnose(samples, four)[CID]] == ["warning"]
    assert [f.severity for f in diagnose(samples, [*four, ev(5, "restart")])[CID]] == ["critical"]


def test_lookback_bounds_are_inclusive() -> None:
    samples = [sample(0, container(stats())), sample(10, container(stats()))]
    end = 10.0  # the newest sample's time, relative to NOW
    counted = [ev(end - LOOKBACK, "restart"), ev(end, "restart"), ev(end + 1, "restart")]
    outside = [ev(end - LOOKBACK - 0.5, "restart"), ev(end + 1.5, "restart")]
    (f,) = diagnose(samples, counted + outside)[CID]
    assert f.sentence == "crash-looping: exit code unknown, 3 restarts in 2 min"
    # `now` given: the look-back ends there.
    assert diagnose(samples, counted, now=NOW + end + LOOKBACK + 10)[CID] == []


# -- memory.high and pressure -----------------------------------------------------------


def memory(high_events: int, some_us: int, io_us: int = 0) -> CgroupStats:
    return stats(
        memory_high=64 * MiB,
        events={"high": high_events},
        psi={"memory": (some_us, 0), "io": (io_us, 0)},
    )


def test_memory_high_whole_finding_and_io_pressure_still_told() -> None:
    # 1 reclaim, 2.5123 s of 10 stalled on memory (25.123 %), 1.5 s on IO (15 %).
    a, b = memory(10, 1_000_000, 3_000_000), memory(11, 3_512_300, 4_500_000)
    assert pair(a, b) == [
        Finding(
            "memory-high",
            "warning",
            "memory.high: reclaimed 1 times in 10 s, memory pressure 25 %; "
            "its memory.high is 64 MiB",
            {
                "high_events": 1,
                "memory_high_bytes": 64 * MiB,
                "memory_pressure_percent": 25.1,
                "window_s": 10.0,
            },
        ),
        Finding(
            "io-pressure",
            "warning",
            "IO pressure 15 % over 10 s",
            {"some_percent": 15.0, "full_percent": 0.0, "window_s": 10.0},
        ),
    ]


def test_memory_high_boundaries_and_no_pressure_reading() -> None:
    def one(n: int) -> list[Finding]:
        a = stats(memory_high=MiB, events={"high": 7})
        return pair(a, stats(memory_high=MiB, events={"high": 7 + n}))

    assert one(0) == []
    assert one(99) == [
        Finding(
            "memory-high",
            "warning",
            "memory.high: reclaimed 99 times in 10 s; its memory.high is 1.0 MiB",
            {
                "high_events": 99,
                "memory_high_bytes": MiB,
                "memory_pressure_percent": None,
                "window_s": 10.0,
            },
        )
    ]
    assert [f.severity for f in one(100)] == ["critical"]
    assert [f.severity for f in one(101)] == ["critical"]


@pytest.mark.parametrize(
    ("resource", "kind", "label"),
    [
        ("memory", "memory-pressure", "memory"),
        ("io", "io-pressure", "IO"),
        ("cpu", "cpu-pressure", "CPU"),
    ],
)
def test_pressure_whole_finding(resource: str, kind: str, label: str) -> None:
    # some 2.01234 s and full 0.54321 s stalled over 10 s, counted from non-zero totals.
    a = with_psi(stats(), **{resource: Psi(line(7_000_000), line(2_000_000))})
    b = with_psi(stats(), **{resource: Psi(line(9_012_340), line(2_543_210))})
    assert pair(a, b) == [
        Finding(
            kind,
            "warning",
            f"{label} pressure 20 % (all stalled 5 %) over 10 s",
            {"some_percent": 20.1, "full_percent": 5.4, "window_s": 10.0},
        )
    ]


def test_pressure_boundaries() -> None:
    def severity(some_us: int) -> list[str]:
        a = with_psi(stats(), io=Psi(line(1_000_000), None))
        b = with_psi(stats(), io=Psi(line(1_000_000 + some_us), None))
        return [f.severity for f in pair(a, b)]

    assert severity(999_999) == []  # 9.99999 %
    assert severity(1_000_000) == ["warning"]
    assert severity(3_999_999) == ["warning"]
    assert severity(4_000_000) == ["critical"]


def test_pressure_with_lines_or_resources_missing() -> None:
    b = with_psi(stats(), cpu=Psi(line(5_000_000), line(1_000_000)))
    # no reading of the resource in the first sample
    assert pair(stats(), b) == []
    # no "some" line in the first sample
    assert pair(with_psi(stats(), cpu=Psi(None, line(0))), b) == []
    # no "full" line in the first: "some" alone
    (f,) = pair(with_psi(stats(), cpu=Psi(line(0), None)), b)
    assert f.sentence == "CPU pressure 50 % over 10 s"
    assert f.evidence == {"some_percent": 50.0, "full_percent": None, "window_s": 10.0}
    # full did not move: told as 0, not shown in the sentence
    (f,) = pair(with_psi(stats(), cpu=Psi(line(0), line(1_000_000))), b)
    assert f.sentence == "CPU pressure 50 % over 10 s" and f.evidence["full_percent"] == 0.0


def test_unchanged_pressure_over_a_microsecond_is_none() -> None:
    a = with_psi(stats(), memory=Psi(line(5), line(5)))
    assert pair(a, a, seconds=1e-6) == []


# -- summary and the live Diagnoser -----------------------------------------------------


def test_summary_counts_the_others() -> None:
    f = [Finding("crash-loop", "warning", f"s{i}", {}) for i in range(3)]
    assert summary([]) == ""
    assert summary(f[:1]) == "s0"
    assert summary(f[:2]) == "s0 (+1)"
    assert summary(f) == "s0 (+2)"


def steady(t: float) -> RawSample:
    """Every second: 0.1 s used, 5 of 10 periods throttled."""
    return sample(t, container(cpu(0.1 * t, 10 * round(t), 5 * round(t), 0.0, 100_000)))


def test_diagnoser_keeps_ten_seconds_by_default() -> None:
    d = Diagnoser()
    for t in range(13):
        found = d.observe(steady(t))
    (f,) = found[CID]
    assert (f.evidence["window_s"], f.evidence["periods"]) == (10.0, 100)


def test_diagnoser_window_trims_to_two_samples_at_least() -> None:
    samples = [steady(t) for t in (0, 10, 20)]
    d = Diagnoser(window_s=5)
    for s in samples:
        found = d.observe(s)
    (f,) = found[CID]
    assert (f.evidence["window_s"], f.evidence["periods"]) == (10.0, 100)
    assert d.observe(samples[-1]) == found  # the same sample again: nothing new
    d = Diagnoser(window_s=30)
    for s in samples:
        found = d.observe(s)
    (f,) = found[CID]
    assert f.evidence["window_s"] == 20.0
    assert d.observe(samples[-1]) == found


def test_diagnoser_starts_again_when_time_does_not_advance() -> None:
    d = Diagnoser()
    first = steady(0)
    d.observe(first)
    # Another sample with the same wall time (a replay stepped onto it again): start over.
    again = replace(steady(10), time=first.time)
    assert d.observe(again)[CID] == []


def test_diagnoser_counts_the_timeline_with_its_thresholds() -> None:
    from tests.diagfixtures import engine

    t = Thresholds(crash_loop_restarts=2)
    d = Diagnoser(t=t)
    restarts = tuple(
        e for i in range(2) for e in (engine(i, "die", exitCode="1"), engine(i + 0.5, "start"))
    )
    life = Lifecycle(restart_count=2, last_exit_code=1)
    d.observe(sample(0, container(stats(), lifecycle=life)))
    found = d.observe(sample(5, container(stats(), lifecycle=life), events=restarts))
    assert found[CID] == [
        Finding(
            "crash-loop",
            "warning",
            "crash-looping: exit code 1, 2 restarts in 2 min",
            {
                "restart_count": 2,
                "last_exit_code": 1,
                "restarts_in_window": 2,
                "window_s": LOOKBACK,
            },
        )
    ]
    other = "d" * 64
    both = {CID: found[CID], other: []}
    shown = d.diagnosis(both)
    assert shown.findings == {CID: tuple(found[CID])}
    kinds = [e.kind for e in shown.events]
    assert kinds == ["restart", "die", "restart", "die"]  # newest first
    assert all(isinstance(e, Event) for e in shown.events)


def test_evidence_window_is_rounded_to_milliseconds() -> None:
    # 10.5004 s between the samples: every rate finding reports 10.5.
    def one(t: float, k: int) -> RawSample:
        cg = cpu(1.0 + k, 100 + 100 * k, 60 * k, 0.0, 100_000)
        cg = replace(cg, memory=replace(cg.memory, events={"high": 2 * k}))
        cg = with_psi(cg, io=Psi(line(2_000_000 * k), None))
        return sample(t, container(cg))

    found = diagnose([one(0, 0), one(10.5004, 1)])[CID]
    assert [(f.kind, f.evidence["window_s"]) for f in found] == [
        ("cpu-throttled", 10.5),
        ("memory-high", 10.5),
        ("io-pressure", 10.5),
    ]


def test_needed_cores_at_a_step_boundary() -> None:
    # 0.1 core used, nothing waited: exactly two steps of 0.05, not three.
    (f,) = pair(cpu(1.0, 100, 10, 1.0, 5_000), cpu(2.0, 200, 110, 1.0, 5_000))
    assert f.evidence["needed_cores"] == 0.1
    # 1 ns more than 1 core-second in 10 s (0.1000000001 core), used or waited: the next step.
    used = stats(usage_ns=1_000_000_001, periods=10, throttled=10, throttled_ns=0, quota_us=5_000)
    start = stats(usage_ns=0, periods=0, throttled=0, throttled_ns=0, quota_us=5_000)
    (f,) = pair(start, used)
    assert f.evidence["needed_cores"] == 0.15
    waited = stats(usage_ns=0, periods=10, throttled=10, throttled_ns=1_000_000_001, quota_us=5_000)
    (f,) = pair(start, waited)
    assert f.evidence["needed_cores"] == 0.15


def test_full_stall_share_in_the_sentence_rounds_half_to_even() -> None:
    # full: 0.15 s of 10 s = 1.5 % → "2 %" (Python's round-half-to-even of an exact 1.5).
    a = with_psi(stats(), io=Psi(line(0), line(0)))
    b = with_psi(stats(), io=Psi(line(2_000_000), line(150_000)))
    (f,) = pair(a, b)
    assert f.sentence == "IO pressure 20 % (all stalled 2 %) over 10 s"
    assert f.evidence["full_percent"] == 1.5


def test_diagnosis_shows_at_most_a_thousand_events() -> None:
    from tests.diagfixtures import engine

    d = Diagnoser()
    dies = tuple(engine(i / 1000, "die", exitCode="1") for i in range(1001))
    d.feed(sample(2, container(stats()), events=dies))
    shown = d.diagnosis({})
    assert len(d.log.events) == 1001 and len(shown.events) == 1000
    assert shown.events[0].time == dies[-1].time  # newest first
