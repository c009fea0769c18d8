"""diagnose() on literal samples and events: each finding kind, its evidence, its thresholds."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctop_py.diagnose import KINDS, SEVERITIES, diagnose, summary
from ctop_py.events import EventLog
from ctop_py.model import Lifecycle
from ctop_py.thresholds import THRESHOLDS, describe
from tests.diagfixtures import CID, MiB, container, engine, sample, stats


def kinds(found: dict[str, list]) -> list[str]:  # type: ignore[type-arg]
    return [f.kind for f in found[CID]]


def throttled_pair(percent: float, seconds: float = 10.0) -> list:  # type: ignore[type-arg]
    periods = int(seconds * 10)  # 100 ms periods
    a = stats(usage_ns=0, periods=0, throttled=0, throttled_ns=0, quota_us=10_000)
    b = stats(
        usage_ns=int(0.1 * seconds * 1e9),
        periods=periods,
        throttled=round(periods * percent / 100),
        throttled_ns=int(0.9 * seconds * 1e9),
        quota_us=10_000,
    )
    return [sample(0, container(a)), sample(seconds, container(b))]


def test_cpu_throttled_evidence_and_needed_cores() -> None:
    (finding,) = diagnose(throttled_pair(98))[CID]
    assert finding.kind == "cpu-throttled" and finding.severity == "critical"
    ev = finding.evidence
    assert ev["throttled_percent"] == 98.0
    assert ev["quota_cores"] == pytest.approx(0.1)
    assert ev["used_cores"] == pytest.approx(0.1)
    assert ev["needed_cores"] == pytest.approx(1.0)  # used 0.1 + 0.9 s waited per second
    assert finding.sentence == (
        "CPU quota: throttled in 98 % of periods, uses 0.1 of its 0.1 CPU, needs ~1"
    )


def test_cpu_throttled_thresholds() -> None:
    warn, crit = THRESHOLDS.throttled_warning_percent, THRESHOLDS.throttled_critical_percent
    assert diagnose(throttled_pair(warn - 1))[CID] == []
    assert diagnose(throttled_pair(warn))[CID][0].severity == "warning"
    assert diagnose(throttled_pair(crit))[CID][0].severity == "critical"


def test_oom_crash_loop_while_restarting() -> None:
    limit = 24 * MiB
    events = []
    for i in range(6):
        t = 10 + i * 15
        events += [engine(t, "oom"), engine(t, "die", exitCode="137"), engine(t + 1, "start")]
    life = Lifecycle(
        restart_count=6, last_exit_code=137, oom_killed=True, oom_kills=6,
        memory_peak_bytes=limit,
    )  # fmt: skip
    samples = [
        sample(5, container(stats(memory_max=limit))),
        sample(
            5 + 6 * 15, container(None, state="restarting", lifecycle=life), events=tuple(events)
        ),
    ]
    log = EventLog()
    for s in samples:
        log.observe(s)
    found = diagnose(samples, list(log.events))[CID]
    assert [f.kind for f in found] == ["oom-killed", "crash-loop"]
    oom, loop = found
    assert oom.severity == "critical"
    assert oom.evidence["oom_kills"] == 6
    assert oom.evidence["memory_max_bytes"] == limit
    assert oom.evidence["memory_peak_bytes"] == limit
    assert oom.sentence.startswith("OOM-killed 6× in 2 min at its 24 MiB limit (peak seen 24 MiB)")
    assert "restarting" in oom.sentence
    assert loop.evidence["restart_count"] == 6
    assert loop.evidence["last_exit_code"] == 137
    assert loop.evidence["restarts_in_window"] == 6
    assert loop.severity == "critical"
    assert summary(found).startswith("OOM-killed") and summary(found).endswith("(+1)")


def test_oom_limit_is_the_one_it_ran_with_not_a_read_before_the_runtime_set_it() -> None:
    """A restart's new cgroup read before its runtime wrote the limit (memory.max "max"):
    the kills were at the limit read before."""
    limit = 24 * MiB
    events = []
    for i in range(3):
        t = 10 + i * 15
        events += [engine(t, "oom"), engine(t, "die", exitCode="137"), engine(t + 1, "start")]
    life = Lifecycle(restart_count=3, last_exit_code=137, oom_killed=True, oom_kills=3)
    samples = [
        sample(5, container(stats(memory_max=limit))),
        sample(50, container(stats(memory_max=None), lifecycle=life), events=tuple(events)),
    ]
    log = EventLog()
    for s in samples:
        log.observe(s)
    oom = diagnose(samples, list(log.events))[CID][0]
    assert oom.kind == "oom-killed" and oom.evidence["memory_max_bytes"] == limit
    assert "at its 24 MiB limit" in oom.sentence
    # With no limit read in the window at all: none (no engine setting in this lifecycle).
    oom = diagnose(samples[1:], list(log.events))[CID][0]
    assert oom.evidence["memory_max_bytes"] is None and "with no memory limit" in oom.sentence


def test_events_older_than_the_lookback_do_not_count() -> None:
    old = -THRESHOLDS.lookback_s - 10
    events = tuple(
        e
        for i in range(5)
        for e in (engine(old + i, "die", exitCode="1"), engine(old + i, "start"))
    )
    samples = [sample(0, container(stats())), sample(1, container(stats()), events=events)]
    log = EventLog()
    for s in samples:
        log.observe(s)
    assert diagnose(samples, list(log.events))[CID] == []


def test_crash_loop_thresholds_and_exit_code() -> None:
    def with_restarts(n: int) -> list:  # type: ignore[type-arg]
        events = tuple(
            e for i in range(n) for e in (engine(i, "die", exitCode="1"), engine(i + 0.5, "start"))
        )
        life = Lifecycle(restart_count=n, last_exit_code=1)
        s = [sample(0, container(stats())), sample(30, container(stats(), lifecycle=life))]
        s[1] = sample(30, container(stats(), lifecycle=life), events=events)
        log = EventLog()
        for x in s:
            log.observe(x)
        return diagnose(s, list(log.events))[CID]

    assert with_restarts(THRESHOLDS.crash_loop_restarts - 1) == []
    (f,) = with_restarts(THRESHOLDS.crash_loop_restarts)
    assert f.kind == "crash-loop" and f.severity == "warning"
    (f,) = with_restarts(5)
    assert f.severity == "critical"
    assert f.sentence == "crash-looping: exit code 1, 5 restarts in 2 min"


def test_pids_limit_refused_forks() -> None:
    a = stats(pids=8, pids_max=8, pids_events={"max": 0})
    b = stats(pids=8, pids_max=8, pids_events={"max": 12})
    (f,) = diagnose([sample(0, container(a)), sample(5, container(b))])[CID]
    assert f.kind == "pids-limit" and f.severity == "critical"
    assert f.evidence["pids_max"] == 8 and f.evidence["refused"] == 12
    assert f.sentence.startswith("pids limit 8 reached: 12 forks refused")


def test_pids_near_the_limit_is_a_warning() -> None:
    a = stats(pids=10, pids_max=10, pids_events={"max": 0})
    (f,) = diagnose([sample(0, container(a)), sample(5, container(a))])[CID]
    assert (f.kind, f.severity, f.evidence["refused"]) == ("pids-limit", "warning", 0)


def test_memory_high_with_pressure() -> None:
    high = 64 * MiB
    a = stats(memory_high=high, events={"high": 0}, psi={"memory": (0, 0)})
    b = stats(memory_high=high, events={"high": 340}, psi={"memory": (int(0.18 * 60e6), 0)})
    (f,) = diagnose([sample(0, container(a)), sample(60, container(b))])[CID]
    assert f.kind == "memory-high"
    assert f.evidence["high_events"] == 340
    assert f.evidence["memory_high_bytes"] == high
    assert f.evidence["memory_pressure_percent"] == 18.0
    assert f.sentence.startswith("memory.high: reclaimed 340 times in 60 s, memory pressure 18 %")


@pytest.mark.parametrize(
    ("resource", "kind"),
    [("io", "io-pressure"), ("memory", "memory-pressure"), ("cpu", "cpu-pressure")],
)
def test_pressure_kinds(resource: str, kind: str) -> None:
    t = THRESHOLDS
    seconds = 10.0

    def at(percent: float) -> list:  # type: ignore[type-arg]
        a = stats(psi={resource: (0, 0)})
        b = stats(psi={resource: (int(percent / 100 * seconds * 1e6), 0)})
        return diagnose([sample(0, container(a)), sample(seconds, container(b))])[CID]

    assert at(t.pressure_warning_percent - 1) == []
    (f,) = at(t.pressure_warning_percent)
    assert (f.kind, f.severity) == (kind, "warning")
    (f,) = at(40)
    assert f.severity == "critical" and f.evidence["some_percent"] == 40.0


def test_cpu_pressure_is_not_repeated_when_throttled() -> None:
    samples = throttled_pair(98)
    for i, s in enumerate(samples):  # add heavy CPU pressure to the throttled container
        c = s.containers[0]
        assert c.cgroup is not None
        psi = stats(psi={"cpu": (i * 9_000_000, 0)}).psi
        cg = type(c.cgroup)(**{**c.cgroup.__dict__, "psi": psi})
        samples[i] = sample(s.monotonic_ns / 1e9, container(cg))
    assert kinds(diagnose(samples)) == ["cpu-throttled"]


def test_healthy_has_none_and_one_sample_is_not_enough() -> None:
    a = stats(usage_ns=0, periods=0, throttled=0, quota_us=50_000, pids_max=100)
    b = stats(usage_ns=10**9, periods=100, throttled=0, quota_us=50_000, pids_max=100)
    assert diagnose([sample(0, container(a)), sample(10, container(b))])[CID] == []
    assert diagnose([sample(0, container(b))])[CID] == []


def test_kinds_severities_and_described_thresholds() -> None:
    assert set(KINDS) == {
        "cpu-throttled", "oom-killed", "crash-loop", "pids-limit", "memory-high",
        "memory-pressure", "io-pressure", "cpu-pressure",
    }  # fmt: skip
    assert SEVERITIES == ("critical", "warning", "info")
    text = "\n".join(describe())
    assert f"{THRESHOLDS.throttled_warning_percent:g} %" in text
    assert f"{THRESHOLDS.lookback_s:g} s" in text


def test_diagnoser_keeps_a_window_and_resets_when_time_goes_back() -> None:
    from ctop_py.diagnose import Diagnoser

    diagnoser = Diagnoser(window_s=5)
    pair = throttled_pair(98, seconds=2)
    for s in pair:
        found = diagnoser.observe(s)
    assert [f.kind for f in found[CID]] == ["cpu-throttled"]
    assert diagnoser.observe(pair[-1]) == found  # the same sample again: nothing new
    # Stepping back in a replay starts again: one sample is not enough for a rate.
    assert diagnoser.observe(pair[0])[CID] == []
    later = [sample(t, container(stats())) for t in range(3, 30)]
    for s in later:
        diagnoser.observe(s)
    assert len(diagnoser._samples) <= 7


def test_pressure_of_a_row_not_open_from_its_psi_readings() -> None:
    """A container not open reads PSI with its limits, every 5 s (cgroupfs.BRIEF_SET): the
    pressure is taken between the first and the last samples of the window that read it, and
    the finding says over which span; one reading is no rate."""
    busy_us = int(0.3 * 5 * 1e6)  # 30 % of the 5 s between the readings at 2 s and 7 s
    readings = {2: (0, 0), 7: (busy_us, 0)}
    samples = [
        sample(
            t, container(stats(usage_ns=t, psi={"memory": readings[t]} if t in readings else {}))
        )
        for t in range(11)
    ]
    (f,) = diagnose(samples)[CID]
    t = THRESHOLDS
    assert t.pressure_warning_percent <= 30 < t.pressure_critical_percent
    assert (f.kind, f.severity) == ("memory-pressure", "warning")
    assert f.evidence["some_percent"] == 30.0 and f.evidence["window_s"] == 5.0
    assert f.sentence == "memory pressure 30 % over 5 s"
    # One reading in the window: no pressure known, no finding.
    assert diagnose(samples[:7])[CID] == []


@pytest.mark.parametrize(
    ("state", "shown"),
    [("running", True), ("restarting", True), ("exited", False), ("created", False), ("", False)],
)
def test_the_default_view_keeps_a_container_the_kernel_just_emptied(
    state: str, shown: bool
) -> None:
    """No processes (the kernel killed them; the engine has not said so yet): a container the
    engine still calls running, or restarting, keeps its row; one it calls stopped does not."""
    emptied = replace(container(None), state=state)
    assert emptied.pids == ()
    assert emptied.active is shown
