"""One sentence per container naming its bottleneck, with the evidence and what would fix it.

`diagnose(samples, events)` is a pure function over the raw samples of a window (oldest
first) and the timeline's events: rates come from the first and the last sample of the
container's current cgroup in the window; counted things (OOM kills, restarts) from the events
of the last `lookback_s` seconds and the containers' lifecycle. Thresholds: ctop_py.thresholds.
Healthy containers get no finding.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctop_py.events import Event, EventLog, recreated
from ctop_py.model import ContainerRaw, Limits, Psi, RawSample
from ctop_py.thresholds import THRESHOLDS, Thresholds

KINDS = (
    "oom-killed",
    "crash-loop",
    "pids-limit",
    "cpu-throttled",
    "memory-high",
    "memory-pressure",
    "io-pressure",
    "cpu-pressure",
)
SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    severity: str  # one of SEVERITIES
    sentence: str
    evidence: Mapping[str, Any]


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 10 else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _span(seconds: float) -> str:
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _cores(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value < 10 else f"{value:.0f}"


def _usable(c: ContainerRaw | None) -> bool:
    return c is not None and c.cgroup is not None and not c.cgroup.gone and bool(c.pids)


def _window_pair(
    samples: Sequence[RawSample], cid: str, index: Sequence[Mapping[str, ContainerRaw]]
) -> tuple[int, int] | None:
    """The indices of the first and last sample of the container's current cgroup within
    the window."""
    last_index = None
    for i in range(len(samples) - 1, -1, -1):
        if _usable(index[i].get(cid)):
            last_index = i
            break
    if last_index is None:
        return None
    first_index, first = last_index, index[last_index][cid]
    for i in range(last_index - 1, -1, -1):
        c = index[i].get(cid)
        if c is first:  # the same record (a still container): usable, not recreated
            first_index = i
            continue
        if c is None or not _usable(c) or recreated(c, first):
            break
        first_index, first = i, c
    if first_index == last_index:
        return None
    return first_index, last_index


def _d(after: int | None, before: int | None) -> int | None:
    return None if after is None or before is None else max(0, after - before)


def _limits_in(index: Sequence[Mapping[str, ContainerRaw]], cid: str) -> Limits:
    """The latest limits known for the container in the window (it may have no cgroup now)."""
    for by_id in reversed(index):
        c = by_id.get(cid)
        if c is not None and c.cgroup is not None and not c.cgroup.gone:
            return c.cgroup.limits
    return Limits()


def _memory_limit_in(index: Sequence[Mapping[str, ContainerRaw]], cid: str) -> int | None:
    """The newest memory limit read for the container in the window: a crash-looping one's
    cgroup is new at each start, and a read before its runtime wrote the limit finds none;
    the kills were at the limit it ran with."""
    for by_id in reversed(index):
        c = by_id.get(cid)
        if c is not None and c.cgroup is not None and not c.cgroup.gone:
            limit = c.cgroup.limits.memory_max_bytes
            if limit is not None:
                return limit
    return None


def _psi_points(
    samples: Sequence[RawSample],
    index: Sequence[Mapping[str, ContainerRaw]],
    cid: str,
    i0: int,
    i1: int,
) -> list[tuple[int, float, Mapping[str, Psi]]]:
    """The container's PSI readings known within samples i0..i1, oldest first, as (monotonic
    ns, wall time, PSI). A record read its PSI in its own sample (`psi_read_ns` None: a
    container open, the CLI, recordings made before readings were carried) or carries a
    reading made at `psi_read_ns`: each reading counts once, at the time it was read, and
    one read before the window does not count (a stall over a longer span than the window
    would be diluted). A new carried reading also says when the one before it was last read
    (`psi_since_ns`, its values unchanged since it was made): a point of the window too."""
    start = samples[i0].monotonic_ns
    points: list[tuple[int, float, Mapping[str, Psi]]] = []
    last: tuple[int, Mapping[str, Psi]] | None = None  # the reading before, as (read_ns, PSI)
    for i in range(i0, i1 + 1):
        seen = index[i].get(cid)
        if seen is None or seen.cgroup is None or not seen.cgroup.psi:
            continue
        cg, sample = seen.cgroup, samples[i]

        def wall(ns: int, sample: RawSample = sample) -> float:
            return sample.time + (ns - sample.monotonic_ns) / 1e9

        if cg.psi_read_ns is None:  # read in this sample
            points.append((sample.monotonic_ns, sample.time, cg.psi))
            last = (sample.monotonic_ns, cg.psi)
            continue
        if last is not None and cg.psi_read_ns <= last[0]:
            continue  # the same reading carried (or one an open container's reads passed)
        since = cg.psi_since_ns
        if last is not None and since is not None and last[0] <= since and since >= start:
            points.append((since, wall(since), last[1]))
        if cg.psi_read_ns >= start:
            points.append((cg.psi_read_ns, wall(cg.psi_read_ns), cg.psi))
        last = (cg.psi_read_ns, cg.psi)
    return points


def _carried_through(
    index: Sequence[Mapping[str, ContainerRaw]], cid: str, i0: int, i1: int
) -> Mapping[str, Psi] | None:
    """The reading the container's records carry at both ends of the window, if one: the
    values its PSI had when last read before the window, read again in it (a container not
    open reads PSI every `limits_s`, 5 s, within the app's 10 s window) and found the same."""
    a, b = index[i0][cid].cgroup, index[i1][cid].cgroup
    if a is None or b is None or a.psi_read_ns is None or a.psi_read_ns != b.psi_read_ns:
        return None
    return b.psi


# A still container's last findings: (its record, its events, the findings).
_Memo = dict[str, tuple[ContainerRaw, tuple[Event, ...], list[Finding]]]


def diagnose(
    samples: Sequence[RawSample],
    events: Sequence[Event] = (),
    t: Thresholds = THRESHOLDS,
    now: float | None = None,
) -> dict[str, list[Finding]]:
    """Findings per container id of the last sample, most severe first."""
    return _diagnose(samples, [{c.id: c for c in s.containers} for s in samples], events, t, now)


def _diagnose(
    samples: Sequence[RawSample],
    index: Sequence[Mapping[str, ContainerRaw]],
    events: Sequence[Event],
    t: Thresholds,
    now: float | None,
    memo: _Memo | None = None,
) -> dict[str, list[Finding]]:
    """diagnose() with the samples' index by id. `memo` (replaced in place by this call's)
    keeps the findings of the containers whose window holds one record throughout: the
    collector hands a still container's record back unchanged, and for one record the
    findings do not depend on the samples' times (see _still)."""
    if not samples:
        if memo is not None:
            memo.clear()
        return {}
    end = samples[-1]
    now = end.time if now is None else now
    by_container: dict[str, list[Event]] = {}
    for e in events:
        if now - t.lookback_s <= e.time <= now + 1:
            by_container.setdefault(e.container_id, []).append(e)
    order = {k: i for i, k in enumerate(KINDS)}
    result: dict[str, list[Finding]] = {}
    kept: _Memo = {}
    for c in end.containers:
        own = tuple(by_container.get(c.id, ()))
        still = memo is not None and all(by_id.get(c.id) is c for by_id in index)
        if still and memo is not None:
            known = memo.get(c.id)
            if known is not None and known[0] is c and known[1] == own:
                kept[c.id] = known
                result[c.id] = list(known[2])
                continue
        findings = _container(samples, index, c, own, t)
        findings.sort(key=lambda f: (SEVERITIES.index(f.severity), order[f.kind]))
        result[c.id] = findings
        if still and _still(samples, c, findings, t):
            kept[c.id] = (c, own, list(findings))
    if memo is not None:
        memo.clear()
        memo.update(kept)
    return result


def _still(
    samples: Sequence[RawSample], c: ContainerRaw, findings: Sequence[Finding], t: Thresholds
) -> bool:
    """Whether the findings of `c`, the record of every sample of the window, hold for any
    times of those samples, so may be kept. Counted things (OOM kills, restarts) come from
    the events, kept with them. Between one record and itself no counter moves and its PSI
    stalled nothing: no window finding fires with positive thresholds, and a window finding
    that fires (a pids limit, say) tells the window's span, so is not kept."""
    if len(samples) < 2:
        return False  # one sample: no window; the next one opens it
    s0, s1 = samples[0], samples[-1]
    if not ((s1.monotonic_ns - s0.monotonic_ns) / 1e9 or (s1.time - s0.time)) > 0:
        return False
    if min(t.throttled_warning_percent, t.pressure_warning_percent, t.memory_high_events) <= 0:
        return False
    return all(f.kind in ("oom-killed", "crash-loop") for f in findings)


def _container(
    samples: Sequence[RawSample],
    index: Sequence[Mapping[str, ContainerRaw]],
    c: ContainerRaw,
    events: Sequence[Event],
    t: Thresholds,
) -> list[Finding]:
    findings: list[Finding] = []
    life = c.lifecycle
    limits = _limits_in(index, c.id)
    lookback = _span(t.lookback_s)

    # -- OOM kills: the engine's and the kernel's count the same kills; take the larger.
    engine_kills = sum(1 for e in events if e.kind == "oom-kill" and e.source == "engine")
    kernel_kills = sum(
        int(e.numbers.get("kills") or 1)
        for e in events
        if e.kind == "oom-kill" and e.source == "kernel"
    )
    kills = max(engine_kills, kernel_kills)
    restarting = c.state == "restarting"
    if kills >= t.oom_critical_kills or (life and life.oom_killed and not c.pids):
        recent_kills = kills >= t.oom_critical_kills
        # The peaks the window's samples read (only this finding tells them: every container
        # of a busy host has its records looked at here otherwise, every diagnosis).
        peaks = [life.memory_peak_bytes] if life else []
        for by_id in index:
            seen = by_id.get(c.id)
            if seen is not None and seen.cgroup is not None and not seen.cgroup.gone:
                peaks.append(seen.cgroup.memory.peak_bytes)
        known_peaks = [p for p in peaks if p is not None]
        peak = max(known_peaks) if known_peaks else None
        limit = _memory_limit_in(index, c.id)
        if limit is None and life is not None:
            limit = life.memory_max_bytes  # no cgroup in the window: the engine's setting
        at = f"at its {_size(limit)} limit" if limit is not None else "with no memory limit"
        count = f"{kills}× in {lookback}" if recent_kills else "in its last run"
        sentence = f"OOM-killed {count} {at}"
        if peak is not None:
            sentence += f" (peak seen {_size(peak)})"
        if restarting:
            sentence += "; restarting"
        if limit is not None:
            sentence += "; needs a higher memory limit or less memory"
        findings.append(
            Finding(
                "oom-killed",
                "critical" if recent_kills else "warning",
                sentence,
                {
                    "oom_kills": kills if recent_kills else (life.oom_kills if life else None),
                    "oom_kills_total": life.oom_kills if life else None,
                    "memory_max_bytes": limit,
                    "memory_peak_bytes": peak,
                    "window_s": t.lookback_s,
                },
            )
        )

    # -- crash loop: restarts in the look-back (engine restart events, or cgroup
    # re-creations seen by the kernel when the engine is down).
    restarts = sum(1 for e in events if e.kind == "restart")
    if restarts == 0:
        restarts = sum(1 for e in events if e.kind == "cgroup-recreated")
    if restarts >= t.crash_loop_restarts:
        exit_code = life.last_exit_code if life else None
        code = f"exit code {exit_code}" if exit_code is not None else "exit code unknown"
        findings.append(
            Finding(
                "crash-loop",
                "critical" if restarts >= t.crash_loop_critical_restarts else "warning",
                f"crash-looping: {code}, {restarts} restarts in {lookback}"
                + ("; restarting now" if restarting else ""),
                {
                    "restart_count": life.restart_count if life else None,
                    "last_exit_code": exit_code,
                    "restarts_in_window": restarts,
                    "window_s": t.lookback_s,
                },
            )
        )

    pair = _window_pair(samples, c.id, index)
    refused_events = sum(int(e.numbers.get("refused") or 0) for e in events if e.kind == "pids-max")
    if pair is None:
        if refused_events >= t.pids_refused_critical:
            findings.append(_pids(limits, refused_events, None, t, lookback))
        return findings
    i0, i1 = pair
    s0, c0, s1, c1 = samples[i0], index[i0][c.id], samples[i1], index[i1][c.id]
    assert c0.cgroup is not None and c1.cgroup is not None
    seconds = (s1.monotonic_ns - s0.monotonic_ns) / 1e9 or (s1.time - s0.time)
    if seconds <= 0:
        return findings
    window = _span(round(seconds))
    g0, g1 = c0.cgroup, c1.cgroup

    # -- pids limit
    refused = _d(g1.pids_events.get("max"), g0.pids_events.get("max")) or 0
    refused = max(refused, refused_events)
    pids_max = g1.limits.pids_max
    near = (
        pids_max is not None
        and g1.pids_current is not None
        and g1.pids_current * 100 >= t.pids_near_limit_percent * pids_max
    )
    if refused >= t.pids_refused_critical or near:
        findings.append(_pids(g1.limits, refused, g1.pids_current, t, window))

    # -- CPU throttling
    periods = _d(g1.cpu.nr_periods, g0.cpu.nr_periods)
    throttled = _d(g1.cpu.nr_throttled, g0.cpu.nr_throttled)
    quota = g1.limits.cpu_quota_cores
    throttled_finding = False
    if periods and throttled is not None and quota is not None:
        percent = 100.0 * throttled / periods
        if percent >= t.throttled_warning_percent:
            used_ns = _d(g1.cpu.usage_ns, g0.cpu.usage_ns) or 0
            waited_ns = _d(g1.cpu.throttled_ns, g0.cpu.throttled_ns) or 0
            used = used_ns / seconds / 1e9
            needed = math.ceil((used + waited_ns / seconds / 1e9) / t.cores_step) * t.cores_step
            needed = round(max(needed, quota), 2)
            throttled_finding = True
            findings.append(
                Finding(
                    "cpu-throttled",
                    "critical" if percent >= t.throttled_critical_percent else "warning",
                    f"CPU quota: throttled in {percent:.0f} % of periods, uses "
                    f"{_cores(used)} of its {_cores(quota)} CPU, needs ~{_cores(needed)}",
                    {
                        "throttled_percent": round(percent, 1),
                        "quota_cores": quota,
                        "used_cores": round(used, 3),
                        "needed_cores": needed,
                        "periods": periods,
                        "throttled_periods": throttled,
                        "window_s": round(seconds, 3),
                    },
                )
            )

    # -- pressure (PSI "some" over the window): between the first and the last readings
    # of the window (a container not open reads PSI only every few seconds; see _psi_points).
    points: list[tuple[int, float, Mapping[str, Psi]]] | None = None

    def pressure(resource: str) -> tuple[float | None, float | None, float]:
        nonlocal points
        if points is None:
            points = _psi_points(samples, index, c.id, i0, i1)
        found = [(mono, wall, psi[resource]) for mono, wall, psi in points if resource in psi]
        if len(found) < 2:
            kept = _carried_through(index, c.id, i0, i1)
            if kept is None or resource not in kept:
                return None, None, seconds
            return 0.0, 0.0 if kept[resource].full else None, seconds  # nothing stalled
        (m0, w0, a), (m1, w1, b) = found[0], found[-1]
        span = (m1 - m0) / 1e9 or (w1 - w0)
        if span <= 0:
            return None, None, seconds
        some = full = None
        if a.some and b.some:
            some = 100.0 * max(0, b.some.total_us - a.some.total_us) / (span * 1e6)
        if a.full and b.full:
            full = 100.0 * max(0, b.full.total_us - a.full.total_us) / (span * 1e6)
        return some, full, span

    memory_some, _, _ = pressure("memory")

    # -- memory.high
    high = _d(g1.memory.events.get("high"), g0.memory.events.get("high"))
    memory_high_finding = False
    if high is not None and high >= t.memory_high_events:
        memory_high_finding = True
        press = f", memory pressure {memory_some:.0f} %" if memory_some is not None else ""
        findings.append(
            Finding(
                "memory-high",
                "critical" if high >= t.memory_high_critical_events else "warning",
                f"memory.high: reclaimed {high} times in {window}{press}; "
                f"its memory.high is {_size(g1.limits.memory_high_bytes)}",
                {
                    "high_events": high,
                    "memory_high_bytes": g1.limits.memory_high_bytes,
                    "memory_pressure_percent": None
                    if memory_some is None
                    else round(memory_some, 1),
                    "window_s": round(seconds, 3),
                },
            )
        )

    for resource, kind, label in (
        ("memory", "memory-pressure", "memory"),
        ("io", "io-pressure", "IO"),
        ("cpu", "cpu-pressure", "CPU"),
    ):
        if (kind == "memory-pressure" and memory_high_finding) or (
            kind == "cpu-pressure" and throttled_finding
        ):
            continue
        some, full, span = pressure(resource)
        if some is None or some < t.pressure_warning_percent:
            continue
        findings.append(
            Finding(
                kind,
                "critical" if some >= t.pressure_critical_percent else "warning",
                f"{label} pressure {some:.0f} %"
                + (f" (all stalled {full:.0f} %)" if full else "")
                + f" over {_span(round(span))}",
                {
                    "some_percent": round(some, 1),
                    "full_percent": None if full is None else round(full, 1),
                    "window_s": round(span, 3),
                },
            )
        )
    return findings


def _pids(limits: Limits, refused: int, current: int | None, t: Thresholds, span: str) -> Finding:
    limit = limits.pids_max
    if refused >= t.pids_refused_critical:
        sentence = f"pids limit {limit if limit is not None else '?'} reached: "
        sentence += f"{refused} forks refused in {span}; needs a higher --pids-limit"
    else:
        sentence = f"pids {current} of its limit {limit}: near the limit"
    return Finding(
        "pids-limit",
        "critical" if refused >= t.pids_refused_critical else "warning",
        sentence,
        {"pids_max": limit, "refused": refused, "pids_current": current},
    )


def summary(findings: Sequence[Finding]) -> str:
    """The one line of a container: its most severe finding (and how many more)."""
    if not findings:
        return ""
    more = f" (+{len(findings) - 1})" if len(findings) > 1 else ""
    return findings[0].sentence + more


# Events a Diagnosis carries for the screens (the log itself keeps events.LOG_BOUND).
EVENTS_SHOWN = 1000


@dataclass(frozen=True)
class Diagnosis:
    """What the app shows of the story: findings per container id (most severe first) and
    the newest events, newest first."""

    findings: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)
    events: tuple[Event, ...] = ()


class Diagnoser:
    """The live app's diagnosis: fed every sample in order, keeps the last `window_s` of
    samples and the event timeline, and diagnoses the newest sample."""

    def __init__(self, window_s: float = 10.0, t: Thresholds = THRESHOLDS) -> None:
        self.window_s = window_s
        self.thresholds = t
        self.log = EventLog(thresholds=t)
        self._samples: deque[RawSample] = deque()
        self._index: deque[dict[str, ContainerRaw]] = deque()  # the samples' records by id
        self._memo: _Memo = {}
        self._memo_thresholds = t  # the thresholds the memo's findings were found with
        # The last Diagnosis made, with the findings and the newest event it was made of.
        self._made: tuple[Mapping[str, list[Finding]], Event | None, int, Diagnosis] | None = None

    def observe(self, sample: RawSample) -> dict[str, list[Finding]]:
        self.feed(sample)
        return self.current()

    def feed(self, sample: RawSample) -> None:
        """Take a sample into the window and the timeline, without diagnosing."""
        if self._samples and sample.time <= self._samples[-1].time:
            if sample is self._samples[-1]:
                return
            self.reset()  # time went back (a replay stepped backwards)
        self.log.observe(sample)
        self._samples.append(sample)
        self._index.append({c.id: c for c in sample.containers})
        while len(self._samples) > 2 and sample.time - self._samples[0].time > self.window_s:
            self._samples.popleft()
            self._index.popleft()

    def current(self) -> dict[str, list[Finding]]:
        if not self._samples:
            return {}
        if self._memo_thresholds is not self.thresholds:
            self._memo.clear()
            self._memo_thresholds = self.thresholds
        since = self._samples[-1].time - self.thresholds.lookback_s
        return _diagnose(
            list(self._samples),
            list(self._index),
            self.log.recent(since=since),
            self.thresholds,
            None,
            self._memo,
        )

    def reset(self) -> None:
        self.log.reset()
        self._samples.clear()
        self._index.clear()
        self._memo.clear()
        self._made = None

    def diagnosis(self, findings: Mapping[str, list[Finding]]) -> Diagnosis:
        """The findings (not changed after this call) and the newest events. The live app
        asks for one every tick, mostly with the findings of a tick ago and no new event:
        then the Diagnosis made then is given back, the same object (not the log's newest
        EVENTS_SHOWN walked and copied again, and the screens see nothing new)."""
        events = self.log.events
        newest = events[-1] if events else None
        made = self._made
        if (
            made is not None
            and made[0] is findings
            and made[1] is newest
            and made[2] == len(events)
        ):
            return made[3]
        diagnosis = Diagnosis(
            {cid: tuple(found) for cid, found in findings.items() if found},
            tuple(self.log.recent(limit=EVENTS_SHOWN)),
        )
        self._made = (findings, newest, len(events), diagnosis)
        return diagnosis
