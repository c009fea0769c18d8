"""Collector.sample(): every process mapped to its container, and each container's cgroup read.

Runtimes only claim cgroup paths and add names; statistics come from cgroupfs and procfs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import chain
from operator import itemgetter
from types import MappingProxyType

from ctop_py import cgroupfs, procfs
from ctop_py.discover import Discovery, read_procs
from ctop_py.host import (
    GONE_ERRNOS,
    Gone,
    HostError,
    HostRoot,
    Malformed,
    NoAccess,
    error_from_oserror,
    read_bytes,
)
from ctop_py.lifecycle import LifecycleTracker
from ctop_py.model import (
    HOST_NAMESPACE,
    CgroupEntry,
    CgroupMode,
    CgroupStats,
    ContainerRaw,
    EngineStatus,
    HostInfo,
    Limits,
    NetCounters,
    Process,
    Psi,
    RawSample,
    SharedNamespace,
    Sharing,
)
from ctop_py.openfiles import KeptFiles, plain_read, plain_read_at
from ctop_py.runtimes import DEFAULT_RUNTIMES, Claim, Meta, Runtime, claim
from ctop_py.runtimes.docker import DockerDiskMeta, EngineClient
from ctop_py.runtimes.engine_events import EngineEventWatcher, EngineInspector
from ctop_py.runtimes.sandbox import group_root, isolating_namespaces, sandbox_id, sandbox_key

# Kernel threads live in the initial namespaces; their parent is kthreadd (pid 2).
KTHREADD = 2


def read_host_info(root: HostRoot, layout: cgroupfs.CgroupLayout) -> HostInfo:
    stat = read_bytes(root.proc / "stat")
    hostname = socket.gethostname()
    if not root.is_real_root:
        with contextlib.suppress(HostError):
            hostname = read_bytes(root.proc / "sys/kernel/hostname").decode().strip()
    return HostInfo(
        hostname=hostname,
        cgroup_version=layout.version,
        cgroup_mode=layout.mode,
        cpus=_count_cpus(stat),
        memory_bytes=procfs.parse_meminfo_total(read_bytes(root.proc / "meminfo")),
        boot_time=procfs.parse_btime(stat),
        clock_ticks=os.sysconf("SC_CLK_TCK"),
        namespaces=host_namespaces(root),
    )


def _count_cpus(stat: bytes) -> int:
    return sum(1 for line in stat.splitlines() if line[:3] == b"cpu" and line[3:4].isdigit()) or 1


def host_namespaces(root: HostRoot) -> dict[str, int]:
    """PID 1's namespaces; kthreadd's (always the initial ones) when PID 1's are unreadable."""
    best: dict[str, int] = {}
    # "self" is only the host's when we run on the host itself, not from a container.
    candidates = ("1", str(KTHREADD), "self") if root.is_real_root else ("1", str(KTHREADD))
    for pid in candidates:
        namespaces = procfs.read_namespaces(root.proc / pid)
        if len(namespaces) > len(best):
            best = namespaces
        if len(best) >= 7:
            break
    return best


# A container's limits read in its first seconds may be the new cgroup's before the runtime
# wrote them: runc puts the init process in the cgroup, then sets the limits (a crash-looping
# container on the systemd v2 guest showed memory.max "max" for 100-200 ms of each start).
# They are read each tick until the init process is this old (_young_limits), then once more.
LIMITS_SETTLE_S = 3.0


def _young_limits(read: Limits, known: Limits | None) -> Limits:
    """A young container's limits: what this read found, and where it found none ("max",
    or a controller's files already gone as its cgroup is removed) a limit found before,
    in this run or the one before a restart (the same configuration). In a cgroup's first
    seconds a limit only goes from none to set (the runtime writes it once), never back."""
    if known is None or known == read:
        return read
    merged = {
        name: value if value is not None else getattr(known, name)
        for name, value in vars(read).items()
    }
    return Limits(**merged)


class _Group:
    """A container's claim and pids in this tick (and its processes, when they were read to
    find it)."""

    __slots__ = ("claim", "pids", "processes")

    def __init__(
        self, claim: Claim, pids: tuple[int, ...], processes: list[Process] | None = None
    ) -> None:
        self.claim, self.pids = claim, pids
        self.processes: Sequence[Process] = () if processes is None else processes


@dataclass
class _Known:
    """What a container keeps between ticks: its init process and how fresh its limits are."""

    init_pid: int
    init_start: int
    namespaces: dict[str, int]
    limits: Limits | None = None
    limits_at: float = float("-inf")
    # The limits were read when the init process was LIMITS_SETTLE_S old or older: the
    # runtime had set them (else they are read again each tick until then, _young_limits).
    settled: bool = False
    init_stat: bytes = b""  # its /proc/PID/stat when last found the same process
    psi: _PsiReading | None = None  # its last PSI reading (the app's sampling only)
    # The bytes of its due files (cgroupfs.due_files) at its last limits read, with the
    # limits and the PSI reading they gave: the same bytes give the same again.
    due: tuple[list[bytes | None], Limits | None, _PsiReading | None] | None = None


class _PsiReading:
    """A container's last PSI reading, kept while a read finds the same values: a container
    not open reads PSI with its limits, every `limits_s`, and its records carry the reading
    between (the same Psi objects, the same CgroupStats for the same counters: the same
    record while nothing changes, across the ticks that read PSI too)."""

    __slots__ = ("bare", "confirmed_ns", "psi", "read_ns", "since_ns", "stats")

    def __init__(self, psi: Mapping[str, Psi], read_ns: int, since_ns: int | None) -> None:
        self.psi, self.read_ns, self.since_ns = psi, read_ns, since_ns
        self.confirmed_ns = read_ns  # the last read that found these values
        # The last stats given this reading: `stats` is `bare` carrying it.
        self.bare: CgroupStats | None = None
        self.stats: CgroupStats | None = None

    def carried_by(self, bare: CgroupStats) -> CgroupStats:
        """`bare` (a brief read: no PSI) with this reading; the same object for the same."""
        if self.bare is not bare or self.stats is None:
            self.bare = bare
            self.stats = replace(
                bare, psi=self.psi, psi_read_ns=self.read_ns, psi_since_ns=self.since_ns
            )
        return self.stats


def _read_again(known: _Known, psi: Mapping[str, Psi], now_ns: int) -> _PsiReading:
    """The container's reading after a PSI read at `now_ns`: the kept one when the values are
    the same (a reading is when its values were first read; the one after it says when these
    were last seen), else a new one."""
    last = known.psi
    if last is not None and last.psi == psi:
        last.confirmed_ns = now_ns
        return last
    known.psi = _PsiReading(psi, now_ns, last.confirmed_ns if last is not None else None)
    return known.psi


class _Plan:
    """What a container read in a tick whose limits were known (its init's stat, its
    cgroup's counter files, its net/dev) and the record those bytes made. The next ticks
    read the same files in one loop (`_read_files`); when every file holds the same bytes
    and the pids, names and init are the same, the record is the same."""

    __slots__ = ("brief", "claim", "datas", "entries", "known", "lists", "meta", "paths",
                 "pids", "record", "records", "until")  # fmt: skip

    def __init__(
        self,
        claim: Claim,
        known: _Known,
        brief: bool,
        until: float,
        records: Sequence[tuple[str, bytes | None]],
        lists: Sequence[tuple[str, bytes | None]],
        pids: tuple[int, ...],
        meta: Meta | None,
        entries: dict[str, cgroupfs.CacheEntry],
        record: ContainerRaw,
    ) -> None:
        self.claim, self.known, self.brief = claim, known, brief
        self.until = until  # its limits are read again then: the files it reads change
        self.records = tuple(path for path, _ in records)  # one read(2) each
        self.lists = tuple(path for path, _ in lists)  # read to EOF (net/dev)
        self.paths = self.records + self.lists
        self.datas: list[bytes | None] = [data for _, data in chain(records, lists)]
        self.pids, self.meta, self.record = pids, meta, record
        self.entries = entries  # the parse-cache entries it used


_NOTHING: Mapping[str, bytes | None] = MappingProxyType({})


def _read_files(
    kept: KeptFiles, records: tuple[str, ...], lists: tuple[str, ...]
) -> list[bytes | None] | None:
    """The bytes of each file (None: gone), through `kept` (pread on fds kept open),
    `records` with one read each when shorter than the buffer (seq_file records), `lists`
    to EOF, each tied to records[0], its init's stat (net/dev answers after its process is
    gone); None when one cannot be read for another reason (the caller then reads them its
    usual way, which reports it)."""
    result: list[bytes | None] = []
    append = result.append
    read = kept.read
    anchor = records[0] if records else None
    try:
        kept.read_each(records, result)
        for path in lists:
            try:
                append(read(path, True, anchor))
            except OSError as exc:
                if exc.errno not in GONE_ERRNOS:
                    raise
                append(None)
    except OSError:
        return None
    return result


def _read_plain(paths: Sequence[str]) -> list[bytes | None] | None:
    """Each file's bytes by open/read/close (None: gone); None when one cannot be read for
    another reason."""
    result: list[bytes | None] = []
    for path in paths:
        try:
            result.append(plain_read(path, False))
        except OSError as exc:
            if exc.errno not in GONE_ERRNOS:
                return None
            result.append(None)
    return result


_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
# Due files are kept open when read at least this often (not by a one-off command that reads
# the limits once: its fds would stay open for nothing).
_KEEP_DUE_UP_TO_S = 60.0


def _read_by_directory(paths: Sequence[str]) -> list[bytes | None] | None:
    """What `_read_plain(paths)` gives, but the paths in one directory one after another (a
    cgroup's due files) opened relative to it, opened once: each open looks up one name, not
    the whole path (a fake v2 root's due files: 4.1 against 3.5 us a file, 1,200 files a
    tick at 500 containers)."""
    result: list[bytes | None] = []
    append = result.append
    dir_fd, opened = -1, None
    try:
        for at, path in enumerate(paths):
            directory, _, name = path.rpartition("/")
            if directory != opened:
                if dir_fd >= 0:
                    os.close(dir_fd)
                    dir_fd = -1
                opened = directory
                following = at + 1 < len(paths) and paths[at + 1].startswith(directory + "/")
                if following and directory:
                    try:
                        dir_fd = os.open(directory, _DIR_FLAGS)
                    except OSError:
                        dir_fd = -1  # each file by its path, as _read_plain: it says why
            try:
                append(plain_read_at(dir_fd, name) if dir_fd >= 0 else plain_read(path, False))
            except OSError as exc:
                if exc.errno not in GONE_ERRNOS:
                    return None
                append(None)
    finally:
        if dir_fd >= 0:
            os.close(dir_fd)
    return result


def _same_due(known: _Known, datas: list[bytes | None], brief: bool) -> bool:
    """The due files hold the bytes its limits (and a brief one's PSI reading) were read
    from, and those are still its limits and reading."""
    due = known.due
    return (
        due is not None
        and due[0] == datas
        and due[1] is known.limits
        and (not brief or (due[2] is not None and due[2] is known.psi))
    )


def default_engines(root: HostRoot) -> list[EngineClient]:
    engines = []
    docker_host = os.environ.get("DOCKER_HOST") if root.is_real_root else None
    docker_sock = root.path("/var/run/docker.sock")
    # A host with Docker's state directory has an engine even while its socket is gone
    # (dockerd stopped): say it is unreachable rather than nothing.
    if docker_host or docker_sock.exists() or root.docker.is_dir():
        engines.append(EngineClient("docker", docker_host or f"unix://{docker_sock}"))
    podman_sock = root.path("/run/podman/podman.sock")
    if podman_sock.exists():
        engines.append(EngineClient("podman", f"unix://{podman_sock}"))
    return engines


def start_watchers(
    engines: Sequence[EngineClient], since: float | None = None
) -> list[EngineEventWatcher]:
    watchers = [EngineEventWatcher(e.runtime, e.base_url, since) for e in engines]
    for engine, watcher in zip(engines, watchers, strict=True):
        engine.follow(watcher)  # names and states from the events, not a list every 5 s
        watcher.start()
    return watchers


def inspectors(engines: Sequence[EngineClient]) -> dict[str, EngineInspector]:
    return {e.runtime: EngineInspector(e.runtime, e.base_url) for e in engines}


class Collector:
    """Samples the host.

    Containers are found from cgroup directories (see discover.py); each tick reads, per
    container, its cgroup.procs, its counters and its init process's net/dev. Limits are read
    again every `limits_s` seconds. Per-process detail (stat, command line) is read only for
    the containers named in `sample(detail=…)` (all of them when detail is None) and for
    namespace sandboxes, which are found by a walk of every process every `rescan_s`.
    """

    def __init__(
        self,
        root: HostRoot | None = None,
        runtimes: Sequence[Runtime] = DEFAULT_RUNTIMES,
        engines: Sequence[EngineClient] | None = None,
        rescan_s: float = 5.0,
        limits_s: float = 5.0,
        watch_engines: bool = False,
        events_since: float | None = None,
    ) -> None:
        self.root = root or HostRoot()
        self.root.check()
        self.runtimes = tuple(runtimes)
        self.layout = cgroupfs.detect_layout(self.root)
        self.host = read_host_info(self.root, self.layout)
        self.engines = list(default_engines(self.root) if engines is None else engines)
        self.disk_meta = DockerDiskMeta(self.root)
        self.process_reader = procfs.ProcessReader(self.root)
        # Files unchanged since the previous tick are not parsed again (idle containers).
        self.parse_cache = cgroupfs.ParseCache()
        self.discovery = Discovery(self.layout, self.runtimes, rescan_s)
        self.rescan_s = rescan_s
        self.limits_s = limits_s
        self._known: dict[tuple[str, str], _Known] = {}
        self._sandboxes: dict[tuple[tuple[str, int], ...], tuple[int, ...]] = {}
        self._last_walk = float("-inf")
        self._sandbox_started: dict[tuple[str, str], int] = {}
        self._said: set[str] = set()
        self._process_claims: dict[int, tuple[tuple[CgroupEntry, ...], Claim | None]] = {}
        self._host_shared: dict[tuple[str, str], _HostShared] = {}
        # Each container's record of the previous tick and what it was made of: an idle
        # container (same stats, net and pids objects) gets the same record back.
        self._records: dict[tuple[str, str], tuple[tuple[object, ...], ContainerRaw]] = {}
        self._plans: dict[tuple[str, str], _Plan] = {}
        # The files read every tick, kept open (pread instead of open/read/close).
        self.kept = KeptFiles()
        # The due files (limits, a brief one's PSI), read every `limits_s`, kept open too
        # when that is often (an open/read/close costs ~11 us a file against ~2 us a pread:
        # a fifth of the collector's time at 100 live on v1), within the same budget: the
        # every-tick files get the room first (`yield_to` after each tick). Closed when not
        # read for a sweep period: every live container reads them within it.
        self.kept_due = self.kept.shared() if limits_s <= _KEEP_DUE_UP_TO_S else KeptFiles(0)
        self._due_sweep_s = 2 * limits_s
        self._due_swept = float("-inf")
        # Each container's due files (cgroupfs.due_files, a function of these two): made
        # once, not at each read; and closed when it is gone.
        self._due_paths: dict[tuple[str, str], tuple[str, bool, tuple[str, ...], int | None]] = {}
        # No namespace is held by two containers, as of the last check (reset by a new entry
        # in _host_shared).
        self._none_shared = False
        self._proc_stat = str(self.root.proc / "stat")
        self._uptime: str | None = str(self.root.proc / "uptime")  # None: it has none
        # This tick's seconds since boot (None: unknown), read when first needed in a tick.
        self._since_boot: float | None = None
        self._since_boot_read = False
        # Engine events and inspect (the story across restarts: restart count, exit codes,
        # OOM kills the kernel did not show): for those who show it (the app, snapshot,
        # diagnose, events, record), not for a one-off `ns` or `net`. Kernel counts always.
        watch = watch_engines
        self.watchers = start_watchers(self.engines, events_since) if watch else []
        self.lifecycle = LifecycleTracker(self.layout, inspectors(self.engines) if watch else None)

    def close(self) -> None:
        self.kept.close()
        self.kept_due.close()
        for engine in self.engines:
            engine.close()
        for watcher in self.watchers:
            watcher.close()
        self.lifecycle.close()

    def sample(self, detail: Collection[str] | None = None, *, brief: bool = False) -> RawSample:
        """One reading of the host. `detail`: ids of the containers whose processes to read
        (None: all). `brief`: the containers not in `detail` get only what the containers
        list, its marks, the events and the diagnosis need (cgroupfs.BRIEF_SET); with
        detail=None it has no effect."""
        monotonic_ns = time.monotonic_ns()
        now = monotonic_ns / 1e9
        wall = time.time()
        notes: set[str] = set()
        self.parse_cache.next_tick()
        try:
            proc_stat = self.kept.read(self._proc_stat, True)
        except OSError:
            proc_stat = read_bytes(self._proc_stat)  # says why, as before
        busy, total = procfs.parse_proc_stat_cpu(proc_stat)
        self._since_boot_read = False
        processes: dict[int, Process] = {}

        def process(pid: int) -> Process | None:
            if pid not in processes:
                try:
                    processes[pid] = self.process_reader.read(pid)
                except (Gone, NoAccess):
                    return None
                except Malformed as exc:
                    notes.add(str(exc))
                    return None
            return processes[pid]

        walk = not self.discovery.available or now - self._last_walk >= self.rescan_s
        if self.discovery.available:
            groups = self._groups(now, [])
            # The walk looks for sandboxes: the containers' own processes are not read again.
            everyone = []
            if walk:
                in_containers = {pid for g in groups.values() for pid in g.pids}
                everyone = self.process_reader.read_all(
                    notes, in_containers, unless_in=isolating_namespaces(self.host.namespaces)
                )
        else:
            everyone = self.process_reader.read_all(notes) if walk else []
            groups = self._groups(now, everyone)
        if walk:
            self._last_walk = now
            self._sandboxes = self._find_sandboxes(everyone)
        engine_events = tuple(e for w in self.watchers for e in w.drain())
        for engine in self.engines:
            engine.apply(engine_events)
        metadata = self._metadata(g.claim for g in groups.values())
        containers = []
        absent = metadata.keys() - groups.keys()  # listed by an engine, no processes
        some_brief = brief and detail is not None
        for key, group in groups.items():
            short = brief and detail is not None and group.claim.id not in detail
            container = self._container(
                key, group, metadata, notes, monotonic_ns, process, short, psi_kept=some_brief
            )
            if container is None:
                if key in metadata:
                    absent.add(key)
                continue
            if detail is None or container.id in detail:
                for pid in container.pids:
                    process(pid)
            containers.append(container)
        containers += self._sandbox_containers(process)
        containers += self._not_running(metadata, absent)
        if not self._none_shared:  # known to be none until a container's namespaces change
            self._none_shared = _all_distinct(self._host_shared)
        if not self._none_shared:
            containers = _mark_shared(containers, self._started, self._host_shared)
        if len(self._host_shared) > len(containers):  # forget the containers that are gone
            here = {(c.runtime, c.id) for c in containers}
            self._host_shared = {k: v for k, v in self._host_shared.items() if k in here}
        containers = self.lifecycle.update(containers, engine_events, wall)
        containers.sort(key=lambda c: (c.name.lower(), c.id))
        if len(self.disk_meta) > len(groups):  # forget the on-disk names of the gone
            self.disk_meta.retain({g.claim.id for g in groups.values()})
        for key in self._known.keys() - groups.keys():
            del self._known[key]
            due_paths = self._due_paths.pop(key, None)
            if due_paths is not None:  # with its PSI files, had it ever read them
                paths = cgroupfs.due_files(self.layout, due_paths[0], psi=True)[0]
                self.kept_due.forget(paths)
            self._records.pop(key, None)
            self._plans.pop(key, None)
        self.kept.end_tick()  # closes the files of containers gone, plans dropped
        if now - self._due_swept >= self._due_sweep_s:
            self.kept_due.end_tick()  # the due files not read since the last sweep
            self._due_swept = now
        if self.kept_due.sharer is not None:
            self.kept_due.yield_to(self.kept)
        # Each reason is reported once per collector, not once per tick.
        new_notes = tuple(sorted(notes - self._said))
        self._said |= notes
        return RawSample(
            monotonic_ns=monotonic_ns,
            time=wall,
            host=self.host,
            containers=tuple(containers),
            processes=tuple(sorted(processes.values(), key=lambda p: p.pid)),
            host_cpu_busy_ticks=busy,
            host_cpu_total_ticks=total,
            engine_status={e.runtime: EngineStatus.from_text(e.status) for e in self.engines},
            notes=new_notes,
            engine_events=engine_events,
        )

    # -- finding containers ----------------------------------------------------------------

    def _groups(self, now: float, everyone: list[Process]) -> dict[tuple[str, str], _Group]:
        if not self.discovery.available:
            return self._groups_from_processes(everyone)
        groups = {}
        cache = self.parse_cache
        # v2's cgroup.procs read through a kept fd (see read_procs: v1's are not).
        kept = self.kept if self.layout.mode is CgroupMode.V2 else None
        for key, found in self.discovery.scan(now).items():
            pids = read_procs(found.dirs, cache, kept)
            if pids:  # an empty cgroup is a container that stopped: the engine lists it
                groups[key] = _Group(found.claim, pids)
        return groups

    def _groups_from_processes(self, everyone: list[Process]) -> dict[tuple[str, str], _Group]:
        """Without a visible cgroup tree: group every process by its claimed cgroup path."""
        claims: dict[tuple[str, str], Claim] = {}
        members: dict[tuple[str, str], list[Process]] = defaultdict(list)
        for p in everyone:
            found = self._claim_process(p)
            if found is not None:
                key = (found.runtime, found.id)
                claims.setdefault(key, found)
                members[key].append(p)
        return {
            key: _Group(claims[key], tuple(p.pid for p in procs), procs)
            for key, procs in members.items()
        }

    def _claim_process(self, p: Process) -> Claim | None:
        # Processes with the same cgroup lines share one parsed tuple (procfs.parse_cgroup):
        # claim each once. The tuple is kept in the entry, so its id cannot be reused.
        entry = self._process_claims.get(id(p.cgroups))
        if entry is not None and entry[0] is p.cgroups:
            return entry[1]
        path = cgroupfs.container_cgroup_path(self.layout, p.cgroups)
        found = claim(path, self.runtimes) if path else None
        if len(self._process_claims) >= 8192:
            self._process_claims.clear()
        self._process_claims[id(p.cgroups)] = (p.cgroups, found)
        return found

    def _find_sandboxes(
        self, everyone: list[Process]
    ) -> dict[tuple[tuple[str, int], ...], tuple[int, ...]]:
        sandboxes: dict[tuple[tuple[str, int], ...], list[int]] = defaultdict(list)
        for p in everyone:
            if p.pid == KTHREADD or p.ppid == KTHREADD or self._claim_process(p) is not None:
                continue
            key = sandbox_key(p, self.host.namespaces)
            if key is not None:
                sandboxes[key].append(p.pid)
        return {k: tuple(v) for k, v in sandboxes.items()}

    # -- names from the engines --------------------------------------------------------------

    def _metadata(self, claims: Iterable[Claim]) -> dict[tuple[str, str], Meta]:
        wanted: dict[str, list[str]] = defaultdict(list)
        for c in claims:
            wanted[c.runtime].append(c.id)
        result: dict[tuple[str, str], Meta] = {}
        for engine in self.engines:
            for cid, meta in engine.metadata(wanted.get(engine.runtime, ())).items():
                result[(engine.runtime, cid)] = meta
        return result

    def _stat_path(self, pid: int) -> str:
        return f"{self._proc_stat[: -len('stat')]}{pid}/stat"

    def _same_init(self, known: _Known, prefetched: Mapping[str, bytes | None]) -> bool:
        """Its init pid still runs the same process: same start time (a reused pid is another
        process, with its own namespaces). One read of /proc/PID/stat (unless prefetched)."""
        path = self._stat_path(known.init_pid)
        try:
            if path in prefetched:
                data = prefetched[path]
            else:
                try:
                    data = self.kept.read(path)
                except OSError as exc:
                    if exc.errno in GONE_ERRNOS:
                        return False
                    raise error_from_oserror(path, exc) from None
            if data is None:
                return False  # gone
            if data == known.init_stat:  # the start time is in these bytes
                return True
            if procfs.parse_stat(data, path).start_ticks != known.init_start:
                return False
        except HostError:
            return False
        known.init_stat = data
        return True

    def _known_for(
        self,
        key: tuple[str, str],
        group: _Group,
        process: Callable[[int], Process | None],
        notes: set[str],
        prefetched: Mapping[str, bytes | None] = MappingProxyType({}),
    ) -> _Known | None:
        known = self._known.get(key)
        if (
            known is not None
            and known.init_pid in group.pids
            and self._same_init(known, prefetched)
        ):
            return known
        members = group.processes or [p for p in map(process, group.pids) if p is not None]
        if not members:
            return None
        init = _init_process(members)
        if not init.namespaces:
            notes.add("namespaces of other users' processes: permission denied (needs root)")
        # A new init process (a restart): its limits read again (not settled), the ones
        # known filling in for none found while it is young (_young_limits).
        limits = known.limits if known else None
        self._known[key] = _Known(init.pid, init.start_ticks, dict(init.namespaces), limits)
        return self._known[key]

    def _read_since_boot(self) -> float | None:
        """Seconds since the host booted, the clock of a process's start time: this
        process's boot clock on the host itself, else the root's /proc/uptime, kept open
        (None when it has none: every process counts as settled)."""
        if self.root.is_real_root:
            return time.clock_gettime(time.CLOCK_BOOTTIME)
        if self._uptime is None:
            return None
        try:
            return float(self.kept.read(self._uptime).split()[0])
        except (OSError, ValueError, IndexError):
            self._uptime = None  # not tried again each tick
            return None

    def _young(self, known: _Known) -> bool:
        """The container's init process started less than LIMITS_SETTLE_S ago."""
        if not self._since_boot_read:
            self._since_boot, self._since_boot_read = self._read_since_boot(), True
        since_boot = self._since_boot
        if since_boot is None:
            return False
        return since_boot - known.init_start / self.host.clock_ticks < LIMITS_SETTLE_S

    def _limits_until(self, known: _Known) -> float:
        """When the container's limits are next due: each tick until a settled read."""
        return known.limits_at + self.limits_s if known.settled else float("-inf")

    def _container(
        self,
        key: tuple[str, str],
        group: _Group,
        metadata: Mapping[tuple[str, str], Meta],
        notes: set[str],
        now_ns: int,
        process: Callable[[int], Process | None],
        brief: bool = False,
        psi_kept: bool = False,
    ) -> ContainerRaw | None:
        """The container's record. `brief`: as sample()'s for a container not open; its PSI
        read with its limits and carried between (`_PsiReading`). `psi_kept`: the app's
        sampling (some containers brief): an open container's PSI is kept too, for when it
        is closed."""
        now = now_ns / 1e9
        c = group.claim
        meta = metadata.get(key)
        if meta is None and c.runtime == "docker":
            meta = self.disk_meta.get(c.id)
        prefetched: dict[str, bytes | None] | None = None
        due: tuple[tuple[str, ...], list[bytes | None]] | None = None
        plan = self._plans.get(key)
        old_known = self._known.get(key)
        if plan is not None:
            if plan.claim is c and plan.brief is brief and plan.known is old_known:
                datas = _read_files(self.kept, plan.records, plan.lists)
                if datas is not None:
                    limits_due = now >= plan.until
                    if limits_due:
                        due = self._due_files(c, brief)
                    if (
                        datas == plan.datas
                        and plan.pids is group.pids
                        and plan.meta is meta
                        and key in self._host_shared
                    ):
                        # Every file holds the bytes it held: the record it made.
                        if not limits_due:
                            self.parse_cache.carry(plan.entries)
                            return plan.record
                        if (
                            due is not None
                            and old_known.settled
                            and _same_due(old_known, due[1], brief)
                        ):
                            # Its limits (and a brief one's PSI) read again, the same bytes:
                            # what the full read finds (the same limits and PSI reading, the
                            # same record), without making it again.
                            old_known.limits_at = now
                            if psi_kept and old_known.psi is not None:
                                old_known.psi.confirmed_ns = now_ns  # as _read_again
                            plan.until = self._limits_until(old_known)
                            self.parse_cache.carry(plan.entries)
                            return plan.record
                    prefetched = dict(zip(plan.paths, datas, strict=True))
                    plan.datas = datas
            if prefetched is None:
                del self._plans[key]
                plan = None
        known = self._known_for(key, group, process, notes, prefetched or _NOTHING)
        if known is None:
            self._plans.pop(key, None)
            return None  # every process exited while we looked
        fresh = known.settled and now - known.limits_at < self.limits_s
        if not fresh:
            if due is None:
                due = self._due_files(c, brief)
            if due is not None:  # the limits and PSI read from these bytes
                prefetched = {**(prefetched or {}), **dict(zip(*due, strict=True))}
        # The same init process: the counter files it reads are read in one loop next tick
        # (a plan, until its limits are due), and its record reused if none changed.
        planning = known is old_known
        reads: list[tuple[str, bytes | None]] | None = [] if planning else None
        cache = self.parse_cache
        cache.log = {} if planning else None
        try:
            stats = cgroupfs.read_cgroup(
                self.layout,
                c.cgroup_path,
                notes,
                c.cgroup_path,
                known_limits=known.limits if fresh else None,
                cache=cache,
                brief=brief,
                prefetched=prefetched,
                reads=reads,
                kept=self.kept,
            )
        except Malformed as exc:
            notes.add(str(exc))
            stats = None
        if stats is not None and not stats.gone and not fresh:
            known.settled = not self._young(known)
            if not known.settled:
                limits = _young_limits(stats.limits, known.limits)
                if limits is not stats.limits:
                    stats = replace(stats, limits=limits)
            read_at = now
            if known.limits is None:
                # Spread the containers' next limit reads over the period rather than have
                # every container found at once re-read its limits in the same tick.
                read_at -= self.limits_s * (zlib.crc32(c.id.encode()) % 1024) / 1024
            known.limits, known.limits_at = stats.limits, read_at
            known.due = None if due is None else (due[1], stats.limits, None)
        if psi_kept and stats is not None and not stats.gone:
            if not brief:
                _read_again(known, stats.psi, now_ns)
            else:
                reading = known.psi
                if reading is None or not fresh:  # with the limits (and a first time)
                    psi = cgroupfs.read_psi(
                        self.layout, c.cgroup_path, notes, c.cgroup_path, prefetched=prefetched
                    )
                    reading = _read_again(known, psi, now_ns)
                    if not fresh and known.due is not None:
                        known.due = (known.due[0], known.due[1], reading)
                stats = reading.carried_by(stats)
        net_read: list[tuple[str, bytes | None]] = []
        net = self._net(known.init_pid, known.namespaces, notes, prefetched, net_read)
        entries, cache.log = cache.log, None
        record = self._record(key, c, meta, known, group.pids, stats, net)
        if entries is None or stats is None or stats.gone or reads is None:
            self._plans.pop(key, None)
        elif plan is not None and not reads and not net_read:
            # Every file came from the plan's read (now plan.datas): the same files.
            plan.pids, plan.meta, plan.entries, plan.record = group.pids, meta, entries, record
            plan.until = self._limits_until(known)
        elif plan is None:
            stat = (self._stat_path(known.init_pid), known.init_stat)
            self._plans[key] = _Plan(
                c, known, brief, self._limits_until(known), (stat, *reads), net_read,
                group.pids, meta, entries, record,
            )  # fmt: skip
        else:  # it read files the plan did not: plan again next tick
            self._plans.pop(key, None)
        return record

    def _due_files(
        self, c: Claim, brief: bool
    ) -> tuple[tuple[str, ...], list[bytes | None]] | None:
        """The container's due files (cgroupfs.due_files: its limits', a brief one's PSI;
        and cpuset.cpus when the effective cpuset is empty or absent, as the limits read
        it) and their bytes (None: absent), read now; None when one cannot be read
        for another reason (the full read then reads and reports it)."""
        key = (c.runtime, c.id)
        made = self._due_paths.get(key)
        if made is None or made[0] != c.cgroup_path or made[1] is not brief:
            paths, cpuset_at = cgroupfs.due_files(self.layout, c.cgroup_path, psi=brief)
            made = self._due_paths[key] = (c.cgroup_path, brief, paths, cpuset_at)
        paths, cpuset_at = made[2], made[3]
        kept = self.kept_due
        datas = _read_by_directory(paths) if kept.full else _read_files(kept, paths, ())
        if datas is not None and cpuset_at is not None and not (datas[cpuset_at] or b"").strip():
            cpuset = cgroupfs.plain_cpuset(paths[cpuset_at])
            more = _read_plain((cpuset,))
            paths, datas = (*paths, cpuset), None if more is None else datas + more
        return None if datas is None else (paths, datas)

    def _record(
        self,
        key: tuple[str, str],
        c: Claim,
        meta: Meta | None,
        known: _Known,
        pids: tuple[int, ...],
        stats: CgroupStats | None,
        net: NetCounters | None,
    ) -> ContainerRaw:
        """The container's record; the previous tick's when made of the same objects."""
        inputs = (c, meta, known, known.init_pid, stats, net, pids)
        last = self._records.get(key)
        if last is not None and key in self._host_shared:
            # The same objects (not equal ones: a changed CgroupStats compared field by field
            # costs more than a new record).
            was = last[0]
            if (
                was[4] is stats
                and was[5] is net
                and was[0] is c
                and was[1] is meta
                and was[2] is known
                and was[3] == known.init_pid
                and was[6] == pids
            ):
                return last[1]
        namespaces = dict(known.namespaces)
        record = ContainerRaw(
            id=c.id,
            runtime=c.runtime,
            name=(meta.name if meta and meta.name else None) or c.name or c.id[:12],
            image=meta.image if meta else None,
            state=meta.state if meta else "running",
            labels={**c.labels, **(meta.labels if meta else {})},
            cgroup_path=c.cgroup_path,
            init_pid=known.init_pid,
            pids=pids,
            namespaces=namespaces,
            shared_namespaces=self._host_entries((c.runtime, c.id), namespaces),
            cgroup=stats,
            net=net,
        )
        self._records[key] = (inputs, record)
        return record

    def _started(self) -> dict[tuple[str, str], int]:
        """When each container's init process started (clock ticks since boot)."""
        started = {k: v.init_start for k, v in self._known.items()}
        started.update(self._sandbox_started)
        return started

    def _host_entries(
        self, key: tuple[str, str], namespaces: Mapping[str, int]
    ) -> Mapping[str, SharedNamespace]:
        """Which of a container's namespaces are the host's: its record's final
        `shared_namespaces` unless it shares another with a container (`_mark_shared` then
        makes a new record). Kept between ticks: they change only with its namespaces."""
        entry = self._host_shared.get(key)
        if entry is None or entry[0] != namespaces:
            host = self.host.namespaces
            host_part = {t: HOST_NAMESPACE for t, i in namespaces.items() if host.get(t) == i}
            non_host = tuple(i for i in namespaces.items() if i[0] not in host_part)
            entry = (namespaces, MappingProxyType(host_part), non_host)
            self._host_shared[key] = entry
            self._none_shared = False
        return entry[1]

    def _sandbox_containers(self, process: Callable[[int], Process | None]) -> list[ContainerRaw]:
        result = []
        for key, pids in self._sandboxes.items():
            members = [p for p in map(process, pids) if p is not None]
            if not members:
                continue
            first = group_root(members)
            self._sandbox_started[("sandbox", sandbox_id(key))] = first.start_ticks
            namespaces = dict(first.namespaces)
            result.append(
                ContainerRaw(
                    id=sandbox_id(key),
                    runtime="sandbox",
                    name=f"{first.comm}[{first.pid}]",
                    image=None,
                    state="running",
                    labels={},
                    cgroup_path=cgroupfs.container_cgroup_path(self.layout, first.cgroups),
                    init_pid=first.pid,
                    pids=tuple(sorted(p.pid for p in members)),
                    namespaces=namespaces,
                    shared_namespaces=self._host_entries(("sandbox", sandbox_id(key)), namespaces),
                    cgroup=None,  # its cgroup is usually shared with host processes
                    net=self._net(first.pid, first.namespaces, set()),
                )
            )
        return result

    def _not_running(
        self, metadata: Mapping[tuple[str, str], Meta], absent: Collection[tuple[str, str]]
    ) -> list[ContainerRaw]:
        """Containers the engine knows that have no processes (exited, created)."""
        return [
            ContainerRaw(
                id=meta.id,
                runtime=meta.runtime,
                name=meta.name or meta.id[:12],
                image=meta.image,
                state="exited" if meta.state == "running" else meta.state,
                labels=dict(meta.labels),
                cgroup_path=None,
                init_pid=None,
                pids=(),
                namespaces={},
                shared_namespaces=_NONE_SHARED,
                cgroup=None,
                net=None,
            )
            for key, meta in metadata.items()
            if key in absent
        ]

    def _net(
        self,
        pid: int,
        namespaces: Mapping[str, int],
        notes: set[str],
        prefetched: Mapping[str, bytes | None] | None = None,
        reads: list[tuple[str, bytes | None]] | None = None,
    ) -> NetCounters | None:
        """The container's network counters from its init's net/dev. `prefetched` and
        `reads` as in cgroupfs.read_cgroup."""
        net_ns = namespaces.get("net")
        if net_ns is None or net_ns == self.host.namespaces.get("net"):
            return None  # unknown, or the host's own network: not the container's traffic
        path = f"{self.process_reader.proc}/{pid}/net/dev"
        try:
            if prefetched is not None and path in prefetched:
                data = prefetched[path]
            else:
                try:
                    data = self.kept.read(path, True, self._stat_path(pid))
                except OSError as exc:
                    if exc.errno not in GONE_ERRNOS:
                        raise error_from_oserror(path, exc) from None
                    data = None
                if reads is not None:
                    reads.append((path, data))
            if data is None:
                return None
            return self.parse_cache.parse(path, data, procfs.parse_net_dev)
        except NoAccess:
            return None
        except Malformed as exc:
            notes.add(str(exc))
            return None


def _init_process(processes: Sequence[Process]) -> Process:
    """The container's first process: pid 1 in its own pid namespace, else the group's root."""
    for process in processes:
        if process.nspid and process.nspid[-1] == 1 and len(process.nspid) > 1:
            return process
    return group_root(processes)


# A container's namespaces, its "host" entries, and its other namespaces' (type, inode).
_HostShared = tuple[Mapping[str, int], Mapping[str, SharedNamespace], tuple[tuple[str, int], ...]]
_NONE_SHARED: Mapping[str, SharedNamespace] = MappingProxyType({})


def _all_distinct(host_entries: Mapping[tuple[str, str], _HostShared]) -> bool:
    """No namespace (other than the host's) is held by two of these containers: in C, over
    every entry kept (a superset of the containers of a tick: each has its entry)."""
    kept = list(chain.from_iterable(map(itemgetter(2), host_entries.values())))
    return len(set(kept)) == len(kept)


def _mark_shared(
    containers: list[ContainerRaw],
    started_of: Callable[[], Mapping[tuple[str, str], int]],
    host_entries: Mapping[tuple[str, str], _HostShared],
) -> list[ContainerRaw]:
    """Say which namespaces are another container's.

    A namespace held by several containers (`--net=container:X`, a pod) belongs to the one
    whose init process started first: X must run before anything can join it, and a pod's
    pause container starts first. The others get "container:<owner>"; the owner gets
    "shared-with:<the others>".

    The containers come with their "host" entries (`Collector._host_entries`, whose
    `host_entries` give each one's other namespaces); the few that share one with another
    container are replaced by a new record, their mapping built once, never changed after.
    `started_of()` gives when each one's init process started; called only then."""
    own = [
        entry[2] if (entry := host_entries.get((c.runtime, c.id))) is not None else ()
        for c in containers
    ]
    flat = list(chain.from_iterable(own))
    if len(set(flat)) == len(flat):
        return containers
    multiple = {item for item, n in Counter(flat).items() if n > 1}
    started = started_of()
    holders: dict[tuple[str, int], list[ContainerRaw]] = defaultdict(list)
    for c in containers:
        for item in c.namespaces.items():
            if item in multiple:
                holders[item].append(c)

    def age(c: ContainerRaw) -> tuple[int, int, str]:
        return (started.get((c.runtime, c.id), 1 << 62), c.init_pid or 0, c.name)

    sharing: dict[int, dict[str, SharedNamespace]] = {}  # id(container) -> its shared ones
    for (ns_type, _), group in holders.items():
        owner = min(group, key=age)
        for c in group:
            if c is owner:
                others = tuple(sorted(o.name for o in group if o is not c))
                value = SharedNamespace(Sharing.OWNER, others)
            else:
                value = SharedNamespace(Sharing.JOINED, (owner.name,))
            sharing.setdefault(id(c), {})[ns_type] = value
    result = list(containers)
    for i, c in enumerate(containers):
        entries = sharing.get(id(c))
        if entries is not None:  # keep the namespaces' order, as one pass over them gives
            host_ones = c.shared_namespaces
            shared = {
                t: found
                for t in c.namespaces
                if (found := host_ones.get(t) or entries.get(t)) is not None
            }
            result[i] = replace(c, shared_namespaces=MappingProxyType(shared))
    return result
