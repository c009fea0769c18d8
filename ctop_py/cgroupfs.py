"""Readers of cgroupfs: layout detection (v1, hybrid, v2) and one container's limits and usage.

Units are normalised here, once: CPU times to nanoseconds (v1 reports ns, v2 µs), sizes to
bytes, "max"/-1/v1's huge sentinel to None (no limit).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ctop_py.host import Gone, HostRoot, Malformed, NoAccess, read_bytes
from ctop_py.model import (
    CgroupEntry,
    CgroupStats,
    CpuCounters,
    IoCounters,
    Limits,
    MemoryCounters,
    Psi,
    PsiLine,
)

# v1 reports "no memory limit" as PAGE_COUNTER_MAX * page size (9223372036854771712 on x86_64);
# anything this large is no limit.
V1_UNLIMITED_THRESHOLD = 1 << 62
PSI_RESOURCES = ("cpu", "memory", "io")


@dataclass(frozen=True)
class CgroupLayout:
    mode: str  # "v1", "hybrid", "v2" or "none"
    unified: Path | None  # where the v2 hierarchy is mounted, if any
    controllers: Mapping[str, Path] = field(default_factory=dict)  # v1 controller -> mount dir

    @property
    def version(self) -> int:
        return 2 if self.mode == "v2" else 1


def detect_layout(root: HostRoot) -> CgroupLayout:
    """Find the hierarchies from the directories under sys/fs/cgroup.

    Directory listing (not /proc/self/mountinfo) so that `--root /host` and fake trees work:
    inside a container our own mountinfo describes the container, not the host.
    """
    base = root.cgroup
    if (base / "cgroup.controllers").exists():
        return CgroupLayout("v2", base)
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return CgroupLayout("none", None)
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
        return CgroupLayout("v2" if unified else "none", unified)
    return CgroupLayout("hybrid" if unified else "v1", unified, controllers)


def container_cgroup_path(layout: CgroupLayout, entries: tuple[CgroupEntry, ...]) -> str | None:
    """The path that names a process's container: the v2 path, or a v1 controller's path."""
    by_hierarchy = {c: e.path for e in entries for c in e.controllers}
    if layout.mode == "v2":
        return next((e.path for e in entries if e.hierarchy_id == 0), None)
    for controller in ("memory", "cpu", "pids", "cpuacct", "name=systemd"):
        if controller in by_hierarchy:
            return by_hierarchy[controller]
    return next((e.path for e in entries), None)


# ---------------------------------------------------------------------------------------------
# Pure parsers.


def parse_flat_keyed(data: bytes, path: str = "") -> dict[str, int]:
    """`key value` lines (cpu.stat, memory.stat, memory.events). Unknown keys are kept."""
    result = {}
    for line in data.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            result[parts[0].decode("ascii", "replace")] = int(parts[1])
        except ValueError:
            raise Malformed(path, f"non-integer value in {line!r}") from None
    return result


def parse_int_or_max(data: bytes, path: str = "") -> int | None:
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


class _Files:
    """Reads files of one cgroup; absent files are None, denied ones are noted once."""

    def __init__(self, notes: set[str]) -> None:
        self.notes = notes
        self.any_read = False
        self.missing_dirs: set[Path] = set()

    def get(self, path: Path) -> bytes | None:
        try:
            data = read_bytes(path)
        except Gone:
            if not path.parent.is_dir():
                self.missing_dirs.add(path.parent)
            return None
        except NoAccess:
            self.notes.add(f"{path.name}: permission denied (needs root)")
            return None
        self.any_read = True
        return data


def _int(files: _Files, path: Path) -> int | None:
    data = files.get(path)
    return None if data is None else parse_int_or_max(data, str(path))


def _keyed(files: _Files, path: Path) -> dict[str, int]:
    data = files.get(path)
    return {} if data is None else parse_flat_keyed(data, str(path))


def _str(files: _Files, path: Path) -> str | None:
    data = files.get(path)
    return None if data is None else data.decode("ascii", "replace").strip() or None


def _psi(files: _Files, directory: Path | None) -> dict[str, Psi]:
    if directory is None:
        return {}
    result = {}
    for resource in PSI_RESOURCES:
        path = directory / f"{resource}.pressure"
        data = files.get(path)
        if not data:
            continue
        try:
            result[resource] = parse_psi(data, str(path))
        except Malformed:
            files.notes.add(f"{path.name}: unparsable")
    return result


def _join(base: Path, cgroup_path: str) -> Path:
    return base / cgroup_path.lstrip("/")


def _limits_v2(files: _Files, directory: Path) -> Limits:
    quota, period = (None, None)
    cpu_max = files.get(directory / "cpu.max")
    if cpu_max is not None:
        quota, period = parse_cpu_max(cpu_max, str(directory / "cpu.max"))
    return Limits(
        cpu_quota_us=quota,
        cpu_period_us=period,
        cpu_weight=_int(files, directory / "cpu.weight"),
        cpuset_cpus=_str(files, directory / "cpuset.cpus.effective")
        or _str(files, directory / "cpuset.cpus"),
        cpuset_mems=_str(files, directory / "cpuset.mems.effective"),
        memory_max_bytes=_int(files, directory / "memory.max"),
        memory_high_bytes=_int(files, directory / "memory.high"),
        memory_low_bytes=_int(files, directory / "memory.low") or None,
        swap_max_bytes=_int(files, directory / "memory.swap.max"),
        pids_max=_int(files, directory / "pids.max"),
    )


def read_v2(
    files: _Files, directory: Path, cgroup_path: str, known_limits: Limits | None = None
) -> CgroupStats:
    cpu_stat = _keyed(files, directory / "cpu.stat")
    limits = known_limits or _limits_v2(files, directory)
    mem_stat = _keyed(files, directory / "memory.stat")
    current = _int(files, directory / "memory.current")

    def usec(key: str) -> int | None:
        return cpu_stat[key] * 1000 if key in cpu_stat else None

    return CgroupStats(
        version=2,
        path=cgroup_path,
        limits=limits,
        cpu=CpuCounters(
            usage_ns=usec("usage_usec"),
            user_ns=usec("user_usec"),
            system_ns=usec("system_usec"),
            nr_periods=cpu_stat.get("nr_periods"),
            nr_throttled=cpu_stat.get("nr_throttled"),
            throttled_ns=usec("throttled_usec"),
        ),
        memory=MemoryCounters(
            current_bytes=current,
            used_bytes=used_memory(current, mem_stat),
            peak_bytes=_int(files, directory / "memory.peak"),
            swap_current_bytes=_int(files, directory / "memory.swap.current"),
            stat=mem_stat,
            events=_keyed(files, directory / "memory.events"),
        ),
        io=_io_v2(files, directory),
        pids_current=_int(files, directory / "pids.current"),
        psi=_psi(files, directory),
    )


def _io_v2(files: _Files, directory: Path) -> IoCounters:
    data = files.get(directory / "io.stat")
    return IoCounters() if data is None else parse_io_stat(data, str(directory / "io.stat"))


def _v1_dir(layout: CgroupLayout, controller: str, cgroup_path: str) -> Path | None:
    mount = layout.controllers.get(controller)
    return None if mount is None else _join(mount, cgroup_path)


def _limits_v1(files: _Files, layout: CgroupLayout, cgroup_path: str) -> Limits:
    cpu_dir = _v1_dir(layout, "cpu", cgroup_path)
    mem_dir = _v1_dir(layout, "memory", cgroup_path)
    pids_dir = _v1_dir(layout, "pids", cgroup_path)
    cpuset_dir = _v1_dir(layout, "cpuset", cgroup_path)
    quota = period = shares = memory_max = swap_max = None
    if cpu_dir is not None:
        quota = _int(files, cpu_dir / "cpu.cfs_quota_us")
        period = _int(files, cpu_dir / "cpu.cfs_period_us")
        shares = _int(files, cpu_dir / "cpu.shares")
    if mem_dir is not None:
        memory_max = _int(files, mem_dir / "memory.limit_in_bytes")
        memsw_limit = _int(files, mem_dir / "memory.memsw.limit_in_bytes")
        # v1 memsw is memory+swap; report swap alone, as v2 does.
        if memsw_limit is not None and memory_max is not None:
            swap_max = max(memsw_limit - memory_max, 0)
    cpuset_cpus = cpuset_mems = None
    if cpuset_dir is not None:
        cpuset_cpus = _str(files, cpuset_dir / "cpuset.effective_cpus") or _str(
            files, cpuset_dir / "cpuset.cpus"
        )
        cpuset_mems = _str(files, cpuset_dir / "cpuset.mems")
    return Limits(
        cpu_quota_us=quota,
        cpu_period_us=period,
        cpu_shares=shares,
        cpuset_cpus=cpuset_cpus,
        cpuset_mems=cpuset_mems,
        memory_max_bytes=memory_max,
        swap_max_bytes=swap_max,
        pids_max=_int(files, pids_dir / "pids.max") if pids_dir else None,
    )


BLKIO_FILES = (
    "blkio.throttle.io_service_bytes_recursive",
    "blkio.throttle.io_service_bytes",
    "blkio.io_service_bytes_recursive",
)


def read_v1(
    files: _Files,
    layout: CgroupLayout,
    cgroup_path: str,
    unified_path: str | None,
    known_limits: Limits | None = None,
) -> CgroupStats:
    cpu_dir = _v1_dir(layout, "cpu", cgroup_path)
    acct_dir = _v1_dir(layout, "cpuacct", cgroup_path)
    mem_dir = _v1_dir(layout, "memory", cgroup_path)
    pids_dir = _v1_dir(layout, "pids", cgroup_path)
    blkio_dir = _v1_dir(layout, "blkio", cgroup_path)
    limits = known_limits or _limits_v1(files, layout, cgroup_path)

    cpu_stat = _keyed(files, cpu_dir / "cpu.stat") if cpu_dir is not None else {}
    usage = user = system = None
    if acct_dir is not None:
        usage = _int(files, acct_dir / "cpuacct.usage")
        user = _int(files, acct_dir / "cpuacct.usage_user")
        system = _int(files, acct_dir / "cpuacct.usage_sys")

    memory = MemoryCounters()
    if mem_dir is not None:
        mem_stat = _keyed(files, mem_dir / "memory.stat")
        current = _int(files, mem_dir / "memory.usage_in_bytes")
        memsw_usage = _int(files, mem_dir / "memory.memsw.usage_in_bytes")
        events = {}
        oom_control = _keyed(files, mem_dir / "memory.oom_control")
        if "oom_kill" in oom_control:
            events["oom_kill"] = oom_control["oom_kill"]
        failcnt = _int(files, mem_dir / "memory.failcnt")
        if failcnt is not None:
            events["max"] = failcnt  # times usage hit the limit, like v2's `max` event
        memory = MemoryCounters(
            current_bytes=current,
            used_bytes=used_memory(current, mem_stat),
            peak_bytes=_int(files, mem_dir / "memory.max_usage_in_bytes"),
            swap_current_bytes=(
                memsw_usage - current
                if memsw_usage is not None and current is not None and memsw_usage >= current
                else None
            ),
            stat=mem_stat,
            events=events,
        )

    io = IoCounters()
    if blkio_dir is not None:
        for name in BLKIO_FILES:
            data = files.get(blkio_dir / name)
            if data is not None:
                io = parse_blkio_bytes(data, str(blkio_dir / name))
                break

    # Hybrid hosts keep PSI per cgroup in the unified hierarchy even with no v2 controllers.
    psi_dir = None
    if layout.unified is not None and unified_path is not None:
        psi_dir = _join(layout.unified, unified_path)

    return CgroupStats(
        version=1,
        path=cgroup_path,
        limits=limits,
        cpu=CpuCounters(
            usage_ns=usage,
            user_ns=user,
            system_ns=system,
            nr_periods=cpu_stat.get("nr_periods"),
            nr_throttled=cpu_stat.get("nr_throttled"),
            throttled_ns=cpu_stat.get("throttled_time"),
        ),
        memory=memory,
        io=io,
        pids_current=_int(files, pids_dir / "pids.current") if pids_dir else None,
        psi=_psi(files, psi_dir),
    )


def read_cgroup(
    layout: CgroupLayout,
    cgroup_path: str,
    notes: set[str],
    unified_path: str | None = None,
    known_limits: Limits | None = None,
) -> CgroupStats:
    """Limits and usage of one cgroup. A cgroup removed mid-read comes back with gone=True.
    With `known_limits`, the limit files are not read again (limits change rarely)."""
    files = _Files(notes)
    if layout.mode == "v2" and layout.unified is not None:
        directory = _join(layout.unified, cgroup_path)
        stats = read_v2(files, directory, cgroup_path, known_limits)
    else:
        stats = read_v1(files, layout, cgroup_path, unified_path, known_limits)
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


def read_root_cpu_pressure(root: HostRoot) -> Psi | None:
    try:
        return parse_psi(read_bytes(root.proc / "pressure" / "cpu"))
    except (Gone, NoAccess, Malformed):
        return None
