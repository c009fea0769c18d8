"""The files a collector reads every tick, kept open and read again with pread(2) at offset 0.

open(2) and close(2) of a cgroup or proc file cost several times its read (8.3 us against
2.3 us per file on this host), and a tick reads the same files second after second. A kept
file is read again as fresh: cgroupfs and procfs files are seq_files, which a pread at offset
0 regenerates.

What a kept fd would get wrong, and what is done about it:
- a removed cgroup fails ENODEV and a dead task's /proc/PID/stat ESRCH (even when its pid is
  reused: the fd holds the task, not the number): the file is opened again by path once, so a
  container restarted in the same cgroup path is read from its new cgroup;
- /proc/PID/net/dev keeps answering (with the old network namespace) after its process is
  gone: it is read through its `anchor`, the same pid's stat, and kept only while that stat
  fd, read in the same tick, is the one it was opened with;
- a regular file (a fake root in tests and benchmarks) replaced or removed reads the old
  inode: a file not on procfs or cgroupfs (found once per device from /proc/self/mountinfo) is
  kept while its link count (fstat, 1 us) is what it was when opened; replacing or removing a
  name of it (rename over it, unlink, a hard link to a template removed) changes the count.
  (stat(path) would say so too, at the cost of a path walk: 2.4 us of the 3.7 us an
  open/read/close of a fake root's file costs.) A file moved with its directory is not seen.
Files not read in a tick are closed at its end (a container gone, a plan dropped, a tab
closed). Kept fds are bounded by a budget well under the open-files limit (raised toward its
hard limit once) and placed above FD_SETSIZE when the limit allows (select(2), which the
terminal driver uses, takes no fd above 1023); past the budget, or on EMFILE, files are
opened, read and closed as before: `full` says so, and the hot loops (cgroupfs's many(),
collect's _read_files) then read a path not in `entries` with the plain open/read/close inline,
as before the fds were kept (through `read`, the tick at 5,000 was 1.18x its floor, now 1.13x).

What a kept file costs the kernel: a cgroup or proc seq_file once read holds its buffer page,
4.4 KiB of kernel memory per kept file (0.3 KiB only opened), charged to the app's memory
cgroup (memory.kmem.usage_in_bytes), not to its RSS: ~11 files a container on v1 (~12 on v2,
whose cgroup.procs is kept too), so ~5 MiB at 100 containers, at most ~35 MiB (the 8,192
budget, reached at ~740 containers on v1, ~680 on v2). The collector keeps its due files
(limits and PSI, read every 5 s: ~11 a container) in a second KeptFiles sharing that budget
(`shared`): ~10 MiB in all at 100 containers, the every-tick files given the room first.
CTOP_KEEP_FILES lowers it (0 keeps none); bad values are one line on stderr and exit 2 when
the CLI starts. Why 8,192 by default: the list at 500 fake containers took 4.7-5.0 % of a core
with it, 5.1-5.5 % with 2,048 and 5.2-5.3 % with 4,096 (alternating runs), the goal being 5 %.
"""

from __future__ import annotations

import errno
import fcntl
import os
import weakref
from collections.abc import Mapping, Sequence

from ctop_py.errors import CtopError
from ctop_py.host import GONE_ERRNOS, READ_BUFFER, READ_FLAGS

_PSEUDO_FILESYSTEMS = frozenset({"proc", "cgroup", "cgroup2"})
_SELECT_LIMIT = 1024  # FD_SETSIZE: kept fds go at or above it when the limit leaves room
_WANTED_LIMIT = 16384  # the soft open-files limit asked for (never above the hard one)
_MAX_BUDGET = 8192
_MARGIN = 256  # fds left for everything else the process opens
# A list (net/dev, cgroup.procs) whose first read is at most this long is all of it, with no
# read more to see its end. A seq_file hands a read at most its buffer (a page at least,
# 4,096 bytes), and drops the record that would overflow it: a read cut short that way is
# longer than a page less one record. The lists' records are short (a pid: 8 bytes; a net/dev
# line: ~110, at most ~350), so a first read 512 bytes shorter than a page is the whole list.
# A regular file (a fake root) read short is at its end anyway. At 500 containers on v2 that
# is 1,000 preads a tick fewer (net/dev and cgroup.procs each read a second time, to EOF).
WHOLE_LIST = 4096 - 512
KEEP_FILES_ENV = "CTOP_KEEP_FILES"
DEFAULT_KEEP_FILES = _MAX_BUDGET  # at most ~35 MiB of kernel memory (4.4 KiB a seq_file)


class KeepFilesError(CtopError):
    """CTOP_KEEP_FILES is not a whole number of files."""


def keep_files_setting(env: Mapping[str, str] | None = None) -> int:
    """The most files to keep open: CTOP_KEEP_FILES (0: none), else the default."""
    value = (os.environ if env is None else env).get(KEEP_FILES_ENV, "").strip()
    if not value:
        return DEFAULT_KEEP_FILES
    if not value.isdecimal() or not value.isascii():
        raise KeepFilesError(
            f"{KEEP_FILES_ENV} must be a whole number of files (0: keep none), not {value!r}"
        )
    return int(value)


def raise_open_files_limit(wanted: int = _WANTED_LIMIT) -> int:
    """Raise the soft RLIMIT_NOFILE toward `wanted` (not above the hard limit); the soft
    limit after it. Never fails: an unchangeable limit is kept."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else wanted


def default_budget(soft_limit: int) -> tuple[int, int]:
    """(how many fds to keep, the lowest fd number to put them at) for this soft limit:
    above FD_SETSIZE when there is room for them there, and at most about half the limit."""
    if soft_limit >= 2 * _SELECT_LIMIT + 2 * _MARGIN:
        return min(_MAX_BUDGET, (soft_limit - _SELECT_LIMIT) // 2 - _MARGIN), _SELECT_LIMIT
    return max(0, min(_MAX_BUDGET, soft_limit // 2 - _MARGIN)), 0


def _read_opened(fd: int, to_eof: bool) -> bytes:
    """A file just opened: one read when shorter than the buffer, else (or `to_eof`) to its end."""
    data = os.read(fd, READ_BUFFER)
    if to_eof:
        while chunk := os.read(fd, READ_BUFFER):
            data += chunk
    elif len(data) == READ_BUFFER:
        data = _pread_rest(fd, data, False)
    return data


def plain_read(path: str, to_eof: bool) -> bytes:
    """open/read/close, as a file past the budget is read."""
    fd = os.open(path, READ_FLAGS)
    try:
        return _read_opened(fd, to_eof)
    finally:
        os.close(fd)


def plain_read_at(dir_fd: int, name: str) -> bytes:
    """open/read/close of `name` in the directory open as `dir_fd` (one name looked up, not a
    whole path); one read when shorter than the buffer, as plain_read."""
    fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
    try:
        return _read_opened(fd, False)
    finally:
        os.close(fd)


class _Kept:
    __slots__ = ("anchor_serial", "fd", "links", "serial", "stamp")

    def __init__(self, fd: int, serial: int, stamp: int, links: int | None) -> None:
        self.fd, self.serial, self.stamp, self.links = fd, serial, stamp, links
        self.anchor_serial = 0  # the serial of the anchor's fd it was opened beside


def _close_all(entries: dict[str, _Kept]) -> None:
    for entry in entries.values():
        try:  # noqa: SIM105 (suppress() costs more than the call it guards)
            os.close(entry.fd)
        except OSError:
            pass
    entries.clear()


class KeptFiles:
    """Files read every tick, kept open by path. `read` raises OSError as os.open and os.read
    would (the caller maps it as before); call `end_tick()` after each tick and `close()`
    when done (a garbage-collected KeptFiles closes its fds too)."""

    __slots__ = ("__weakref__", "_devices", "_finalizer", "_serial", "_tick",
                 "base", "budget", "entries", "full", "sharer")  # fmt: skip

    def __init__(self, budget: int | None = None, base: int | None = None) -> None:
        if budget is None:
            budget = keep_files_setting()
        if budget > 0 and base is None:
            default, base = default_budget(raise_open_files_limit())
            budget = min(budget, default)
        self.budget, self.base = budget, base or 0
        # Read-only for callers: a path in it is kept; not in it while `full`: read it plain.
        self.entries: dict[str, _Kept] = {}
        self.full = budget <= 0
        self._tick = 1
        self._serial = 0
        self._devices: dict[int, bool] = {}  # st_dev -> on procfs or cgroupfs
        self._finalizer = weakref.finalize(self, _close_all, self.entries)
        # Another KeptFiles whose fds count against this one's budget (see `shared`).
        self.sharer: KeptFiles | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def shared(self) -> KeptFiles:
        """A KeptFiles for files read less often, within this one's budget: each counts
        both's fds, so that together they keep at most `budget`; it keeps files until an
        eighth of the budget is left (room for this one's), and `yield_to(self)` after each
        tick closes its files when this one is full."""
        other = KeptFiles(self.budget - max(1, self.budget // 8), self.base)
        other.sharer, self.sharer = self, other
        self.recount()
        other.recount()
        return other

    def yield_to(self, first: KeptFiles) -> None:
        """When `first` (whose budget this one shares) is full: close the files last kept
        here until it has room again (an eighth of the budget)."""
        first.recount()
        if not first.full:
            return
        room = max(0, self.budget - len(first.entries))
        entries = self.entries
        while len(entries) > room:
            path = next(reversed(entries))
            self._drop(path, entries[path])
        self.recount()
        first.recount()

    def forget(self, paths: Sequence[str]) -> None:
        """Close these files if kept (a container gone: not read again)."""
        entries = self.entries
        for path in paths:
            entry = entries.get(path)
            if entry is not None:
                self._drop(path, entry)

    def recount(self) -> None:
        """`full` again from the fds kept here and by the sharer."""
        self.full = self._count() >= self.budget

    def _count(self) -> int:
        sharer = self.sharer
        return len(self.entries) if sharer is None else len(self.entries) + len(sharer.entries)

    def fds(self) -> dict[str, int]:
        """The kept fds by path."""
        return {path: entry.fd for path, entry in self.entries.items()}

    def read(self, path: str, to_eof: bool = False, anchor: str | None = None) -> bytes:
        """The file's bytes: one read when shorter than the buffer (a seq_file record),
        else (or with `to_eof`, for lists such as net/dev) to its end. `anchor`: a file read
        earlier in this tick whose process this file belongs to (see the module's doc)."""
        entries = self.entries
        entry = entries.get(path)
        if entry is None and self.full:
            return plain_read(path, to_eof)
        if entry is not None and anchor is not None:
            held = entries.get(anchor)
            if held is None or held.stamp != self._tick or held.serial != entry.anchor_serial:
                self._drop(path, entry)
                entry = None
        if entry is not None and entry.links is not None:
            try:
                same = os.fstat(entry.fd).st_nlink == entry.links
            except OSError:
                same = False
            if not same:
                self._drop(path, entry)
                entry = None
        if entry is not None:
            try:
                data = os.pread(entry.fd, READ_BUFFER, 0)
                if len(data) == READ_BUFFER or (to_eof and len(data) > WHOLE_LIST):
                    data = _pread_rest(entry.fd, data, to_eof)
            except OSError as exc:
                self._drop(path, entry)
                if exc.errno not in GONE_ERRNOS:
                    raise
                # Gone (a removed cgroup, a dead task): once again by path (a restarted
                # container's new cgroup at the same path).
            else:
                entry.stamp = self._tick
                return data
        return self._open_and_read(path, to_eof, anchor)

    def read_each(self, paths: Sequence[str], out: list[bytes | None]) -> None:
        """`read(path)` of each path appended to `out`, None for a file gone (GONE_ERRNOS);
        another OSError is raised. A kept file read in one pread is read here inline (the
        hot loop: ~5,000 files a tick at 500 containers; a call to `read` each cost ~0.4 us
        more); anything else (not kept, past the budget, replaced, an error) goes through
        `read` or the plain open/read/close, as before."""
        append = out.append
        entries, tick, full, read = self.entries, self._tick, self.full, self.read
        fstat, pread, size = os.fstat, os.pread, READ_BUFFER
        for path in paths:
            try:
                entry = entries.get(path)
                if entry is not None:
                    try:
                        if entry.links is None or fstat(entry.fd).st_nlink == entry.links:
                            data = pread(entry.fd, size, 0)
                            if len(data) < size:
                                entry.stamp = tick
                                append(data)
                                continue
                    except OSError:
                        pass  # read() tries again, drops the fd and says why
                    append(read(path))
                elif full:
                    append(plain_read(path, False))
                else:
                    append(read(path))
                    full = self.full
            except OSError as exc:
                if exc.errno not in GONE_ERRNOS:
                    raise
                append(None)
                full = self.full

    def _open_and_read(self, path: str, to_eof: bool, anchor: str | None) -> bytes:
        try:
            fd = os.open(path, READ_FLAGS)
        except OSError as exc:
            if exc.errno not in (errno.EMFILE, errno.ENFILE) or not self.entries:
                raise
            # Out of fds: give the kept ones back and keep fewer from now on.
            self.budget = len(self.entries) // 2
            _close_all(self.entries)
            self.full = self.budget <= 0
            fd = os.open(path, READ_FLAGS)
        try:
            data = _read_opened(fd, to_eof)
        except BaseException:
            os.close(fd)
            raise
        held = None
        if anchor is not None:
            held = self.entries.get(anchor)
            if held is None or held.stamp != self._tick:
                os.close(fd)  # its process was not read through a kept fd in this tick
                return data
        if self._count() >= self.budget:
            self.full = True
            os.close(fd)
            return data
        try:
            self._keep(path, fd, held.serial if held is not None else 0)
        except OSError:
            os.close(fd)
        self.full = self._count() >= self.budget
        return data

    def _keep(self, path: str, fd: int, anchor_serial: int) -> None:
        st = os.fstat(fd)
        pseudo = self._devices.get(st.st_dev)
        if pseudo is None:  # a device not seen yet: every mount's, read once more
            self._devices.update(_pseudo_devices())
            pseudo = self._devices.setdefault(st.st_dev, False)
        if self.base and fd < self.base:
            try:
                high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, self.base)
            except OSError:
                high = -1
            if high >= 0:
                os.close(fd)
                fd = high
        self._serial += 1
        entry = _Kept(fd, self._serial, self._tick, None if pseudo else st.st_nlink)
        entry.anchor_serial = anchor_serial
        self.entries[path] = entry

    def _drop(self, path: str, entry: _Kept) -> None:
        del self.entries[path]
        self.full = self._count() >= self.budget
        try:  # noqa: SIM105
            os.close(entry.fd)
        except OSError:
            pass

    def end_tick(self) -> None:
        """Close the files this tick did not read (a container gone, a plan dropped)."""
        tick = self._tick
        stale = [(p, e) for p, e in self.entries.items() if e.stamp != tick]
        for path, entry in stale:
            self._drop(path, entry)
        self._tick = tick + 1

    def close(self) -> None:
        _close_all(self.entries)
        self.full = self.budget <= 0


def _pread_rest(fd: int, data: bytes, to_eof: bool) -> bytes:
    """`data` (read at offset 0) and the rest of the file, to EOF."""
    chunks = [data]
    offset = len(data)
    if not to_eof and offset < READ_BUFFER:
        return data
    while chunk := os.pread(fd, READ_BUFFER, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _pseudo_devices() -> dict[int, bool]:
    """Each mounted device (of this process's mounts): whether it is procfs or cgroupfs."""
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return {}
    result = {}
    for line in lines:
        fields = line.split()
        if "-" not in fields[3:-1]:
            continue  # not a mount line
        major, _, minor = fields[2].partition(":")
        if major.isdigit() and minor.isdigit():
            fstype = fields[fields.index("-", 3) + 1]
            result[os.makedev(int(major), int(minor))] = fstype in _PSEUDO_FILESYSTEMS
    return result
