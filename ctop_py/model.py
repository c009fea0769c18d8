"""Frozen data: what one sample read (RawSample) and what two samples mean (Snapshot).

Raw records hold cumulative counters exactly as the kernel reported them (converted to one unit
per quantity: nanoseconds for CPU time, bytes for sizes, microseconds for PSI totals). Rates
live only in the derived records. `None` everywhere means "not known", never zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

NAMESPACE_TYPES = ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts")


@dataclass(frozen=True)
class CgroupEntry:
    """One line of /proc/PID/cgroup: v1 hierarchies have controllers, v2 has none."""

    hierarchy_id: int
    controllers: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class Process:
    """One process as /proc shows it (stat, status, cmdline, cgroup, namespace links)."""

    pid: int
    ppid: int
    comm: str
    state: str
    start_ticks: int  # field 22 of /proc/PID/stat; (pid, start_ticks) identifies a process
    cpu_ticks: int  # utime + stime, in clock ticks
    rss_bytes: int
    threads: int
    uid: int | None
    nspid: tuple[int, ...]  # pid in each pid namespace, outermost first; last = in-container
    cmdline: tuple[str, ...]
    namespaces: Mapping[str, int]  # type -> inode; missing when unreadable
    cgroups: tuple[CgroupEntry, ...]

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.start_ticks)

    @property
    def pid_in_container(self) -> int:
        return self.nspid[-1] if self.nspid else self.pid


@dataclass(frozen=True)
class Limits:
    """Configured limits. None = no limit (or not set), distinct from 0."""

    cpu_quota_us: int | None = None
    cpu_period_us: int | None = None
    cpu_weight: int | None = None  # v2 cpu.weight
    cpu_shares: int | None = None  # v1 cpu.shares
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    memory_max_bytes: int | None = None
    memory_high_bytes: int | None = None
    memory_low_bytes: int | None = None
    swap_max_bytes: int | None = None  # swap only (v1 memsw limit minus memory limit)
    pids_max: int | None = None

    @property
    def cpu_quota_cores(self) -> float | None:
        if self.cpu_quota_us is None or not self.cpu_period_us:
            return None
        return self.cpu_quota_us / self.cpu_period_us


@dataclass(frozen=True)
class CpuCounters:
    """A cgroup's cumulative CPU time and CFS bandwidth counters."""

    usage_ns: int | None = None
    user_ns: int | None = None
    system_ns: int | None = None
    nr_periods: int | None = None
    nr_throttled: int | None = None
    throttled_ns: int | None = None


@dataclass(frozen=True)
class MemoryCounters:
    """A cgroup's memory use, peak and swap, with memory.stat and memory.events."""

    current_bytes: int | None = None  # v2 memory.current / v1 memory.usage_in_bytes
    used_bytes: int | None = None  # what `docker stats` prints: current minus inactive_file
    peak_bytes: int | None = None
    swap_current_bytes: int | None = None
    stat: Mapping[str, int] = field(default_factory=dict)
    # memory.events on v2 (low, high, max, oom, oom_kill); v1 has only oom_kill (oom_control)
    events: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IoCounters:
    """A cgroup's cumulative block I/O bytes."""

    read_bytes: int | None = None
    write_bytes: int | None = None


@dataclass(frozen=True)
class PsiLine:
    """One line of a PSI file: the averages (percent) and the total stall time."""

    avg10: float
    avg60: float
    avg300: float
    total_us: int


@dataclass(frozen=True)
class Psi:
    """A PSI file's `some` and `full` lines."""

    some: PsiLine | None = None
    full: PsiLine | None = None


@dataclass(frozen=True)
class CgroupStats:
    """Everything read from one container's cgroup in one sample."""

    version: int  # 1 (v1 or hybrid) or 2
    path: str  # relative to the hierarchy root, e.g. /docker/<id>
    limits: Limits
    cpu: CpuCounters
    memory: MemoryCounters
    io: IoCounters
    pids_current: int | None
    psi: Mapping[str, Psi]  # "cpu" | "memory" | "io" -> Psi
    gone: bool = False  # the cgroup vanished while being read
    # pids.events (v1 and v2): `max` = forks refused at pids.max since the cgroup was made
    pids_events: Mapping[str, int] = field(default_factory=dict)
    # When `psi` was read (monotonic ns): None, in this sample. A container sampled brief reads
    # PSI every few seconds and carries its last reading between, read at `psi_read_ns`; the
    # reading before it was last read (found the same) at `psi_since_ns` (None: unknown).
    psi_read_ns: int | None = None
    psi_since_ns: int | None = None


@dataclass(frozen=True)
class NetCounters:
    """The cumulative counters of a network namespace's interfaces (all but lo)."""

    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int
    interfaces: tuple[str, ...]


class Sharing(StrEnum):
    HOST = "host"  # the host's namespace: not isolated
    JOINED = "container"  # it joined another container's namespace (--net=container:X, a pod)
    OWNER = "shared-with"  # other containers joined its namespace


@dataclass(frozen=True)
class SharedNamespace:
    """A namespace a container does not have to itself. Its text form ("host",
    "container:<owner>", "shared-with:<a>,<b>") is how recordings and JSON store it."""

    sharing: Sharing
    containers: tuple[str, ...] = ()  # JOINED: the owner; OWNER: the ones that joined it

    def to_text(self) -> str:
        if self.sharing is Sharing.HOST:
            return "host"
        return f"{self.sharing.value}:{','.join(self.containers)}"

    @classmethod
    def from_text(cls, text: str) -> SharedNamespace:
        kind, _, names = text.partition(":")
        return cls(Sharing(kind), tuple(n for n in names.split(",") if n))


HOST_NAMESPACE = SharedNamespace(Sharing.HOST)


@dataclass(frozen=True)
class Lifecycle:
    """A container's life across its restarts (see ctop_py.lifecycle). None = unknown.

    restart_count, last_exit_code, oom_killed, started_at and finished_at come from the
    engine (inspect, cached; last_exit_code from its latest `die` event when there is one);
    times are seconds since the epoch. oom_kills: the larger of the kills the kernel showed
    (summed over the cgroup's re-creations since ctop-py started) and the engine's `oom`
    events (including those its event buffer still held at start). memory_peak_bytes: the
    highest memory.peak / memory.max_usage_in_bytes seen over every re-creation."""

    restart_count: int | None = None
    last_exit_code: int | None = None
    oom_killed: bool | None = None
    oom_kills: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    kernel_oom_kills: int = 0  # the kernel's part of oom_kills
    memory_peak_bytes: int | None = None
    recreations: int = 0  # times its cgroup was seen made again since ctop-py started
    # The memory limit last seen in its cgroup, or the engine's configured one (inspect) while
    # it has none (between two runs of a crash-loop).
    memory_max_bytes: int | None = None


@dataclass(frozen=True)
class EngineEvent:
    """One event of a container engine's event API, as it came."""

    time: float  # seconds since the epoch
    runtime: str
    container_id: str
    action: str  # die, oom, start, restart, stop, kill, create, destroy, pause, …
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerRaw:
    """One container as one sample read it: cumulative counters, no rates."""

    id: str
    runtime: str  # docker, podman, containerd, lxc, nspawn, sandbox
    name: str  # the runtime's name, or a short id when the runtime is not reachable
    image: str | None
    state: str  # running, paused, exited, created, … ("running" when only the kernel knows)
    labels: Mapping[str, str]
    cgroup_path: str | None
    init_pid: int | None
    pids: tuple[int, ...]  # host pids, sorted
    namespaces: Mapping[str, int]  # of the init process
    shared_namespaces: Mapping[str, SharedNamespace]  # by type; absent: its own
    cgroup: CgroupStats | None
    net: NetCounters | None  # None when unknown or when the netns is the host's
    lifecycle: Lifecycle | None = None

    @property
    def active(self) -> bool:
        """Shown in the default (running) view: it has processes, or it is crash-looping, or
        its engine still says running (a container the kernel just killed has no processes
        for the moment before the engine hears of it and says restarting)."""
        return bool(self.pids) or self.state in ("restarting", "running")


class CgroupMode(StrEnum):
    V1 = "v1"  # legacy: every controller in its own v1 hierarchy
    HYBRID = "hybrid"  # v1 controllers, plus an empty v2 hierarchy (systemd, PSI)
    V2 = "v2"  # unified
    NONE = "none"  # no cgroup filesystem found


@dataclass(frozen=True)
class HostInfo:
    """What does not change while ctop-py runs: the host's size, clock and layout."""

    hostname: str
    cgroup_version: int  # 1 (legacy or hybrid) or 2
    cgroup_mode: CgroupMode
    cpus: int
    memory_bytes: int
    boot_time: float
    clock_ticks: int
    namespaces: Mapping[str, int]  # the host's (PID 1's, or ours when PID 1 is unreadable)


@dataclass(frozen=True)
class EngineStatus:
    """Whether a runtime's engine (its API socket) answered; `problem` says why not. Its text
    form ("ok", or the problem) is how recordings and JSON store it."""

    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_text(self) -> str:
        return "ok" if self.problem is None else self.problem

    @classmethod
    def from_text(cls, text: str) -> EngineStatus:
        return cls(None if text == "ok" else text)


ENGINE_OK = EngineStatus()


@dataclass(frozen=True)
class RawSample:
    """One reading of the host: every container, as read (derive() makes the rates)."""

    monotonic_ns: int
    time: float  # wall clock, seconds since the epoch
    host: HostInfo
    containers: tuple[ContainerRaw, ...]
    processes: tuple[Process, ...]
    host_cpu_busy_ticks: int  # /proc/stat cpu line: all but idle and iowait
    host_cpu_total_ticks: int
    engine_status: Mapping[str, EngineStatus]  # by runtime
    notes: tuple[str, ...] = ()  # things that could not be read, each said once
    # Engine events received since the previous sample (the first sample: the buffered past).
    engine_events: tuple[EngineEvent, ...] = ()


# ---------------------------------------------------------------------------------------------
# Derived values: rates between two samples.


@dataclass(frozen=True)
class Usage:
    """A container's rates and levels over the interval between two samples."""

    cpu_percent: float | None = None  # 100 = one core
    cpu_percent_of_quota: float | None = None
    memory_used_bytes: int | None = None
    memory_current_bytes: int | None = None
    memory_percent_of_limit: float | None = None
    pids_current: int | None = None
    net_rx_bytes_per_s: float | None = None
    net_tx_bytes_per_s: float | None = None
    io_read_bytes_per_s: float | None = None
    io_write_bytes_per_s: float | None = None


@dataclass(frozen=True)
class Throttling:
    """A container's CFS throttling: the counters and their rates over the interval."""

    nr_periods: int | None = None
    nr_throttled: int | None = None
    throttled_seconds: float | None = None  # cumulative
    throttled_percent: float | None = None  # Δnr_throttled / Δnr_periods
    throttled_seconds_per_s: float | None = None
    periods_in_window: int | None = None


@dataclass(frozen=True)
class PsiRates:
    """Stall percent over our own window, from the PSI totals."""

    some_percent: float | None = None
    full_percent: float | None = None


@dataclass(frozen=True)
class ProcessUsage:
    """A process and its CPU over the interval."""

    process: Process
    cpu_percent: float | None


@dataclass(frozen=True)
class ContainerView:
    """A container as shown: its raw record and what two samples mean."""

    raw: ContainerRaw
    usage: Usage
    throttling: Throttling
    psi: Mapping[str, PsiRates]
    processes: tuple[ProcessUsage, ...]

    @property
    def id(self) -> str:
        return self.raw.id

    @property
    def name(self) -> str:
        return self.raw.name

    @property
    def limits(self) -> Limits:
        return self.raw.cgroup.limits if self.raw.cgroup else Limits()


@dataclass(frozen=True)
class Snapshot:
    """What two samples mean, for every container: what the app, the JSON and the exporter show."""

    time: float
    interval_s: float | None  # None on the first sample
    host: HostInfo
    host_cpu_percent: float | None
    containers: tuple[ContainerView, ...]
    raw: RawSample
