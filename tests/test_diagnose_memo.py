"""Diagnoser's memo of still containers: a container whose window holds one record
throughout keeps its findings, and they are the findings diagnose() finds afresh."""

from __future__ import annotations

from collections import deque

from ctop_py.diagnose import Diagnoser, Finding, diagnose
from ctop_py.model import ContainerRaw, RawSample
from tests.diagfixtures import CID, container, engine, replace, sample, stats


def fed(d: Diagnoser, window: deque[RawSample], s: RawSample) -> list[Finding]:
    """Feed `s`; the Diagnoser's findings for CID, checked against diagnose() on the same
    window and timeline, worked out afresh."""
    d.feed(s)
    window.append(s)
    while len(window) > 2 and s.time - window[0].time > d.window_s:
        window.popleft()
    found = d.current()
    since = s.time - d.thresholds.lookback_s
    assert found == diagnose(list(window), d.log.recent(since=since), d.thresholds)
    return found[CID]


def still_for_a_while(still: ContainerRaw) -> tuple[Diagnoser, deque[RawSample]]:
    d, window = Diagnoser(window_s=4), deque[RawSample]()
    for t in range(6):
        assert fed(d, window, sample(t, still)) == []
    assert CID in d._memo  # the shortcut is taken: one record the whole window
    return d, window


def test_a_kept_result_goes_when_the_record_changes() -> None:
    quiet = stats(usage_ns=10**9, periods=100, throttled=0, throttled_ns=0, quota_us=50_000)
    busy = stats(usage_ns=2 * 10**9, periods=110, throttled=9, throttled_ns=10**8, quota_us=50_000)
    still = container(quiet)
    d, window = still_for_a_while(still)
    (f,) = fed(d, window, sample(6, container(busy)))
    assert (f.kind, f.severity) == ("cpu-throttled", "critical")
    assert f.sentence.startswith("CPU quota: throttled in 90 % of periods")
    assert CID not in d._memo  # two records in the window now
    # Back to the first record: its counters went back (a new cgroup), no window yet.
    assert fed(d, window, sample(7, still)) == []


def test_a_window_finding_tells_the_span_as_time_passes() -> None:
    """A fork refused once, then nothing changes: the finding (from the timeline) tells the
    window it is seen over, which slides and stretches with the samples' times."""
    before = container(stats(pids=2, pids_max=8, pids_events={"max": 0}))
    after = container(stats(pids=2, pids_max=8, pids_events={"max": 12}))
    d, window = Diagnoser(window_s=4), deque[RawSample]()
    sentences = []
    for t, c in ((0, before), (1, after), (2, after), (3, after), (5, after), (8, after),
                 (12, after), (13, after)):  # fmt: skip
        found = fed(d, window, sample(t, c))
        sentences.append(found[0].sentence if found else None)
    refused = "pids limit 8 reached: 12 forks refused in "
    fix = " s; needs a higher --pids-limit"
    assert sentences == [None] + [f"{refused}{s}{fix}" for s in (1, 2, 3, 4, 3, 4, 1)]
    assert CID not in d._memo  # a finding that tells the window's span is not kept


def test_a_record_kept_with_its_events() -> None:
    """The findings of a still record follow the timeline: an OOM kill told by the engine
    shows, and goes when it leaves the look-back."""
    c = container(stats(memory_max=64 << 20))
    d, window = Diagnoser(window_s=4), deque[RawSample]()
    for t in range(4):
        fed(d, window, sample(t, c))
    found = fed(d, window, sample(4, c, events=(engine(4, "oom"),)))
    assert [f.kind for f in found] == ["oom-killed"]
    assert fed(d, window, sample(5, c)) == found  # kept: the same record and events
    late = 6 + d.thresholds.lookback_s
    assert fed(d, window, sample(late, c)) == []


def test_a_record_new_in_the_window_is_not_kept() -> None:
    """The window's first and last records differ: quiet over the whole window, the findings
    change when the first record leaves it (the newest record the same), so they cannot be
    kept because the newest sample's record is the same as before."""
    start = container(stats(usage_ns=0, periods=0, throttled=0, throttled_ns=0, quota_us=50_000))
    idle = container(
        stats(usage_ns=10**9, periods=100, throttled=0, throttled_ns=0, quota_us=50_000)
    )
    busy = container(
        stats(usage_ns=2 * 10**9, periods=110, throttled=9, throttled_ns=10**8, quota_us=50_000)
    )
    d, window = Diagnoser(window_s=4), deque[RawSample]()
    assert fed(d, window, sample(0, start)) == []
    assert fed(d, window, sample(3, idle)) == []
    assert fed(d, window, sample(4, busy)) == []  # 9 of 110 periods: under the threshold
    (f,) = fed(d, window, sample(5, busy))  # `start` left: 9 of 10 periods
    assert (f.kind, f.severity) == ("cpu-throttled", "critical")


def test_kept_findings_go_with_the_thresholds_they_were_found_with() -> None:
    """Three restarts make a crash-loop warning, kept while nothing moves; new thresholds
    (critical from three restarts) make it critical at once."""
    c = container(stats(memory_max=64 << 20))
    d, window = Diagnoser(window_s=4), deque[RawSample]()
    restarts = tuple(engine(1, "restart") for _ in range(3))
    for t in range(4):
        fed(d, window, sample(t, c, events=restarts if t == 1 else ()))
    (f,) = fed(d, window, sample(4, c))
    assert (f.kind, f.severity) == ("crash-loop", "warning")
    assert CID in d._memo
    d.thresholds = replace(d.thresholds, crash_loop_critical_restarts=3)
    (f,) = fed(d, window, sample(5, c))
    assert (f.kind, f.severity) == ("crash-loop", "critical")


def test_the_diagnosis_of_the_same_findings_and_timeline_is_the_same_object() -> None:
    """As the live app asks (findings worked out again every other tick): a Diagnosis equal to
    one made afresh from the findings and the log's newest events; the same object as the
    tick before while neither changed, a new one once an event came."""
    from ctop_py import demo
    from ctop_py.diagnose import EVENTS_SHOWN, Diagnosis

    d = Diagnoser()
    findings = d.current()
    before: Diagnosis | None = None
    kept = renewed_by_events = 0
    for i, s in enumerate(demo.raw_samples(60)):
        newest = d.log.events[-1] if d.log.events else None
        d.feed(s)
        came = (d.log.events[-1] if d.log.events else None) is not newest
        worked_out = i % 2 == 0
        if worked_out:
            findings = d.current()
        made = d.diagnosis(findings)
        afresh = Diagnosis(
            {cid: tuple(f) for cid, f in findings.items() if f},
            tuple(d.log.recent(limit=EVENTS_SHOWN)),
        )
        assert made == afresh
        if before is not None and not came and not worked_out:
            assert made is before
            kept += 1
        elif came:
            assert made is not before
            renewed_by_events += int(not worked_out)
        before = made
    assert kept >= 10 and renewed_by_events >= 1, (kept, renewed_by_events)
