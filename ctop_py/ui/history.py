"""Bounded per-container history, fed from Snapshots on the UI thread (appends only: cheap)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ctop_py.model import ContainerView, Snapshot

HISTORY_LENGTH = 300  # samples: 5 minutes at the default 1 s interval
OOM_WINDOW_S = 300.0  # an oom_kill within this window marks the row


def container_key(view: ContainerView) -> str:
    """The stable identity of a container across snapshots (also its table row key)."""
    return f"{view.raw.runtime}:{view.raw.id}"


@dataclass(frozen=True, slots=True)
class Point:
    """One sample of one container, as much as the history screens need."""

    time: float
    interval_s: float | None
    cpu_percent: float | None
    cpu_percent_of_quota: float | None
    quota_cores: float | None
    throttled_percent: float | None
    throttled_seconds_per_s: float | None
    periods: int | None  # periods elapsed in this interval
    nr_throttled: int | None  # cumulative
    memory_used_bytes: int | None
    memory_percent_of_limit: float | None
    oom_kill: int | None  # cumulative memory.events oom_kill

    @classmethod
    def of(cls, view: ContainerView, time: float, interval_s: float | None) -> Point:
        cgroup = view.raw.cgroup
        oom = cgroup.memory.events.get("oom_kill") if cgroup is not None else None
        return cls(
            time=time,
            interval_s=interval_s,
            cpu_percent=view.usage.cpu_percent,
            cpu_percent_of_quota=view.usage.cpu_percent_of_quota,
            quota_cores=view.limits.cpu_quota_cores,
            throttled_percent=view.throttling.throttled_percent,
            throttled_seconds_per_s=view.throttling.throttled_seconds_per_s,
            periods=view.throttling.periods_in_window,
            nr_throttled=view.throttling.nr_throttled,
            memory_used_bytes=view.usage.memory_used_bytes,
            memory_percent_of_limit=view.usage.memory_percent_of_limit,
            oom_kill=oom,
        )


class History:
    """The last HISTORY_LENGTH points of one container."""

    __slots__ = ("_ooms", "points")

    def __init__(self, maxlen: int = HISTORY_LENGTH) -> None:
        self.points: deque[Point] = deque(maxlen=maxlen)
        # oom_kills_recent's answer for (newest point, oldest point, window): the table asks
        # it three times a row a tick, and it looks at every point.
        self._ooms: tuple[Point, Point, float, int] | None = None

    def cpu(self) -> list[float | None]:
        return [p.cpu_percent for p in self.points]

    def recent_cpu(self, count: int) -> tuple[float | None, ...]:
        """The CPU % of the newest `count` points, oldest first."""
        points = self.points
        start = max(0, len(points) - count)
        return tuple(points[i].cpu_percent for i in range(start, len(points)))

    def throttled(self) -> list[float | None]:
        return [p.throttled_percent for p in self.points]

    def memory(self) -> list[float | None]:
        return [
            None if p.memory_used_bytes is None else float(p.memory_used_bytes) for p in self.points
        ]

    def oom_kills_recent(self, window_s: float = OOM_WINDOW_S) -> int:
        """How many oom_kill events happened within the window (0 when unknown)."""
        if not self.points:
            return 0
        latest = self.points[-1]
        if latest.oom_kill is None:
            return 0
        known = self._ooms
        if known is not None and (
            known[0] is latest and known[1] is self.points[0] and known[2] == window_s
        ):
            return known[3]
        count = self._oom_kills_recent(latest, window_s)
        self._ooms = (latest, self.points[0], window_s, count)
        return count

    def _oom_kills_recent(self, latest: Point, window_s: float) -> int:
        assert latest.oom_kill is not None
        baseline: int | None = None
        for p in self.points:
            if p.time >= latest.time - window_s and p.oom_kill is not None:
                baseline = p.oom_kill
                break
        # The earliest point inside the window is the baseline; when it is the latest point
        # itself (one sample only), nothing rose yet.
        if baseline is None or latest.oom_kill < baseline:
            return 0
        return latest.oom_kill - baseline

    def throttled_periods(self) -> list[int | None]:
        """Periods throttled in each interval (difference of the cumulative counter)."""
        result: list[int | None] = []
        previous: int | None = None
        for p in self.points:
            if previous is None or p.nr_throttled is None or p.nr_throttled < previous:
                result.append(None)
            else:
                result.append(p.nr_throttled - previous)
            previous = p.nr_throttled
        return result


class Histories:
    """History of every container in the latest snapshot, plus pinned ones (the one on screen,
    kept after it vanished so its screen can show its last minutes)."""

    def __init__(self, maxlen: int = HISTORY_LENGTH) -> None:
        self.maxlen = maxlen
        self.by_key: dict[str, History] = {}
        self.pinned: set[str] = set()

    def feed(self, snapshot: Snapshot) -> None:
        seen = set()
        for view in snapshot.containers:
            key = container_key(view)
            seen.add(key)
            history = self.by_key.get(key)
            if history is None:
                history = self.by_key[key] = History(self.maxlen)
            history.points.append(Point.of(view, snapshot.time, snapshot.interval_s))
        for key in [k for k in self.by_key if k not in seen and k not in self.pinned]:
            del self.by_key[key]

    def get(self, key: str) -> History:
        return self.by_key.get(key) or History(self.maxlen)

    def pin(self, key: str) -> None:
        self.pinned.add(key)

    def unpin(self, key: str) -> None:
        self.pinned.discard(key)
