"""Where Snapshots come from: the live host or a recording (a fixed list for tests and
screenshots is ctop_py.ui.source.StaticSource)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from ctop_py.collect import Collector
from ctop_py.derive import derive
from ctop_py.errors import CtopError
from ctop_py.host import HostRoot
from ctop_py.model import RawSample, Snapshot


class TimeError(CtopError, ValueError):
    """A time in a recording that cannot be read."""


def parse_time(text: str, start: float) -> float:
    """Seconds from the recording's start ("12.5", "+12.5") or an ISO time -> epoch seconds."""
    try:
        return start + float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TimeError(f"not a time: {text!r} (seconds from the start, or an ISO time)") from None
    return moment.timestamp()


def index_at(samples: Sequence[RawSample], when: float | None) -> int:
    """The last sample taken at or before `when` (the first one if `when` is earlier)."""
    if when is None:
        return len(samples) - 1
    index = 0
    for i, sample in enumerate(samples):
        if sample.time <= when:
            index = i
        else:
            break
    return index


def snapshot_at(samples: Sequence[RawSample], when: float | None) -> Snapshot:
    index = index_at(samples, when)
    return derive(samples[index - 1] if index > 0 else None, samples[index])


class LiveSource:
    """Samples the host; each call to next() returns a Snapshot derived from the last two.

    Per-process detail is read only for the containers in `detail` (ids): the app asks for
    the container on screen (`want_detail`, UI thread; `next` reads it once per call, in the
    worker), so a tick costs the same at 10 or 1,000 processes per container. With `brief`
    (the default), the other containers get the brief set of cgroup counters
    (cgroupfs.BRIEF_SET: what the list, its marks, the events and the diagnosis need), and
    the ones in `detail` all of them.
    """

    def __init__(
        self,
        root: HostRoot | None = None,
        collector: Collector | None = None,
        detail: frozenset[str] | None = frozenset(),
        brief: bool = True,
    ) -> None:
        self.collector = collector or Collector(root, watch_engines=True)
        self._detail = detail
        self.brief = brief
        self._lock = threading.Lock()
        self._prev: RawSample | None = None

    @property
    def detail(self) -> frozenset[str] | None:
        with self._lock:
            return self._detail

    def want_detail(self, ids: frozenset[str]) -> bool:
        with self._lock:
            self._detail = ids
        return True

    def next(self) -> Snapshot:
        cur = self.collector.sample(detail=self.detail, brief=self.brief)
        snapshot = derive(self._prev, cur)
        self._prev = cur
        return snapshot

    def close(self) -> None:
        self.collector.close()


class ReplaySource:
    """A recording with a cursor: step forward and back, jump to a time."""

    def __init__(self, samples: Sequence[RawSample]) -> None:
        if not samples:
            raise ValueError("a replay needs at least one sample")
        self.samples = tuple(samples)
        self.index = 0

    @property
    def start(self) -> float:
        return self.samples[0].time

    @property
    def end(self) -> float:
        return self.samples[-1].time

    @property
    def at_end(self) -> bool:
        return self.index >= len(self.samples) - 1

    def current(self) -> Snapshot:
        return derive(
            self.samples[self.index - 1] if self.index > 0 else None, self.samples[self.index]
        )

    def step(self, by: int = 1) -> Snapshot:
        self.index = max(0, min(len(self.samples) - 1, self.index + by))
        return self.current()

    def seek(self, when: float) -> Snapshot:
        self.index = index_at(self.samples, when)
        return self.current()

    def next(self) -> Snapshot:
        """For a player: the next sample, staying on the last one at the end."""
        snapshot = self.current()
        if not self.at_end:
            self.index += 1
        return snapshot

    def close(self) -> None:
        pass
