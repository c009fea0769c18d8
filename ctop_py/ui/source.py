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
    """Our own process's CPU % (since the previous call) and RSS."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process(os.getpid())
        self._primed = False

    def __call__(self) -> SelfStats:
        try:
            cpu = self._process.cpu_percent(None)
            rss = int(self._process.memory_info().rss)
        except Exception:  # psutil.Error and OSError: our own /proc entry unreadable
            return SelfStats(None, None)
        primed, self._primed = self._primed, True
        return SelfStats(cpu if primed else None, rss)


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
