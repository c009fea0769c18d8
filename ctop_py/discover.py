"""Finding containers from cgroup directories, without walking every process each tick.

A full walk of one cgroup hierarchy runs every `rescan_s` seconds; in between, only the
directories known to hold containers (`/system.slice`, `/docker`, a pod's slice, …) are listed
again, so a new container in a known place shows up on the next tick.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ctop_py.cgroupfs import CgroupLayout, ParseCache
from ctop_py.host import READ_BUFFER, read_rest
from ctop_py.model import CgroupMode
from ctop_py.openfiles import WHOLE_LIST, KeptFiles
from ctop_py.runtimes import Claim, Runtime, claim

# The hierarchy to walk on v1: every runtime puts its containers in all of them at one path.
V1_WALK_ORDER = ("pids", "memory", "cpu", "cpuacct", "name=systemd")
MAX_DEPTH = 12  # kubepods slices nest 4 deep; leave room, but never loop
_O_FLAGS = os.O_RDONLY | os.O_CLOEXEC


@dataclass(frozen=True)
class Found:
    claim: Claim
    dirs: tuple[str, ...]  # the claimed directory and its descendants: where processes live


def walk_base(layout: CgroupLayout) -> str | None:
    if layout.mode is CgroupMode.V2:
        return None if layout.unified is None else str(layout.unified)
    for controller in V1_WALK_ORDER:
        if controller in layout.controllers:
            return str(layout.controllers[controller])
    return None


def _subdirs(path: str, leaf_check: bool = False) -> list[str]:
    """The directories in `path`. `leaf_check`: first ask lstat whether it has any (a
    directory's link count is 2 + its subdirectories on cgroupfs, as on ext4, xfs and tmpfs),
    which is cheaper than listing a cgroup's files (a container's v2 cgroup holds ~70)."""
    try:
        if leaf_check and os.lstat(path).st_nlink == 2:
            return []
        with os.scandir(path) as entries:
            return [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


class Discovery:
    def __init__(
        self, layout: CgroupLayout, runtimes: Sequence[Runtime], rescan_s: float = 5.0
    ) -> None:
        self.base = walk_base(layout)
        self.runtimes = tuple(runtimes)
        self.rescan_s = rescan_s
        self.parents: set[str] = set()
        self.found: dict[tuple[str, str], Found] = {}
        self._last_full = float("-inf")
        # directory -> its claim (None: not a container's). Claims depend on the path alone;
        # the known parents are listed again every tick, their children mostly the same ones.
        self._claims: dict[str, Claim | None] = {}

    @property
    def available(self) -> bool:
        return self.base is not None

    def relative(self, path: str) -> str:
        assert self.base is not None
        return "/" + os.path.relpath(path, self.base).lstrip(".").lstrip("/")

    def scan(self, now: float, force: bool = False) -> dict[tuple[str, str], Found]:
        if self.base is None:
            return {}
        if force or now - self._last_full >= self.rescan_s:
            self._full_walk()
            self._last_full = now
        else:
            self._rescan_parents()
        return self.found

    def _claim_dir(self, path: str, claims: dict[str, Claim | None] | None = None) -> Claim | None:
        """The claim of a directory (claims depend on the path alone), remembered in `claims`:
        the cache the known parents' rescans use, or a full walk's new one."""
        cache = self._claims if claims is None else claims
        if path in cache:
            return cache[path]
        if path in self._claims:
            found = self._claims[path]
        else:
            found = claim(self.relative(path), self.runtimes)
        cache[path] = found
        return found

    def _descendants(self, path: str, depth: int = 0) -> list[str]:
        result = [path]
        if depth < 3:  # crun's `container` child, systemd sub-scopes: shallow
            for child in _subdirs(path, leaf_check=True):
                result += self._descendants(child, depth + 1)
        return result

    def _full_walk(self) -> None:
        assert self.base is not None
        found: dict[tuple[str, str], Found] = {}
        parents: set[str] = set()
        claims: dict[str, Claim | None] = {}  # only the directories that exist now are kept
        stack = [(self.base, 0)]
        while stack:
            directory, depth = stack.pop()
            for child in _subdirs(directory, leaf_check=True):
                claimed = self._claim_dir(child, claims)
                if claimed is not None:
                    key = (claimed.runtime, claimed.id)
                    if key not in found:
                        found[key] = Found(claimed, tuple(self._descendants(child)))
                        parents.add(directory)
                elif depth < MAX_DEPTH:
                    stack.append((child, depth + 1))
                    if depth == 0:
                        # The top level (/docker, system.slice, machine.slice, …) is listed
                        # every tick even when it holds no container yet: the first container
                        # started on a quiet host shows at once, not at the next walk.
                        parents.add(child)
        self.found = found
        self.parents = parents
        self._claims = claims

    def _rescan_parents(self) -> None:
        found: dict[tuple[str, str], Found] = {}
        for parent in self.parents:
            for child in _subdirs(parent):
                claimed = self._claim_dir(child)
                if claimed is None:
                    continue
                key = (claimed.runtime, claimed.id)
                known = self.found.get(key)
                found[key] = (
                    known if known is not None else Found(claimed, tuple(self._descendants(child)))
                )
        self.found = found


def read_procs(
    dirs: Sequence[str], cache: ParseCache | None = None, kept: KeptFiles | None = None
) -> tuple[int, ...]:
    """The pids in these cgroups (cgroup.procs may repeat a pid and is unordered; it is a
    list the kernel may return in several reads). With a `cache`, a cgroup.procs whose bytes
    did not change since the previous tick is not parsed again. `kept`: a single cgroup's
    list is read through these kept-open files (cgroup v2 only: v2 starts its task iterator
    again at offset 0, while v1 hands a kept fd the pid list it built, for up to a second
    after its last read: cgroup_pidlist_start)."""
    if len(dirs) == 1 and cache is not None:  # a container's usual single cgroup
        path = dirs[0] + "/cgroup.procs"
        if kept is None:
            data = _read_list(path)
        else:
            try:
                data = kept.read(path, True)
            except OSError:
                data = None
        return () if data is None else cache.parse(path, data, _parse_procs)
    pids: set[int] = set()
    for directory in dirs:
        data = _read_list(directory + "/cgroup.procs")
        if data is not None:
            pids.update(map(int, data.split()))
    return tuple(sorted(pids))


def _read_list(path: str) -> bytes | None:
    try:
        fd = os.open(path, _O_FLAGS)
    except OSError:
        return None
    try:
        # A first read well short of a page is the whole list (openfiles.WHOLE_LIST: v1's
        # cgroup.procs is a seq_file too): no second read to see its end.
        data = os.read(fd, READ_BUFFER)
        return data if len(data) <= WHOLE_LIST else read_rest(fd, [data])
    except OSError:
        return None
    finally:
        os.close(fd)


def _parse_procs(data: bytes, path: str) -> tuple[int, ...]:
    return tuple(sorted(set(map(int, data.split()))))
