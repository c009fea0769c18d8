"""Readers of cgroupfs: layout detection (v1, hybrid, v2) and one container's limits and usage.

Units are normalised here, once: CPU times to nanoseconds (v1 reports ns, v2 µs), sizes to
bytes, "max"/-1/v1's huge sentinel to None (no limit).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from ctop_py.host import (
    READ_BUFFER,
    READ_FLAGS,
    Gone,
    HostRoot,
    Malformed,
    NoAccess,
    error_from_oserror,
    read_record,
    read_rest,
)
from ctop_py.model import (
    CgroupEntry,
    CgroupMode,
    CgroupStats,
    CpuCounters,
    IoCounters,
    Limits,
    MemoryCounters,
    Psi,
    PsiLine,
)
from ctop_py.openfiles import KeptFiles

# v1 reports "no memory limit" as PAGE_COUNTER_MAX * page size (9223372036854771712 on x86_64);
# anything this large is no limit.
V1_UNLIMITED_THRESHOLD = 1 << 62
PSI_RESOURCES = ("cpu", "memory", "io")


@dataclass(frozen=True)
class CgroupLayout:
    mode: CgroupMode
    unified: Path | None  # where the v2 hierarchy is mounted, if any
    controllers: Mapping[str, Path] = field(default_factory=dict)  # v1 controller -> mount dir

    @property
    def version(self) -> int:
        return 2 if self.mode is CgroupMode.V2 else 1


def detect_layout(root: HostRoot) -> CgroupLayout:
    """Find the hierarchies from the directories under sys/fs/cgroup.

    Directory listing (not /proc/self/mountinfo) so that `--root /host` and fake trees work:
    inside a container our own mountinfo describes the container, not the host.
    """
    base = root.cgroup
    if (base / "cgroup.controllers").exists():
        return CgroupLayout(CgroupMode.V2, base)
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return CgroupLayout(CgroupMode.NONE, None)
    controllers: dict[str, Path] = {}
    unified: Path | None = None
    for name in entries:
        path = base / name
        if not path.is_dir():
            continue
        if name == "unified" and (path / "cgroup.controllers").exists():
            unified = path
            continue
        for controller in name.split(","):
            # `cpu` may be a symlink to `cpu,cpuacct`; the first directory seen wins.
            controllers.setdefault("name=systemd" if controller == "systemd" else controller, path)
    if not controllers:
        return CgroupLayout(CgroupMode.V2 if unified else CgroupMode.NONE, unified)
    return CgroupLayout(CgroupMode.HYBRID if unified else CgroupMode.V1, unified, controllers)


def container_cgroup_path(layout: CgroupLayout, entries: tuple[CgroupEntry, ...]) -> str | None:
    """The path that names a process's container: the v2 path, or a v1 controller's path."""
    by_hierarchy = {c: e.path for e in entries for c in e.controllers}
    if layout.mode is CgroupMode.V2:
        return next((e.path for e in entries if e.hierarchy_id == 0), None)
    for controller in ("memory", "cpu", "pids", "cpuacct", "name=systemd"):
        if controller in by_hierarchy:
            return by_hierarchy[controller]
    return next((e.path for e in entries), None)


# ---------------------------------------------------------------------------------------------
# Pure parsers.


def parse_flat_keyed(data: bytes, path: str = "") -> dict[str, int]:
    """`key value` lines (cpu.stat, memory.stat, memory.events). Unknown keys are kept."""
    # Fast path for what the kernel writes (`key value`, one space), with keys seen before
    # looked up rather than decoded. Anything else (a key not seen yet, odd spacing, blank or
    # broken lines, a bad value) goes to the general parser, which decides and learns keys.
    result = {}
    keys = _KEYS
    try:
        for line in data.splitlines():
            raw, _, value = line.partition(b" ")
            result[keys[raw]] = int(value)
    except (KeyError, ValueError):
        return _parse_flat_keyed_general(data, path)
    return result


# Keys the kernel writes, bytes -> str (a few hundred at most). Only the key of a line that is
# exactly `key value` is learnt, so a key found here is never empty and holds no whitespace.
_KEYS: dict[bytes, str] = {}
_MAX_KEYS = 4096


def _parse_flat_keyed_general(data: bytes, path: str) -> dict[str, int]:
    result = {}
    for line in data.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            value = int(parts[1])
        except ValueError:
            raise Malformed(path, f"non-integer value in {line!r}") from None
        key = parts[0].decode("ascii", "replace")
        result[key] = value
        if len(_KEYS) < _MAX_KEYS and line == parts[0] + b" " + parts[1]:
            _KEYS[parts[0]] = key
    return result


def parse_int_or_max(data: bytes, path: str = "") -> int | None:
    try:
        value = int(data)  # int() ignores the surrounding whitespace, as strip() would
    except ValueError:
        text = data.strip()
        if text == b"max":
            return None
        try:
            value = int(text)
        except ValueError:
            raise Malformed(path, f"expected an integer or 'max', got {text[:40]!r}") from None
    return None if value < 0 or value >= V1_UNLIMITED_THRESHOLD else value


def parse_cpu_max(data: bytes, path: str = "cpu.max") -> tuple[int | None, int | None]:
    """v2 cpu.max: `$MAX $PERIOD`; MAX is `max` for no quota."""
    parts = data.split()
    if not parts or len(parts) > 2:
        raise Malformed(path, f"expected '$MAX $PERIOD', got {data[:40]!r}")
    quota = parse_int_or_max(parts[0], path)
    try:
        period = int(parts[1]) if len(parts) == 2 else None
    except ValueError:
        raise Malformed(path, f"bad period in {data[:40]!r}") from None
    return quota, period


def parse_psi(data: bytes, path: str = "") -> Psi:
    # Fast path for the kernel's exact format; anything else goes to the general parser.
    some = full = None
    for line in data.splitlines():
        parts = line.split()
        if not parts:
            continue
        if (
            len(parts) != 5
            or parts[1][:6] != b"avg10="
            or parts[2][:6] != b"avg60="
            or parts[3][:7] != b"avg300="
            or parts[4][:6] != b"total="
        ):
            return _parse_psi_general(data, path)
        try:
            parsed = PsiLine(
                avg10=float(parts[1][6:]),
                avg60=float(parts[2][6:]),
                avg300=float(parts[3][7:]),
                total_us=int(parts[4][6:]),
            )
        except ValueError:
            return _parse_psi_general(data, path)
        if parts[0] == b"some":
            some = parsed
        elif parts[0] == b"full":
            full = parsed
        else:
            return _parse_psi_general(data, path)
    return Psi(some=some, full=full)


def _parse_psi_general(data: bytes, path: str) -> Psi:
    lines: dict[str, PsiLine] = {}
    for line in data.splitlines():
        parts = line.split()
        if not parts:
            continue
        try:
            values = dict(p.split(b"=", 1) for p in parts[1:])
            lines[parts[0].decode()] = PsiLine(
                avg10=float(values[b"avg10"]),
                avg60=float(values[b"avg60"]),
                avg300=float(values[b"avg300"]),
                total_us=int(values[b"total"]),
            )
        except (KeyError, ValueError) as exc:
            raise Malformed(path, f"unparsable PSI line {line!r}: {exc}") from None
    return Psi(some=lines.get("some"), full=lines.get("full"))


def parse_io_stat(data: bytes, path: str = "io.stat") -> IoCounters:
    """v2 io.stat: `MAJ:MIN rbytes=… wbytes=… …` per device, summed."""
    read = write = 0
    for line in data.splitlines():
        for item in line.split()[1:]:
            key, _, value = item.partition(b"=")
            try:
                if key == b"rbytes":
                    read += int(value)
                elif key == b"wbytes":
                    write += int(value)
            except ValueError:
                raise Malformed(path, f"bad value in {item!r}") from None
    return IoCounters(read, write)


def parse_blkio_bytes(data: bytes, path: str = "blkio") -> IoCounters:
    """v1 blkio.*io_service_bytes*: `MAJ:MIN Op value` lines, then `Total N`; sum Read/Write."""
    read = write = 0
    for line in data.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        try:
            if parts[1] == b"Read":
                read += int(parts[2])
            elif parts[1] == b"Write":
                write += int(parts[2])
        except ValueError:
            raise Malformed(path, f"bad value in {line!r}") from None
    return IoCounters(read, write)


def used_memory(current: int | None, stat: Mapping[str, int]) -> int | None:
    """The figure `docker stats` prints: usage minus inactive file pages (docker/cli
    calculateMemUsageUnixNoCache: v1 `total_inactive_file`, v2 `inactive_file`)."""
    if current is None:
        return None
    inactive = stat.get("total_inactive_file")
    if inactive is not None and inactive < current:
        return current - inactive
    inactive = stat.get("inactive_file")
    if inactive is not None and inactive < current:
        return current - inactive
    return current


# ---------------------------------------------------------------------------------------------
# Reading one container's cgroup.
#
# This runs for every container on every tick, so it works on str paths (pathlib costs more
# than the read itself) and reads each file with one read(2) when it is shorter than the
# buffer: every cgroup file but cgroup.procs is one seq_file record, which the kernel returns
# whole, so a short read is its end (as it is for a regular file in a fake root).

_BUFFER = READ_BUFFER
_O_FLAGS = READ_FLAGS
# A cgroup file is one seq_file record (cgroup.procs, a list, is read elsewhere).
read_cgroup_file = read_record


T = TypeVar("T")
_WHOLE = object()  # marks a ParseCache entry that holds a whole cgroup's stats
CacheEntry = tuple[object, object, Any]  # (bytes read, parser or _WHOLE, what they made)


class ParseCache:
    """What each file parsed to on the previous tick, by path: a file whose bytes did not
    change is not parsed again, and a cgroup none of whose files changed gets its previous
    CgroupStats back (an idle container's counters, PSI and memory.stat mostly stay the same
    from one second to the next). Parsed values are immutable or treated as such (a
    memory.stat dict is shared by consecutive samples; nothing mutates a sample).

    Call `next_tick()` once per tick: entries not used during a tick are then dropped, so
    removed containers do not stay in memory."""

    __slots__ = ("current", "hits", "log", "misses", "previous")

    def __init__(self) -> None:
        self.previous: dict[str, CacheEntry] = {}
        self.current: dict[str, CacheEntry] = {}
        self.hits = self.misses = 0
        # When set, every entry used is also put here: what one container used in a tick,
        # to `carry` into a later tick in which that container's files are all the same.
        self.log: dict[str, CacheEntry] | None = None

    def carry(self, entries: Mapping[str, CacheEntry]) -> None:
        """Keep these entries (logged in an earlier tick, their files unchanged since) for
        the next tick, as if they had been used in this one."""
        self.current.update(entries)

    def next_tick(self) -> None:
        self.previous, self.current = self.current, {}

    def clear(self) -> None:
        self.previous.clear()
        self.current.clear()

    def parse(self, path: str, data: bytes, parser: Callable[[bytes, str], T]) -> T:
        entry = self.previous.get(path)
        if entry is not None and entry[1] is parser and entry[0] == data:
            self.hits += 1
        else:
            self.misses += 1
            entry = (data, parser, parser(data, path))
        self.current[path] = entry
        if self.log is not None:
            self.log[path] = entry
        return entry[2]

    def reuse(self, key: str, raw: tuple[bytes | None, ...], limits: Limits) -> CgroupStats | None:
        """The previous tick's stats of this cgroup if it read the same bytes with the same
        limits (limits read again and found equal count as the same: the stats keep the
        previous Limits object, which the caller then keeps too)."""
        entry = self.previous.get(key)
        if entry is not None and entry[1] is _WHOLE and entry[0] == raw:
            stats: CgroupStats = entry[2]
            if stats.limits is limits or stats.limits == limits:
                self.current[key] = entry
                if self.log is not None:
                    self.log[key] = entry
                return stats
        return None

    def keep(self, key: str, raw: tuple[bytes | None, ...], stats: CgroupStats) -> None:
        entry = self.current[key] = (raw, _WHOLE, stats)
        if self.log is not None:
            self.log[key] = entry


def _parse(
    data: bytes, path: str, parser: Callable[[bytes, str], T], cache: ParseCache | None
) -> T:
    return parser(data, path) if cache is None else cache.parse(path, data, parser)


class _Files:
    """Reads files of one cgroup; absent files are None, denied ones are noted once.

    `prefetched`: files already read in this tick (path -> bytes, None when absent), used
    instead of reading them again. `reads`: gets (path, bytes) of every file read here (not
    the prefetched ones), in order. `kept`: many() reads through these kept-open files."""

    __slots__ = ("any_read", "cache", "kept", "notes", "prefetched", "reads")

    def __init__(
        self,
        notes: set[str],
        cache: ParseCache | None = None,
        prefetched: Mapping[str, bytes | None] | None = None,
        reads: list[tuple[str, bytes | None]] | None = None,
        kept: KeptFiles | None = None,
    ) -> None:
        self.kept = kept
        self.notes = notes
        self.any_read = False
        self.cache = cache
        self.prefetched = prefetched
        self.reads = reads

    def get(self, path: str) -> bytes | None:
        if self.prefetched is not None and path in self.prefetched:
            data = self.prefetched[path]
            self.any_read = self.any_read or data is not None
            return data
        try:
            data = read_cgroup_file(path)
        except Gone:
            data = None
        except NoAccess:
            self.notes.add(f"{os.path.basename(path)}: permission denied (needs root)")
            data = None
        if self.reads is not None:
            self.reads.append((path, data))
        self.any_read = self.any_read or data is not None
        return data

    def many(
        self, directory: str | None, names: tuple[str | None, ...]
    ) -> tuple[bytes | None, ...]:
        """get() of each `directory + name` (names start with "/"), in order; None for a name
        that is None (not wanted), and all None when directory is None. One loop with the
        reads inline: this is the hot path."""
        if directory is None:
            return (None,) * len(names)
        result: list[bytes | None] = []
        append = result.append
        o_open, o_read, o_close = os.open, os.read, os.close
        prefetched, reads = self.prefetched, self.reads
        kept = self.kept
        kept_entries = {} if kept is None else kept.entries
        for name in names:
            if name is None:
                append(None)
                continue
            path = directory + name
            if prefetched is not None and path in prefetched:
                data: bytes | None = prefetched[path]
                append(data)
                if data is not None:
                    self.any_read = True
                continue
            try:
                # Past the budget (kept.full), a file not kept is read inline as before.
                if kept is not None and (path in kept_entries or not kept.full):
                    data = kept.read(path)
                else:
                    fd = o_open(path, _O_FLAGS)
                    try:
                        data = o_read(fd, _BUFFER)
                        if len(data) == _BUFFER:
                            data = read_rest(fd, [data])
                    finally:
                        o_close(fd)
            except OSError as exc:
                error = error_from_oserror(path, exc)
                if isinstance(error, NoAccess):
                    self.notes.add(f"{name[1:]}: permission denied (needs root)")
                elif not isinstance(error, Gone):
                    raise error from None
                data = None
            append(data)
            if reads is not None:
                reads.append((path, data))
            if data is not None:
                self.any_read = True
        return tuple(result)

    def number(self, path: str) -> int | None:
        data = self.get(path)
        return None if data is None else parse_int_or_max(data, path)

    def text(self, path: str) -> str | None:
        data = self.get(path)
        return None if data is None else data.decode("ascii", "replace").strip() or None

    def keyed_of(self, data: bytes | None, path: str) -> dict[str, int]:
        return {} if data is None else _parse(data, path, parse_flat_keyed, self.cache)


def _without_reads(files: _Files, read: Callable[[], T]) -> T:
    """Limits, their files left out of `files.reads` (which lists
    the files a tick reads every tick: a plan's files) and not kept open."""
    reads, files.reads = files.reads, None
    kept, files.kept = files.kept, None
    try:
        return read()
    finally:
        files.reads = reads
        files.kept = kept


def _number(data: bytes | None, path: str) -> int | None:
    return None if data is None else parse_int_or_max(data, path)


def _psi_of(
    files: _Files, directory: str | None, datas: tuple[bytes | None, ...]
) -> dict[str, Psi]:
    """PSI from the bytes of cpu.pressure, memory.pressure and io.pressure."""
    result: dict[str, Psi] = {}
    if directory is None:
        return result
    for resource, data in zip(PSI_RESOURCES, datas, strict=True):
        if not data:
            continue
        try:
            result[resource] = _parse(
                data, f"{directory}/{resource}.pressure", parse_psi, files.cache
            )
        except Malformed:
            files.notes.add(f"{resource}.pressure: unparsable")
    return result


_PSI_NAMES = tuple(f"/{resource}.pressure" for resource in PSI_RESOURCES)


def _join(base: Path, cgroup_path: str) -> Path:
    return base / cgroup_path.lstrip("/")


@functools.lru_cache(maxsize=16384)
def _dir(base: Path, cgroup_path: str) -> str:
    """str(_join(base, cgroup_path)), remembered: the same few thousand paths every tick.
    A plain path ("/docker/<id>") is joined as text: pathlib's join costs several µs, and a
    v1 container's first sample (each of `snapshot`'s) joins seven."""
    rest = cgroup_path.lstrip("/")
    if rest and "" not in (parts := rest.split("/")) and "." not in parts:
        head = str(base)
        return f"{head}/{rest}" if head != "/" else f"/{rest}"
    return str(_join(base, cgroup_path))


_V2_LIMIT_NAMES = (
    "/cpu.max",
    "/cpu.weight",
    "/cpuset.cpus.effective",
    "/cpuset.mems.effective",
    "/memory.max",
    "/memory.high",
    "/memory.low",
    "/memory.swap.max",
    "/pids.max",
)


_DUE_WITH_PSI = _V2_LIMIT_NAMES + _PSI_NAMES
# due_files' cpuset.cpus.effective (an empty one has read_cgroup read cpuset.cpus too).
DUE_CPUSET = _V2_LIMIT_NAMES.index("/cpuset.cpus.effective")


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("ascii", "replace").strip() or None


def _limits_v2(files: _Files, directory: str) -> Limits:
    d = directory
    cpu_max, weight, cpus, mems, mem_max, high, low, swap_max, pids_max = files.many(
        d, _V2_LIMIT_NAMES
    )
    quota, period = (None, None)
    if cpu_max is not None:
        quota, period = parse_cpu_max(cpu_max, d + "/cpu.max")
    return Limits(
        cpu_quota_us=quota,
        cpu_period_us=period,
        cpu_weight=_number(weight, d + "/cpu.weight"),
        cpuset_cpus=_text(cpus) or files.text(d + "/cpuset.cpus"),
        cpuset_mems=_text(mems),
        memory_max_bytes=_number(mem_max, d + "/memory.max"),
        memory_high_bytes=_number(high, d + "/memory.high"),
        memory_low_bytes=_number(low, d + "/memory.low") or None,
        swap_max_bytes=_number(swap_max, d + "/memory.swap.max"),
        pids_max=_number(pids_max, d + "/pids.max"),
    )


F = TypeVar("F")  # a file set holds names (str | None) or their contents (bytes | None)


class _V2Files(NamedTuple, Generic[F]):
    """The counter files read every tick: a file's name and its bytes go by the same field,
    so a name list cannot be reordered against the code that reads it."""

    cpu_stat: F
    memory_stat: F
    memory_current: F
    memory_peak: F
    memory_swap_current: F
    memory_events: F
    io_stat: F
    pids_current: F
    cpu_pressure: F
    memory_pressure: F
    io_pressure: F
    pids_events: F  # forks refused at pids.max (issue 14)


_V2_NAMES: _V2Files[str | None] = _V2Files(
    "/cpu.stat",
    "/memory.stat",
    "/memory.current",
    "/memory.peak",
    "/memory.swap.current",
    "/memory.events",
    "/io.stat",
    "/pids.current",
    "/cpu.pressure",
    "/memory.pressure",
    "/io.pressure",
    "/pids.events",
)
# Brief: what the containers of the list need when they are not open (see BRIEF_SET): the
# table's counters, the marks' (memory.events: oom_kill, high, max; pids.events), the peak
# (the OOM finding's "peak seen"); no swap, no PSI (the collector reads it with the limits,
# every `limits_s`: read_psi).
_V2_BRIEF = _V2_NAMES._replace(
    memory_swap_current=None,
    cpu_pressure=None,
    memory_pressure=None,
    io_pressure=None,
)


def read_v2(
    files: _Files,
    directory: str | Path,
    cgroup_path: str,
    known_limits: Limits | None = None,
    brief: bool = False,
) -> CgroupStats:
    d = str(directory)
    limits = known_limits or _without_reads(files, lambda: _limits_v2(files, d))
    raw: _V2Files[bytes | None] = _V2Files._make(files.many(d, _V2_BRIEF if brief else _V2_NAMES))
    cache = files.cache
    if cache is not None:
        reused = cache.reuse(d, raw, limits)
        if reused is not None:
            return reused
    mem_stat = files.keyed_of(raw.memory_stat, d + "/memory.stat")
    current = _number(raw.memory_current, d + "/memory.current")
    cpu_d, io_d = raw.cpu_stat, raw.io_stat
    stats = CgroupStats(
        version=2,
        path=cgroup_path,
        limits=limits,
        cpu=CpuCounters() if cpu_d is None else _parse(cpu_d, d + "/cpu.stat", _cpu_v2, cache),
        memory=MemoryCounters(
            current_bytes=current,
            used_bytes=used_memory(current, mem_stat),
            peak_bytes=_number(raw.memory_peak, d + "/memory.peak"),
            swap_current_bytes=_number(raw.memory_swap_current, d + "/memory.swap.current"),
            stat=mem_stat,
            events=files.keyed_of(raw.memory_events, d + "/memory.events"),
        ),
        io=IoCounters() if io_d is None else _parse(io_d, d + "/io.stat", parse_io_stat, cache),
        pids_current=_number(raw.pids_current, d + "/pids.current"),
        psi=_psi_of(files, d, (raw.cpu_pressure, raw.memory_pressure, raw.io_pressure)),
        pids_events=files.keyed_of(raw.pids_events, d + "/pids.events"),
    )
    if cache is not None:
        cache.keep(d, raw, stats)
    return stats


def _cpu_v2(data: bytes, path: str) -> CpuCounters:
    """v2 cpu.stat: µs counters to ns."""
    cpu_stat = parse_flat_keyed(data, path)
    get = cpu_stat.get
    usage, user, system, throttled = (
        get("usage_usec"),
        get("user_usec"),
        get("system_usec"),
        get("throttled_usec"),
    )
    return CpuCounters(
        usage_ns=None if usage is None else usage * 1000,
        user_ns=None if user is None else user * 1000,
        system_ns=None if system is None else system * 1000,
        nr_periods=get("nr_periods"),
        nr_throttled=get("nr_throttled"),
        throttled_ns=None if throttled is None else throttled * 1000,
    )


def _v1_dir(layout: CgroupLayout, controller: str, cgroup_path: str) -> str | None:
    mount = layout.controllers.get(controller)
    return None if mount is None else _dir(mount, cgroup_path)


def _limits_v1(files: _Files, layout: CgroupLayout, cgroup_path: str) -> Limits:
    cpu_dir = _v1_dir(layout, "cpu", cgroup_path)
    mem_dir = _v1_dir(layout, "memory", cgroup_path)
    pids_dir = _v1_dir(layout, "pids", cgroup_path)
    cpuset_dir = _v1_dir(layout, "cpuset", cgroup_path)
    quota = period = shares = memory_max = swap_max = None
    if cpu_dir is not None:
        quota = files.number(cpu_dir + "/cpu.cfs_quota_us")
        period = files.number(cpu_dir + "/cpu.cfs_period_us")
        shares = files.number(cpu_dir + "/cpu.shares")
    if mem_dir is not None:
        memory_max = files.number(mem_dir + "/memory.limit_in_bytes")
        memsw_limit = files.number(mem_dir + "/memory.memsw.limit_in_bytes")
        # v1 memsw is memory+swap; report swap alone, as v2 does.
        if memsw_limit is not None and memory_max is not None:
            swap_max = max(memsw_limit - memory_max, 0)
    cpuset_cpus = cpuset_mems = None
    if cpuset_dir is not None:
        cpuset_cpus = files.text(cpuset_dir + "/cpuset.effective_cpus") or files.text(
            cpuset_dir + "/cpuset.cpus"
        )
        cpuset_mems = files.text(cpuset_dir + "/cpuset.mems")
    return Limits(
        cpu_quota_us=quota,
        cpu_period_us=period,
        cpu_shares=shares,
        cpuset_cpus=cpuset_cpus,
        cpuset_mems=cpuset_mems,
        memory_max_bytes=memory_max,
        swap_max_bytes=swap_max,
        pids_max=files.number(pids_dir + "/pids.max") if pids_dir else None,
    )


BLKIO_FILES = (
    "blkio.throttle.io_service_bytes_recursive",
    "blkio.throttle.io_service_bytes",
    "blkio.io_service_bytes_recursive",
)


class _AcctFiles(NamedTuple, Generic[F]):
    usage: F
    usage_user: F
    usage_sys: F


class _MemV1Files(NamedTuple, Generic[F]):
    stat: F
    usage_in_bytes: F
    memsw_usage_in_bytes: F
    oom_control: F
    failcnt: F
    max_usage_in_bytes: F


class _PsiFiles(NamedTuple, Generic[F]):
    cpu: F
    memory: F
    io: F


_ACCT_NAMES: _AcctFiles[str | None] = _AcctFiles(
    "/cpuacct.usage", "/cpuacct.usage_user", "/cpuacct.usage_sys"
)
_MEM_V1_NAMES: _MemV1Files[str | None] = _MemV1Files(
    "/memory.stat",
    "/memory.usage_in_bytes",
    "/memory.memsw.usage_in_bytes",
    "/memory.oom_control",
    "/memory.failcnt",
    "/memory.max_usage_in_bytes",
)
_PSI_FILE_NAMES: _PsiFiles[str | None] = _PsiFiles(*_PSI_NAMES)

# Brief (see BRIEF_SET): no user/system split, no swap; the marks' oom_control and failcnt
# (the latter only under a memory limit: the kernel counts a failed charge in the cgroup
# whose limit failed it, so without a limit of its own a cgroup's failcnt stays put), the
# peak; no PSI (see read_psi).
_ACCT_BRIEF = _ACCT_NAMES._replace(usage_user=None, usage_sys=None)
_MEM_V1_BRIEF = _MEM_V1_NAMES._replace(memsw_usage_in_bytes=None)
_MEM_V1_BRIEF_NO_LIMIT = _MEM_V1_BRIEF._replace(failcnt=None)
_NO_PSI: _PsiFiles[str | None] = _PsiFiles(None, None, None)


def read_v1(
    files: _Files,
    layout: CgroupLayout,
    cgroup_path: str,
    unified_path: str | None,
    known_limits: Limits | None = None,
    brief: bool = False,
) -> CgroupStats:
    cpu_dir = _v1_dir(layout, "cpu", cgroup_path)
    acct_dir = _v1_dir(layout, "cpuacct", cgroup_path)
    mem_dir = _v1_dir(layout, "memory", cgroup_path)
    pids_dir = _v1_dir(layout, "pids", cgroup_path)
    blkio_dir = _v1_dir(layout, "blkio", cgroup_path)
    limits = known_limits or _without_reads(files, lambda: _limits_v1(files, layout, cgroup_path))
    # Hybrid hosts keep PSI per cgroup in the unified hierarchy even with no v2 controllers.
    psi_dir = None
    if layout.unified is not None and unified_path is not None:
        psi_dir = _dir(layout.unified, unified_path)

    (cpu_d,) = files.many(cpu_dir, ("/cpu.stat",))
    acct: _AcctFiles[bytes | None] = _AcctFiles._make(
        files.many(acct_dir, _ACCT_BRIEF if brief else _ACCT_NAMES)
    )
    mem_names = _MEM_V1_NAMES
    if brief:
        limited = limits.memory_max_bytes is not None
        mem_names = _MEM_V1_BRIEF if limited else _MEM_V1_BRIEF_NO_LIMIT
    mem: _MemV1Files[bytes | None] = _MemV1Files._make(files.many(mem_dir, mem_names))
    blkio_name = None
    blkio_d = None
    if blkio_dir is not None:
        for name in BLKIO_FILES:
            (blkio_d,) = files.many(blkio_dir, ("/" + name,))
            if blkio_d is not None:
                blkio_name = name
                break
    pids_d, pids_events_d = files.many(pids_dir, ("/pids.current", "/pids.events"))
    psi_d = files.many(psi_dir, _NO_PSI if brief else _PSI_FILE_NAMES)
    psi: _PsiFiles[bytes | None] = _PsiFiles._make(psi_d)
    raw = (cpu_d, *acct, *mem, blkio_d, pids_d, pids_events_d, *psi)  # what the cache compares
    cache = files.cache
    key = f"v1:{cgroup_path}:{unified_path}"
    if cache is not None:
        reused = cache.reuse(key, raw, limits)
        if reused is not None:
            return reused
    cpu_stat = files.keyed_of(cpu_d, f"{cpu_dir}/cpu.stat")
    memory = MemoryCounters()
    if mem_dir is not None:
        mem_stat = files.keyed_of(mem.stat, mem_dir + "/memory.stat")
        current = _number(mem.usage_in_bytes, mem_dir + "/memory.usage_in_bytes")
        memsw_usage = _number(mem.memsw_usage_in_bytes, mem_dir + "/memory.memsw.usage_in_bytes")
        events = {}
        oom_control = files.keyed_of(mem.oom_control, mem_dir + "/memory.oom_control")
        if "oom_kill" in oom_control:
            events["oom_kill"] = oom_control["oom_kill"]
        failcnt = _number(mem.failcnt, mem_dir + "/memory.failcnt")
        if failcnt is not None:
            events["max"] = failcnt  # times usage hit the limit, like v2's `max` event
        memory = MemoryCounters(
            current_bytes=current,
            used_bytes=used_memory(current, mem_stat),
            peak_bytes=_number(mem.max_usage_in_bytes, mem_dir + "/memory.max_usage_in_bytes"),
            swap_current_bytes=(
                memsw_usage - current
                if memsw_usage is not None and current is not None and memsw_usage >= current
                else None
            ),
            stat=mem_stat,
            events=events,
        )
    io = IoCounters()
    if blkio_d is not None:
        path = f"{blkio_dir}/{blkio_name}"
        io = _parse(blkio_d, path, parse_blkio_bytes, cache)

    stats = CgroupStats(
        version=1,
        path=cgroup_path,
        limits=limits,
        cpu=CpuCounters(
            usage_ns=_number(acct.usage, f"{acct_dir}/cpuacct.usage"),
            user_ns=_number(acct.usage_user, f"{acct_dir}/cpuacct.usage_user"),
            system_ns=_number(acct.usage_sys, f"{acct_dir}/cpuacct.usage_sys"),
            nr_periods=cpu_stat.get("nr_periods"),
            nr_throttled=cpu_stat.get("nr_throttled"),
            throttled_ns=cpu_stat.get("throttled_time"),
        ),
        memory=memory,
        io=io,
        pids_current=_number(pids_d, f"{pids_dir}/pids.current"),
        psi=_psi_of(files, psi_dir, psi),
        pids_events=files.keyed_of(pids_events_d, f"{pids_dir}/pids.events"),
    )
    if cache is not None:
        cache.keep(key, raw, stats)
    return stats


BRIEF_SET = """\
The brief set: what each consumer of a live sample needs of a container that is not open
(the app samples those with brief=True; the open ones, the CLI's commands and the exporter
read everything). Per container and tick, besides its init's /proc/PID/stat and net/dev:

  file (v1 | v2)                              read by
  cpuacct.usage | cpu.stat usage_usec         CPU %, CPU HIST, %CPU/Q; restart detection
  cpu.stat nr_periods, nr_throttled,          THR %, throttle-start/-end events, the
    throttled time                              cpu-throttled finding
  memory.usage_in_bytes | memory.current,     MEM/LIMIT, %MEM/L ("used": usage minus
    memory.stat inactive_file                   inactive_file, as `docker stats`)
  memory.oom_control | memory.events          the OOM mark (STATE "OOM×n", the name and memory
    oom_kill                                    in red), oom-kill events, the lifecycle's OOM
                                                count, the oom-killed finding
  memory.failcnt (only under a memory         memory-max events (v1: a failed charge counts
    limit) | memory.events max, high            in the cgroup whose limit failed it), v2's
                                                memory-high events and finding
  memory.max_usage_in_bytes | memory.peak     the oom-killed finding's "peak seen", the
                                                lifecycle's peak
  blkio.*io_service_bytes* | io.stat          IO R/W
  pids.current, pids.events max               PIDS/MAX, pids-max events, the pids-limit finding
  {cpu,memory,io}.pressure (v2, and v1's      the pressure findings (and memory-high's
    unified hierarchy)                          pressure figure): read with the limits, every
                                                limits_s, not every tick (read_psi); the record
                                                carries the last reading and when it was read
                                                (diagnose takes the readings in its window)
  limits (every limits_s)                     %CPU/Q, %MEM/L, PIDS/MAX, the findings

Left out: v1's cpuacct.usage_user / usage_sys (the user/system split), swap (v1
memory.memsw.usage_in_bytes, v2 memory.swap.current) and a fresh PSI reading every tick: the
container screen shows them, and it opens the container (full from the next tick). The
scroll-back ring (`W`) keeps the samples as read: a container that was not open then shows
"–" for those in a replay, as it does for its processes.
"""


def read_cgroup(
    layout: CgroupLayout,
    cgroup_path: str,
    notes: set[str],
    unified_path: str | None = None,
    known_limits: Limits | None = None,
    cache: ParseCache | None = None,
    brief: bool = False,
    *,
    prefetched: Mapping[str, bytes | None] | None = None,
    reads: list[tuple[str, bytes | None]] | None = None,
    kept: KeptFiles | None = None,
) -> CgroupStats:
    """Limits and usage of one cgroup. A cgroup removed mid-read comes back with gone=True.
    With `known_limits`, the limit files are not read again (limits change rarely); with a
    `cache`, files unchanged since the previous tick are not parsed again. `brief`: what a
    container that is not open needs (BRIEF_SET says which consumer reads what); v1's
    user/system CPU split, swap and PSI are left out (None, None, empty: the collector reads
    PSI with `read_psi` when it reads the limits). `prefetched`: files already
    read in this tick (path -> bytes, None when absent), not read again; `reads`: gets the
    (path, bytes) of every file this call read (not the prefetched ones), in order; `kept`:
    the counter files are read through these kept-open files (not the limits)."""
    files = _Files(notes, cache, prefetched, reads, kept)
    if layout.mode is CgroupMode.V2 and layout.unified is not None:
        directory = _dir(layout.unified, cgroup_path)
        stats = read_v2(files, directory, cgroup_path, known_limits, brief)
    else:
        stats = read_v1(files, layout, cgroup_path, unified_path, known_limits, brief)
    if not files.any_read:
        return CgroupStats(
            version=stats.version,
            path=cgroup_path,
            limits=Limits(),
            cpu=CpuCounters(),
            memory=MemoryCounters(),
            io=IoCounters(),
            pids_current=None,
            psi={},
            gone=True,
        )
    return stats


def due_files(
    layout: CgroupLayout, cgroup_path: str, psi: bool
) -> tuple[tuple[str, ...], int | None]:
    """The files a cgroup's limits are read from (read_cgroup without `known_limits`), then
    with `psi` its PSI files (read_psi): what a container reads when its limits are due; and
    the index of its effective cpuset file (an empty or absent one has the limits read the
    plain cpuset file too, `plain_cpuset`; None: no cpuset controller)."""
    if layout.mode is CgroupMode.V2 and layout.unified is not None:
        d = _dir(layout.unified, cgroup_path)
        names = _DUE_WITH_PSI if psi else _V2_LIMIT_NAMES
        return tuple(d + name for name in names), DUE_CPUSET
    # v1: _limits_v1's files, of the controllers mounted, in its order.
    paths: list[str] = []
    cpuset_at = None
    for controller, names in _V1_LIMIT_NAMES:
        directory = _v1_dir(layout, controller, cgroup_path)
        if directory is None:
            continue
        if controller == "cpuset":
            cpuset_at = len(paths)
        paths += (directory + name for name in names)
    if psi and layout.unified is not None:
        psi_dir = _dir(layout.unified, cgroup_path)
        paths += (psi_dir + name for name in _PSI_NAMES)
    return tuple(paths), cpuset_at


def plain_cpuset(effective: str) -> str:
    """The cpuset.cpus beside a cpuset.cpus.effective (v2) or cpuset.effective_cpus (v1)."""
    head, _, name = effective.rpartition("/")
    return (
        f"{head}/cpuset.cpus"
        if name in ("cpuset.cpus.effective", "cpuset.effective_cpus")
        else effective
    )


# The files _limits_v1 reads, by controller (cpuset.cpus only when cpuset.effective_cpus
# is empty or absent: due_files' caller reads it then).
_V1_LIMIT_NAMES = (
    ("cpu", ("/cpu.cfs_quota_us", "/cpu.cfs_period_us", "/cpu.shares")),
    ("memory", ("/memory.limit_in_bytes", "/memory.memsw.limit_in_bytes")),
    ("cpuset", ("/cpuset.effective_cpus", "/cpuset.mems")),
    ("pids", ("/pids.max",)),
)


def read_psi(
    layout: CgroupLayout,
    cgroup_path: str,
    notes: set[str],
    unified_path: str | None = None,
    cache: ParseCache | None = None,
    prefetched: Mapping[str, bytes | None] | None = None,
) -> dict[str, Psi]:
    """A cgroup's PSI alone (v2, or v1's unified hierarchy at `unified_path`): what a brief
    read_cgroup leaves out, read every few seconds rather than every tick. `prefetched` as
    read_cgroup's."""
    files = _Files(notes, cache, prefetched)
    if layout.mode is CgroupMode.V2 and layout.unified is not None:
        directory: str | None = _dir(layout.unified, cgroup_path)
    elif layout.unified is not None and unified_path is not None:
        directory = _dir(layout.unified, unified_path)
    else:
        return {}
    return _psi_of(files, directory, files.many(directory, _PSI_NAMES))
