"""Bounded per-container history, fed from Snapshots on the UI thread (appends only: cheap).

Kept in columns, one fixed-size ring of machine numbers per field (`array`), not a deque of
`Point` objects: at 100 containers × 300 points, Points with their boxed floats and ints held
~9 MiB of small Python objects (issue 16); the columns hold 12 × 8 bytes a point (~2.9 MiB).
A missing value (None) is stored as NaN in a float column and as INT_NONE in an int one.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass, fields
from typing import Any, overload

from ctop_py.model import ContainerView, Snapshot

HISTORY_LENGTH = 300  # samples: 5 minutes at the default 1 s interval
OOM_WINDOW_S = 300.0  # an oom_kill within this window marks the row
POINTS_UNREAD = 5  # appends after which Points no one reads are dropped
INT_NONE = -(1 << 63)  # an int column's None (counters and byte counts are never negative)


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
        return cls(*_values(view, time, interval_s))  # type: ignore[arg-type]


def _values(view: ContainerView, time: float, interval_s: float | None) -> tuple[object, ...]:
    """A Point's fields, in order, without building the Point."""
    cgroup = view.raw.cgroup
    usage, throttling = view.usage, view.throttling
    return (
        time,
        interval_s,
        usage.cpu_percent,
        usage.cpu_percent_of_quota,
        view.limits.cpu_quota_cores,
        throttling.throttled_percent,
        throttling.throttled_seconds_per_s,
        throttling.periods_in_window,
        throttling.nr_throttled,
        usage.memory_used_bytes,
        usage.memory_percent_of_limit,
        cgroup.memory.events.get("oom_kill") if cgroup is not None else None,
    )


FIELDS = tuple(f.name for f in fields(Point))
_INT_FIELDS = frozenset({"periods", "nr_throttled", "memory_used_bytes", "oom_kill"})
_IS_INT = tuple(name in _INT_FIELDS for name in FIELDS)
_INDEX = {name: i for i, name in enumerate(FIELDS)}
_NAN = math.nan
_CPU = _INDEX["cpu_percent"]
_OOM = _INDEX["oom_kill"]


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)  # NaN (unknown) is the same as NaN


def _stored(value: object, is_int: bool) -> float | int:
    if value is None:
        return INT_NONE if is_int else _NAN
    if is_int:
        number = int(value)  # type: ignore[call-overload]
        # An absurd counter (a corrupt or hostile cgroup file) is unknown, not an overflow.
        return number if INT_NONE < number < (1 << 63) else INT_NONE
    return float(value)  # type: ignore[arg-type]


class History:
    """The last `maxlen` points of one container, as columns in a ring."""

    __slots__ = (
        "_columns",
        "_cpu_run",
        "_oldest",
        "_oom_run",
        "_ooms",
        "_points",
        "_recent",
        "_size",
        "_view",
        "appended",
        "maxlen",
    )

    def __init__(self, maxlen: int = HISTORY_LENGTH) -> None:
        self.maxlen = maxlen
        # Allocated whole at the first point (12 × 8 bytes × maxlen): growing 12 arrays a
        # point at a time reallocated them along the first minutes, leaving freed blocks behind.
        self._columns: tuple[array[Any], ...] = ()
        self._oldest = 0  # the ring's oldest slot
        self._size = 0
        self.appended = 0  # points ever appended: a version for what is worked out from them
        # oom_kills_recent's answer for (appended, window): the table asks it three times a
        # row a tick, and it looks at every point.
        self._ooms: tuple[int, float, int] | None = None
        # The Points of a history a screen reads every tick (the container on screen), kept
        # in step with the columns while it is read (building 300 Points costs ~0.5 ms).
        self._points: tuple[deque[Point], list[int]] | None = None
        # How many of the newest points have the same CPU % (and oom_kill) as the newest: on
        # a still host that is all of them, and recent_cpu / oom_kills_recent need not look.
        self._cpu_run = 0
        self._oom_run = 0
        self._recent: tuple[int, int, tuple[float | None, ...]] | None = None  # (appended,
        # count, answer) of recent_cpu
        # The last view appended and its fields as stored: an idle container's view is the
        # same object tick to tick, and only the time and interval need converting.
        self._view: tuple[ContainerView, list[float | int]] | None = None

    def __len__(self) -> int:
        return self._size

    @property
    def points(self) -> Points:
        """The points, oldest first (as `Point`s: prefer the column methods)."""
        return Points(self)

    def _point_list(self) -> deque[Point]:
        kept = self._points
        if kept is None:
            columns = [self.column(name) for name in FIELDS]
            built = deque((Point(*v) for v in zip(*columns, strict=True)), maxlen=self.maxlen)
            kept = self._points = (built, [self.appended])
        kept[1][0] = self.appended
        return kept[0]

    def append_values(self, values: Sequence[object]) -> None:
        """Append one point given as its fields' values, in `Point`'s order."""
        if self.maxlen > 0:
            self._view = None  # the newest point is no longer the last view's
            self._put(
                [_stored(value, is_int) for value, is_int in zip(values, _IS_INT, strict=True)]
            )

    def _put(self, stored: Sequence[float | int], again: bool = False) -> None:
        """`again`: the values of the newest point but the time and interval."""
        maxlen = self.maxlen
        if not self._columns:
            self._columns = tuple(
                array("q", [INT_NONE]) * maxlen if is_int else array("d", [_NAN]) * maxlen
                for is_int in _IS_INT
            )
        size = self._size
        at = (self._oldest + size) % maxlen
        if again and size:
            self._cpu_run += 1
            self._oom_run += 1
        elif size:
            newest = (at - 1) % maxlen
            self._cpu_run = (
                self._cpu_run + 1 if _same(self._columns[_CPU][newest], stored[_CPU]) else 1
            )
            self._oom_run = self._oom_run + 1 if self._columns[_OOM][newest] == stored[_OOM] else 1
        else:
            self._cpu_run = self._oom_run = 1
        # Unrolled (every container, every tick): a third of the time of a loop over a zip.
        c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 = self._columns
        v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11 = stored
        c0[at], c1[at], c2[at], c3[at], c4[at], c5[at] = v0, v1, v2, v3, v4, v5
        c6[at], c7[at], c8[at], c9[at], c10[at], c11[at] = v6, v7, v8, v9, v10, v11
        if size < maxlen:
            self._size = size + 1
        else:
            self._oldest = (self._oldest + 1) % maxlen
        self.appended += 1
        kept = self._points
        if kept is not None:
            if self.appended - kept[1][0] > POINTS_UNREAD:
                self._points = None  # no longer read: not worth its memory
            else:
                kept[0].append(self.point(-1))

    def append(self, point: Point) -> None:
        self.append_values(astuple(point))

    def append_view(self, view: ContainerView, time: float, interval_s: float | None) -> None:
        if self.maxlen <= 0:
            return
        last = self._view
        if last is not None and last[0] is view:
            # The very view of the last point: the same values but the time and interval.
            stored = last[1]
            stored[0], stored[1] = float(time), _stored(interval_s, False)
            self._put(stored, again=True)
            return
        values = _values(view, time, interval_s)
        stored = [_stored(value, is_int) for value, is_int in zip(values, _IS_INT, strict=True)]
        self._view = (view, stored)
        self._put(stored)

    def _ordered(self, name: str, count: int | None = None) -> array[Any]:
        """A column's newest `count` values (all by default), oldest first."""
        size, at = self._size, self._oldest
        if not size:
            return array("q" if _IS_INT[_INDEX[name]] else "d")
        column = self._columns[_INDEX[name]]
        if count is None or count > size:
            count = size
        start = at + size - count  # the first wanted slot, unwrapped
        end = at + size
        if end <= self.maxlen:
            return column[start:end]
        if start >= self.maxlen:
            return column[start - self.maxlen : end - self.maxlen]
        return column[start:] + column[: end - self.maxlen]

    def column(self, name: str, count: int | None = None) -> list[float | int | None]:
        """One field of every point (or of the newest `count`), oldest first."""
        values = self._ordered(name, count)
        if _IS_INT[_INDEX[name]]:
            return [None if v == INT_NONE else v for v in values]
        return [None if v != v else v for v in values]  # NaN: unknown

    def _floats(self, name: str, count: int | None = None) -> list[float | None]:
        return [None if v != v else v for v in self._ordered(name, count)]

    def _ints(self, name: str) -> list[int | None]:
        return [None if v == INT_NONE else int(v) for v in self._ordered(name)]

    def point(self, index: int) -> Point:
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("history index out of range")
        at = (self._oldest + index) % self.maxlen
        values = [
            (None if v == INT_NONE else v) if is_int else (None if v != v else v)
            for v, is_int in zip((c[at] for c in self._columns), _IS_INT, strict=True)
        ]
        return Point(*values)  # type: ignore[arg-type]

    def cpu(self) -> list[float | None]:
        return self._floats("cpu_percent")

    def recent_cpu(self, count: int) -> tuple[float | None, ...]:
        """The CPU % of the newest `count` points, oldest first."""
        if count <= 0:
            return ()
        wanted = min(count, self._size)
        known = self._recent
        if known is not None and known[1] == count:
            since = self.appended - known[0]
            # Every point since it was worked out, and the `wanted` before, have the same CPU %.
            if not since or (len(known[2]) == wanted and self._cpu_run >= wanted + since):
                self._recent = (self.appended, count, known[2])
                return known[2]
        recent = tuple(self._floats("cpu_percent", count))
        self._recent = (self.appended, count, recent)
        return recent

    def throttled(self) -> list[float | None]:
        return self._floats("throttled_percent")

    def cpu_of_quota(self) -> list[float | None]:
        return self._floats("cpu_percent_of_quota")

    def memory(self) -> list[float | None]:
        return [None if v == INT_NONE else float(v) for v in self._ordered("memory_used_bytes")]

    def oom_kills_recent(self, window_s: float = OOM_WINDOW_S) -> int:
        """How many oom_kill events happened within the window (0 when unknown)."""
        if not len(self) or self._oom_run >= self._size:
            return 0  # every point has the same counter (or none): nothing rose
        known = self._ooms
        if known is not None and known[0] == self.appended and known[1] == window_s:
            return known[2]
        count = self._oom_kills_recent(window_s)
        self._ooms = (self.appended, window_s, count)
        return count

    def _oom_kills_recent(self, window_s: float) -> int:
        ooms = self._ordered("oom_kill")
        latest = ooms[-1]
        if latest == INT_NONE:
            return 0
        times = self._ordered("time")
        since = times[-1] - window_s
        baseline: int | None = None
        for t, oom in zip(times, ooms, strict=True):
            if t >= since and oom != INT_NONE:
                baseline = int(oom)
                break
        # The earliest point inside the window is the baseline; when it is the latest point
        # itself (one sample only), nothing rose yet.
        if baseline is None or latest < baseline:
            return 0
        return int(latest) - baseline

    def throttled_periods(self) -> list[int | None]:
        """Periods throttled in each interval (difference of the cumulative counter)."""
        result: list[int | None] = []
        previous: int | None = None
        for count in self._ints("nr_throttled"):
            if previous is None or count is None or count < previous:
                result.append(None)
            else:
                result.append(count - previous)
            previous = count
        return result


class Points(Sequence[Point]):
    """A history's points as a sequence of `Point`s (each built when asked for); `append`
    adds one to the history."""

    __slots__ = ("_history",)

    def __init__(self, history: History) -> None:
        self._history = history

    def __len__(self) -> int:
        return len(self._history)

    @overload
    def __getitem__(self, index: int) -> Point: ...

    @overload
    def __getitem__(self, index: slice) -> list[Point]: ...

    def __getitem__(self, index: int | slice) -> Point | list[Point]:
        points = self._history._point_list()
        if isinstance(index, slice):
            return list(points)[index]
        return points[index]

    def __iter__(self) -> Iterator[Point]:
        return iter(self._history._point_list())

    def append(self, point: Point) -> None:
        self._history.append(point)


class Histories:
    """History of every container in the latest snapshot, plus pinned ones (the one on screen,
    kept after it vanished so its screen can show its last minutes)."""

    def __init__(self, maxlen: int = HISTORY_LENGTH) -> None:
        self.maxlen = maxlen
        self.by_key: dict[str, History] = {}
        self.pinned: set[str] = set()
        self._last: list[tuple[ContainerView, str, History]] = []  # the last feed's, in order

    def feed(self, snapshot: Snapshot) -> None:
        seen = set()
        time, interval_s = snapshot.time, snapshot.interval_s
        # An idle container's view is the very object of the last snapshot, at the same place
        # on a still host: its key and history are the ones found for it then.
        last = self._last
        fed: list[tuple[ContainerView, str, History]] = []
        for i, view in enumerate(snapshot.containers):
            known = last[i] if i < len(last) else None
            if known is not None and known[0] is view:
                key, history = known[1], known[2]
            else:
                key = container_key(view)
                found = self.by_key.get(key)
                history = found if found is not None else History(self.maxlen)
                if found is None:
                    self.by_key[key] = history
            seen.add(key)
            fed.append((view, key, history))
            history.append_view(view, time, interval_s)
        self._last = fed
        if len(seen) < len(self.by_key):  # some not in this snapshot: drop the unpinned
            for key in [k for k in self.by_key if k not in seen and k not in self.pinned]:
                del self.by_key[key]

    def get(self, key: str) -> History:
        found = self.by_key.get(key)  # not `or`: that asks every history its len()
        return found if found is not None else History(self.maxlen)

    def pin(self, key: str) -> None:
        self.pinned.add(key)

    def unpin(self, key: str) -> None:
        self.pinned.discard(key)
