"""Readers of /proc: pure parsers (bytes -> records) and thin readers through HostRoot."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ctop_py.host import (
    READ_BUFFER,
    Gone,
    HostError,
    HostRoot,
    Malformed,
    NoAccess,
    read_bytes,
    read_record,
)
from ctop_py.model import NAMESPACE_TYPES, CgroupEntry, NetCounters, Process


@dataclass(frozen=True)
class StatFields:
    """The fields of /proc/PID/stat that ctop-py uses."""

    comm: str
    state: str
    ppid: int
    utime: int
    stime: int
    threads: int
    start_ticks: int
    rss_pages: int


def parse_stat(data: bytes, path: str = "stat") -> StatFields:
    """/proc/PID/stat. comm may hold spaces and parentheses: split after the *last* ')'."""
    try:
        open_paren = data.index(b"(")
        close_paren = data.rindex(b")")
        comm = data[open_paren + 1 : close_paren].decode("utf-8", "surrogateescape")
        rest = data[close_paren + 2 :].split()
        # rest[0] is field 3 (state); field N is rest[N - 3]
        return StatFields(
            comm=comm,
            state=rest[0].decode("ascii", "replace"),
            ppid=int(rest[1]),
            utime=int(rest[11]),
            stime=int(rest[12]),
            threads=int(rest[17]),
            start_ticks=int(rest[19]),
            rss_pages=int(rest[21]),
        )
    except (ValueError, IndexError) as exc:
        raise Malformed(path, f"unparsable stat line: {exc}") from None


@dataclass(frozen=True)
class StatusFields:
    """The fields of /proc/PID/status that ctop-py uses."""

    uid: int | None
    nspid: tuple[int, ...]


def parse_status(data: bytes, path: str = "status") -> StatusFields:
    """The real uid and the pids in each pid namespace (NSpid) of /proc/PID/status: each
    found by its name at the start of a line, not by testing each of its ~55 lines."""
    uid: int | None = None
    nspid: tuple[int, ...] = ()
    try:
        uid_line = _status_field(data, b"Uid:")
        if uid_line is not None:
            uid = int(uid_line.split()[0])
        nspid_line = _status_field(data, b"NSpid:")
        if nspid_line is not None:
            nspid = tuple(int(p) for p in nspid_line.split())
    except (ValueError, IndexError) as exc:
        raise Malformed(path, f"unparsable status field: {exc}") from None
    return StatusFields(uid=uid, nspid=nspid)


def _status_field(data: bytes, name: bytes) -> bytes | None:
    """The rest of the line that starts with `name` (the kernel writes each field once), or
    None. Only a newline ends a line: the kernel escapes it in a process's name."""
    if data.startswith(name):
        start = len(name)
    else:
        at = data.find(b"\n" + name)
        if at < 0:
            return None
        start = at + 1 + len(name)
    end = data.find(b"\n", start)
    return data[start:] if end < 0 else data[start:end]


def parse_cgroup(data: bytes, path: str = "cgroup") -> tuple[CgroupEntry, ...]:
    """/proc/PID/cgroup: `id:controllers:path`; paths may contain ':' so split at most twice."""
    # Every process of a container has the same lines: parse each distinct content once.
    cached = _CGROUP_LINES.get(data)
    if cached is not None:
        return cached
    entries = _parse_cgroup(data, path)
    if len(_CGROUP_LINES) >= _MAX_CGROUP_LINES:
        _CGROUP_LINES.clear()
    _CGROUP_LINES[data] = entries
    return entries


_CGROUP_LINES: dict[bytes, tuple[CgroupEntry, ...]] = {}
_MAX_CGROUP_LINES = 4096


def _parse_cgroup(data: bytes, path: str) -> tuple[CgroupEntry, ...]:
    entries = []
    for raw in data.decode("utf-8", "surrogateescape").splitlines():
        if not raw.strip():
            continue
        parts = raw.split(":", 2)
        if len(parts) != 3:
            raise Malformed(path, f"expected id:controllers:path, got {raw!r}")
        try:
            hierarchy_id = int(parts[0])
        except ValueError:
            raise Malformed(path, f"bad hierarchy id in {raw!r}") from None
        cgroup_path = parts[2].removesuffix(" (deleted)")
        controllers = tuple(c for c in parts[1].split(",") if c)
        entries.append(CgroupEntry(hierarchy_id, controllers, cgroup_path))
    return tuple(entries)


def parse_cmdline(data: bytes) -> tuple[str, ...]:
    if not data:
        return ()
    return tuple(a.decode("utf-8", "surrogateescape") for a in data.rstrip(b"\0").split(b"\0"))


def parse_ns_link(target: str) -> int:
    """`net:[4026532184]` -> 4026532184."""
    try:
        return int(target[target.index("[") + 1 : target.rindex("]")])
    except ValueError:
        raise Malformed(target, "not a namespace link") from None


def net_dev_lines(data: bytes, path: str = "net/dev") -> Iterator[tuple[str, list[bytes]]]:
    """Each interface of /proc/PID/net/dev (after its two header lines) and its 16 counter
    fields: receive bytes, packets, errs, drop, fifo, frame, compressed, multicast, then
    transmit bytes, packets, errs, drop, fifo, colls, carrier, compressed. The one reader of
    that format (`net.parse_net_dev` keeps each interface; `parse_net_dev` sums them)."""
    for line in data.splitlines()[2:]:
        name, sep, counters = line.partition(b":")
        if not sep:
            continue
        iface = name.strip().decode("utf-8", "surrogateescape")
        fields = counters.split()
        if len(fields) < 16:
            raise Malformed(path, f"interface {iface!r} has {len(fields)} counters, expected 16")
        yield iface, fields


def parse_net_dev(data: bytes, path: str = "net/dev") -> NetCounters:
    """/proc/PID/net/dev summed over every interface except loopback."""
    rx_bytes = tx_bytes = rx_packets = tx_packets = 0
    names = []
    for iface, fields in net_dev_lines(data, path):
        if iface == "lo":
            continue
        names.append(iface)
        rx_bytes += int(fields[0])
        rx_packets += int(fields[1])
        tx_bytes += int(fields[8])
        tx_packets += int(fields[9])
    return NetCounters(rx_bytes, tx_bytes, rx_packets, tx_packets, tuple(names))


def parse_proc_stat_cpu(data: bytes) -> tuple[int, int]:
    """(busy, total) ticks from /proc/stat's `cpu` line; idle and iowait are not busy.
    Fields 9 and 10 (guest, guest_nice) are already inside user and nice."""
    for line in data.splitlines():
        if line.startswith(b"cpu "):
            try:
                values = [int(v) for v in line.split()[1:9]]
            except ValueError:
                break
            if len(values) < 4:
                break
            total = sum(values)
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            return total - idle, total
    raise Malformed("/proc/stat", "no cpu line")


def parse_btime(data: bytes) -> float:
    for line in data.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == b"btime" and fields[1].isdigit():
            return float(fields[1])
    raise Malformed("/proc/stat", "no btime line")


def parse_meminfo_total(data: bytes) -> int:
    for line in data.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == b"MemTotal:" and fields[1].isdigit():
            return int(fields[1]) * 1024
    raise Malformed("/proc/meminfo", "no MemTotal line")


# ---------------------------------------------------------------------------------------------
# Reading through a HostRoot.


def read_namespaces(proc_pid: Path | str) -> dict[str, int]:
    """Namespace inodes of one process. Unreadable links (EACCES, zombies) are left out."""
    namespaces = {}
    base = f"{proc_pid}/ns/"
    for ns_type in NAMESPACE_TYPES:
        try:
            namespaces[ns_type] = parse_ns_link(os.readlink(base + ns_type))
        except (OSError, Malformed):
            continue
    return namespaces


def in_other_namespace(proc_pid: Path | str, reference: Mapping[str, int]) -> bool:
    """Whether the process is in a namespace of one of the types of `reference` (type ->
    inode) other than the one given there: one readlink per type, up to the first that
    differs. A link that cannot be read (the process exited; another user's) tells nothing."""
    base = f"{proc_pid}/ns/"
    for ns_type, inode in reference.items():
        try:
            if os.readlink(base + ns_type) != f"{ns_type}:[{inode}]":
                return True
        except OSError:
            continue
    return False


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_BUFFER = READ_BUFFER


@dataclass(frozen=True)
class _Static:
    """What does not change while a process runs the same program: read once per process."""

    uid: int | None
    nspid: tuple[int, ...]
    cmdline: tuple[str, ...]
    namespaces: dict[str, int]


class ProcessReader:
    """Reads every process each tick, but a process's static fields only once.

    Static fields are cached by (pid, start time, comm): the start time catches pid reuse and
    comm catches exec (runc's init process joins the container's namespaces, then execs the
    container's command, keeping its pid). A process whose stat and cgroup bytes are the same
    as on its previous read (an idle one) gets its previous Process back, unparsed."""

    def __init__(self, root: HostRoot) -> None:
        self.proc = str(root.proc)
        self._static: dict[tuple[int, int, str], _Static] = {}
        self._last: dict[int, tuple[bytes, bytes, Process]] = {}

    def read(self, pid: int) -> Process:
        """Everything ctop-py knows of one process. Raises Gone if it exited mid-read."""
        base = f"{self.proc}/{pid}"
        stat_data = read_record(base + "/stat")
        cgroup_data = read_record(base + "/cgroup")
        last = self._last.get(pid)
        if last is not None and last[0] == stat_data and last[1] == cgroup_data:
            return last[2]  # same start time and comm: the same process, static fields too
        stat = parse_stat(stat_data, base + "/stat")
        cgroups = parse_cgroup(cgroup_data, base + "/cgroup")
        key = (pid, stat.start_ticks, stat.comm)
        static = self._static.get(key)
        if static is None:
            static = self._read_static(base, pid)
            self._static[key] = static
        process = self._process(pid, stat, static, cgroups)
        self._last[pid] = (stat_data, cgroup_data, process)
        return process

    @staticmethod
    def _process(
        pid: int, stat: StatFields, static: _Static, cgroups: tuple[CgroupEntry, ...]
    ) -> Process:
        return Process(
            pid=pid,
            ppid=stat.ppid,
            comm=stat.comm,
            state=stat.state,
            start_ticks=stat.start_ticks,
            cpu_ticks=stat.utime + stat.stime,
            rss_bytes=stat.rss_pages * PAGE_SIZE,
            threads=stat.threads,
            uid=static.uid,
            nspid=static.nspid,
            cmdline=static.cmdline,
            namespaces=static.namespaces,
            cgroups=cgroups,
        )

    def _read_static(self, base: str, pid: int) -> _Static:
        status = parse_status(read_bytes(base + "/status"), base + "/status")
        try:
            cmdline = parse_cmdline(read_bytes(base + "/cmdline"))
        except NoAccess:
            cmdline = ()
        return _Static(status.uid, status.nspid or (pid,), cmdline, read_namespaces(base))

    def forget_except(self, live: set[tuple[int, int, str]]) -> None:
        for key in self._static.keys() - live:
            del self._static[key]
        live_pids = {key[0] for key in live}
        for pid in self._last.keys() - live_pids:
            del self._last[pid]

    def read_all(
        self,
        notes: set[str] | None = None,
        skip: Collection[int] = (),
        *,
        unless_in: Mapping[str, int] | None = None,
    ) -> list[Process]:
        """Every process on the host; those that exit while being read are left out, and so
        are the pids in `skip` (whose cached static fields are kept) and, given `unless_in`
        (namespace type -> inode), those in every one of these namespaces, found with a
        readlink per type and not read further (the walk for sandboxes: a process in all of
        the host's isolating namespaces is none; most of a host's processes are)."""
        processes = []
        try:
            names = os.listdir(self.proc)
        except OSError as exc:
            raise HostError(self.proc, exc.strerror or str(exc)) from None
        for name in names:
            if not name.isdigit():
                continue
            pid = int(name)
            if pid in skip:
                continue
            if unless_in is not None and not in_other_namespace(f"{self.proc}/{name}", unless_in):
                continue
            try:
                processes.append(self.read(pid))
            except (Gone, NoAccess):
                continue
            except Malformed as exc:
                if notes is not None:
                    notes.add(str(exc))
        processes.sort(key=lambda p: p.pid)
        live = {(p.pid, p.start_ticks, p.comm) for p in processes}
        if skip:
            live.update(key for key in self._static if key[0] in skip)
        self.forget_except(live)
        return processes


def read_process(root: HostRoot, pid: int) -> Process:
    return ProcessReader(root).read(pid)
