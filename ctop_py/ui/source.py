"""Where the UI's Snapshots come from, and the other things its worker measures.

A source is anything with `next() -> Snapshot | None` and `close()`: `ctop_py.sources`'
LiveSource (Collector + derive) and ReplaySource fit, and so does `StaticSource` here (tests,
screenshots). `next()` is called from a worker thread only, never from the UI thread: it may
block on I/O. The UI never reads the host itself. A source that has nothing new returns None,
or the same RawSample again: the app then leaves the screen as it is.
"""

from __future__ import annotations

import os
import pwd
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ctop_py.host import HostRoot
from ctop_py.model import RawSample, Snapshot
from ctop_py.nsfs import Namespace, list_namespaces


class SnapshotSource(Protocol):
    def next(self) -> Snapshot | None:
        """The next Snapshot, or None when there is nothing new. Called from a worker thread."""

    def want_detail(self, ids: frozenset[str]) -> bool:
        """Read per-process detail only for these container ids from the next `next()` on
        (the UI thread asks; the worker reads). True when the source reads detail at all."""

    def close(self) -> None: ...


NamespaceLister = Callable[[RawSample], list[Namespace]]


def namespaces_at(root: HostRoot) -> NamespaceLister:
    """Every namespace of a sample; the owning user namespaces are read under `root`."""

    def lister(sample: RawSample) -> list[Namespace]:
        return list_namespaces(
            root, sample.processes, sample.containers, dict(sample.host.namespaces)
        )

    return lister


def live_namespaces_at(root: HostRoot) -> NamespaceLister:
    """Every namespace on the live host: all processes are read (in the worker), not only the
    ones a tick reads."""
    from ctop_py.procfs import ProcessReader

    reader = ProcessReader(root)

    def lister(sample: RawSample) -> list[Namespace]:
        return list_namespaces(
            root, reader.read_all(), sample.containers, dict(sample.host.namespaces)
        )

    return lister


# A root that does not exist: listing the namespaces of recorded or made-up samples must not
# read this host (the owning user namespaces are then unknown).
NOWHERE = HostRoot(Path("/nonexistent/ctop-py-no-host"))


class StaticSource:
    """A fixed sequence of Snapshots, then None ("nothing new") for ever."""

    def __init__(self, snapshots: Iterable[Snapshot]) -> None:
        self.snapshots: Sequence[Snapshot] = tuple(snapshots)
        self.position = 0
        self._lock = threading.Lock()

    def next(self) -> Snapshot | None:
        with self._lock:
            if self.position >= len(self.snapshots):
                return None
            snapshot = self.snapshots[self.position]
            self.position += 1
            return snapshot

    def want_detail(self, ids: frozenset[str]) -> bool:
        return False  # every Snapshot is made already

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# Things the worker measures besides the snapshot.


@dataclass(frozen=True)
class SelfStats:
    """ctop-py's own cost, shown in the header."""

    cpu_percent: float | None
    rss_bytes: int | None


class SelfProbe(Protocol):
    def __call__(self) -> SelfStats: ...


class PsutilProbe:
    """Our own process's CPU % and RSS.

    The CPU is the whole process's (every thread: the collector's worker, the UI, the
    explorer's), read from CLOCK_PROCESS_CPUTIME_ID, the nanosecond count the kernel keeps for
    the process and shows in /proc/self/stat as utime + stime, averaged over the last
    `window_s` seconds. (psutil's cpu_percent over one 1 s tick counted in 10 ms clock ticks:
    the header could only say 1.0 %, 2.0 %, … and jumped between them.)"""

    def __init__(
        self,
        window_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        cputime: Callable[[], float] = lambda: time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID),
    ) -> None:
        self.window_s = window_s
        self._clock, self._cputime = clock, cputime
        self._samples: deque[tuple[float, float]] = deque()
        self._pagesize = os.sysconf("SC_PAGE_SIZE")

    def __call__(self) -> SelfStats:
        now, cpu = self._clock(), self._cputime()
        samples = self._samples
        samples.append((now, cpu))
        # Keep the newest sample at or before the window's start, and all after it.
        while len(samples) > 2 and samples[1][0] <= now - self.window_s:
            samples.popleft()
        percent = None
        if len(samples) > 1 and now > samples[0][0]:
            t0, c0 = samples[0]
            percent = 100.0 * (cpu - c0) / (now - t0)
        return SelfStats(percent, self._rss())

    def _rss(self) -> int | None:
        try:
            with open("/proc/self/statm", "rb") as f:
                return int(f.read().split()[1]) * self._pagesize
        except (OSError, ValueError, IndexError):
            return None


def fixed_probe(stats: SelfStats) -> SelfProbe:
    def probe() -> SelfStats:
        return stats

    return probe


class UserNames(Protocol):
    def __call__(self, uids: Iterable[int]) -> dict[int, str]:
        """Names for these uids (those that have one). Called from a worker thread."""


class PasswdNames:
    """uid → name from this system's user database (the host's, or ctop-py's own container's
    when it runs with --root: a container's own /etc/passwd may name the uid differently)."""

    def __init__(self) -> None:
        self._cache: dict[int, str | None] = {}

    def __call__(self, uids: Iterable[int]) -> dict[int, str]:
        result = {}
        for uid in uids:
            if uid not in self._cache:
                try:
                    self._cache[uid] = pwd.getpwuid(uid).pw_name
                except (KeyError, OverflowError):
                    self._cache[uid] = None
            name = self._cache[uid]
            if name is not None:
                result[uid] = name
        return result


def fixed_names(names: dict[int, str]) -> UserNames:
    def lookup(uids: Iterable[int]) -> dict[int, str]:
        return {uid: names[uid] for uid in uids if uid in names}

    return lookup
