"""One event timeline per host: the engines' events merged with what the kernel counters show
between two samples.

Engine events (RawSample.engine_events) become: oom-kill, die (exit code), start, restart (a
start after a die), stop, kill, create, destroy, pause, unpause, … Kernel events, from two
consecutive RawSamples of the same container: oom-kill (memory.oom_control / memory.events
oom_kill, counted across cgroup re-creations by ctop_py.lifecycle), memory-high and
memory-max (memory.events high / max; v1's max is memory.failcnt), pids-max (pids.events
max: forks refused), throttle-start / throttle-end (a burst: see thresholds.burst_percent),
cgroup-created, cgroup-recreated, cgroup-removed. Kernel events need no engine: with the
engine down they still come.

Pure functions over samples, plus `EventLog`, a bounded, newest-first store fed one sample at
a time (live, or a recording replayed: the engine events are recorded in the samples).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctop_py.model import ContainerRaw, EngineEvent, RawSample
from ctop_py.thresholds import THRESHOLDS, Thresholds

# Events kept by an EventLog (about 300 bytes each: ~3 MB at most).
LOG_BOUND = 10_000

# Engine actions worth a line (exec_*, attach, resize, top, … are not).
ENGINE_ACTIONS = frozenset(
    {
        "oom", "die", "start", "restart", "stop", "kill", "create", "destroy", "pause",
        "unpause", "rename", "update", "health_status",
    }
)  # fmt: skip

Number = int | float | str | None


@dataclass(frozen=True)
class Event:
    time: float  # seconds since the epoch (kernel events: the sample that saw the change)
    source: str  # "engine" or "kernel"
    kind: str
    container_id: str
    container: str  # its name
    numbers: Mapping[str, Number] = field(default_factory=dict)


def from_engine(event: EngineEvent, died: set[str], names: Mapping[str, str]) -> Event | None:
    """An engine event as a timeline event; `died` (ids whose last event was a die) is
    updated so that the next start is told as a restart."""
    action = event.action
    if action not in ENGINE_ACTIONS:
        return None
    attrs = event.attributes
    name = attrs.get("name") or names.get(event.container_id) or event.container_id[:12]
    numbers: dict[str, Number] = {}
    kind = action
    if action == "oom":
        kind = "oom-kill"
    elif action == "die":
        code = attrs.get("exitCode", "")
        numbers["exit_code"] = int(code) if code.lstrip("-").isdigit() else None
        died.add(event.container_id)
    elif action == "start":
        if event.container_id in died:
            kind = "restart"
        died.discard(event.container_id)
    elif action == "kill":
        numbers["signal"] = attrs.get("signal")
    elif action == "health_status":
        numbers["status"] = attrs.get("health_status")
    elif action == "destroy":
        died.discard(event.container_id)
    return Event(event.time, "engine", kind, event.container_id, name, numbers)


def _has_cgroup(c: ContainerRaw | None) -> bool:
    return c is not None and c.cgroup is not None and not c.cgroup.gone and bool(c.pids)


def _delta(after: Mapping[str, int], before: Mapping[str, int], key: str) -> int:
    a, b = after.get(key), before.get(key)
    return a - b if a is not None and b is not None and a > b else 0


def _throttled_percent(prev: ContainerRaw, cur: ContainerRaw) -> float | None:
    assert prev.cgroup is not None and cur.cgroup is not None
    p, c = prev.cgroup.cpu, cur.cgroup.cpu
    if None in (p.nr_periods, c.nr_periods, p.nr_throttled, c.nr_throttled):
        return None
    periods = c.nr_periods - p.nr_periods  # type: ignore[operator]
    if periods <= 0:
        return None
    return 100.0 * (c.nr_throttled - p.nr_throttled) / periods  # type: ignore[operator]


def recreated(prev: ContainerRaw, cur: ContainerRaw) -> bool:
    """The same container id, but a new cgroup (a restart between the samples)."""
    if prev.init_pid is not None and cur.init_pid is not None and prev.init_pid != cur.init_pid:
        return True
    if cur.lifecycle and prev.lifecycle and cur.lifecycle.recreations > prev.lifecycle.recreations:
        return True
    assert prev.cgroup is not None and cur.cgroup is not None
    a, b = prev.cgroup.cpu.usage_ns, cur.cgroup.cpu.usage_ns
    return a is not None and b is not None and b < a


def kernel_events(
    prev: RawSample,
    cur: RawSample,
    bursting: set[str],
    t: Thresholds = THRESHOLDS,
    streaks: set[tuple[str, str]] | None = None,
) -> list[Event]:
    """What the kernel counters say happened between two samples. `bursting` (ids in a
    throttling burst) is updated. With `streaks` ((id, kind) of the limits being hit in the
    previous interval, updated), memory-high, memory-max and pids-max are told once when a
    limit starts being hit, not again every interval while it goes on."""
    events: list[Event] = []
    hitting: set[tuple[str, str]] = set()
    before = {c.id: c for c in prev.containers}
    interval = round(cur.time - prev.time, 3)

    def add(c: ContainerRaw, kind: str, **numbers: Number) -> None:
        events.append(Event(cur.time, "kernel", kind, c.id, c.name, numbers))

    def limit_hit(c: ContainerRaw, kind: str, **numbers: Number) -> None:
        hitting.add((c.id, kind))
        if streaks is None or (c.id, kind) not in streaks:
            add(c, kind, **numbers)

    now_present = set()
    for c in cur.containers:
        p = before.get(c.id)
        if not _has_cgroup(c):
            continue
        now_present.add(c.id)
        if p is c:
            # The very record of the previous sample (an idle container): no counter moved,
            # so nothing happened (no delta, no throttling interval, no limit being hit).
            continue
        assert c.cgroup is not None
        if not _has_cgroup(p):
            if p is None:
                add(c, "cgroup-created", init_pid=c.init_pid)
            else:
                add(c, "cgroup-recreated", init_pid=c.init_pid)
            _oom_from_lifecycle(p, c, add)
            continue
        assert p is not None and p.cgroup is not None
        if recreated(p, c):
            add(c, "cgroup-recreated", init_pid=c.init_pid)
            _oom_from_lifecycle(p, c, add)
            bursting.discard(c.id)
            continue
        if not _oom_from_lifecycle(p, c, add):
            kills = _delta(c.cgroup.memory.events, p.cgroup.memory.events, "oom_kill")
            if kills:
                add(
                    c,
                    "oom-kill",
                    kills=kills,
                    memory_max_bytes=c.cgroup.limits.memory_max_bytes,
                )
        high = _delta(c.cgroup.memory.events, p.cgroup.memory.events, "high")
        if high:
            limit_hit(
                c,
                "memory-high",
                events=high,
                memory_high_bytes=c.cgroup.limits.memory_high_bytes,
                interval_s=interval,
            )
        at_max = _delta(c.cgroup.memory.events, p.cgroup.memory.events, "max")
        if at_max:
            limit_hit(
                c,
                "memory-max",
                events=at_max,
                memory_max_bytes=c.cgroup.limits.memory_max_bytes,
                interval_s=interval,
            )
        refused = _delta(c.cgroup.pids_events, p.cgroup.pids_events, "max")
        if refused:
            limit_hit(
                c,
                "pids-max",
                refused=refused,
                pids_max=c.cgroup.limits.pids_max,
                pids_current=c.cgroup.pids_current,
                interval_s=interval,
            )
        percent = _throttled_percent(p, c)
        if percent is not None:
            if percent >= t.burst_percent and c.id not in bursting:
                bursting.add(c.id)
                add(c, "throttle-start", throttled_percent=round(percent, 1))
            elif percent < t.burst_percent / 2 and c.id in bursting:
                bursting.discard(c.id)
                add(c, "throttle-end", throttled_percent=round(percent, 1))
    # Only the ids that are no longer here can have lost their cgroup (most ticks: none).
    missing = before.keys() - now_present
    for p in prev.containers if missing else ():
        if p.id in missing and _has_cgroup(p):
            events.append(Event(cur.time, "kernel", "cgroup-removed", p.id, p.name, {}))
            bursting.discard(p.id)
    if streaks is not None:
        streaks.clear()
        streaks.update(hitting)
    return events


def _oom_from_lifecycle(p: ContainerRaw | None, c: ContainerRaw, add: Any) -> bool:
    """The kills ctop_py.lifecycle counted across re-creations; False when it did not run."""
    if c.lifecycle is None or p is None or p.lifecycle is None:
        return False
    kills = c.lifecycle.kernel_oom_kills - p.lifecycle.kernel_oom_kills
    if kills > 0:
        limits = c.cgroup.limits if c.cgroup else None
        add(c, "oom-kill", kills=kills, memory_max_bytes=limits and limits.memory_max_bytes)
    return True


class EventLog:
    """The timeline: fed samples in order, keeps the newest LOG_BOUND events."""

    def __init__(self, bound: int = LOG_BOUND, thresholds: Thresholds = THRESHOLDS) -> None:
        self.events: deque[Event] = deque(maxlen=bound)  # oldest first
        self.thresholds = thresholds
        self._prev: RawSample | None = None
        self._bursting: set[str] = set()
        self._streaks: set[tuple[str, str]] = set()
        self._died: set[str] = set()
        self._names: dict[str, str] = {}

    def observe(self, sample: RawSample) -> list[Event]:
        """The new events this sample brings (oldest first), also kept in the log."""
        for c in sample.containers:
            self._names[c.id] = c.name
        new = [
            e
            for e in (from_engine(x, self._died, self._names) for x in sample.engine_events)
            if e is not None
        ]
        if self._prev is not None and sample.time > self._prev.time:
            new += kernel_events(self._prev, sample, self._bursting, self.thresholds, self._streaks)
        self._prev = sample
        new.sort(key=lambda e: e.time)
        self.events.extend(new)
        if len(self._names) > 4 * (self.events.maxlen or LOG_BOUND):
            self._names = {c.id: c.name for c in sample.containers}
        return new

    def reset(self) -> None:
        self.events.clear()
        self._prev = None
        self._bursting.clear()
        self._streaks.clear()
        self._died.clear()

    def recent(
        self, container_id: str | None = None, since: float | None = None, limit: int | None = None
    ) -> list[Event]:
        """Newest first."""
        result = []
        for e in reversed(self.events):
            if since is not None and e.time < since:
                break
            if container_id is None or e.container_id == container_id:
                result.append(e)
                if limit is not None and len(result) >= limit:
                    break
        return result


def events_of(samples: Iterable[RawSample], bound: int = LOG_BOUND) -> EventLog:
    log = EventLog(bound)
    for sample in samples:
        log.observe(sample)
    return log


def format_numbers(numbers: Mapping[str, Number]) -> str:
    return " ".join(f"{k}={v}" for k, v in numbers.items() if v is not None)


def sort_events(events: Sequence[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.time, e.source))
