"""Collector.sample(): every process mapped to its container, and each container's cgroup read.

Runtimes only claim cgroup paths and add names; statistics come from cgroupfs and procfs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ctop_py import cgroupfs, procfs
from ctop_py.host import Gone, HostError, HostRoot, Malformed, NoAccess, read_bytes
from ctop_py.model import ContainerRaw, HostInfo, NetCounters, Process, RawSample
from ctop_py.runtimes import DEFAULT_RUNTIMES, Claim, Meta, Runtime, claim
from ctop_py.runtimes.docker import DockerDiskMeta, EngineClient
from ctop_py.runtimes.sandbox import group_root, sandbox_id, sandbox_key

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


@dataclass
class _Group:
    claim: Claim
    processes: list[Process] = field(default_factory=list)


def default_engines(root: HostRoot) -> list[EngineClient]:
    engines = []
    docker_host = os.environ.get("DOCKER_HOST") if root.is_real_root else None
    docker_sock = root.path("/var/run/docker.sock")
    if docker_host or docker_sock.exists():
        engines.append(EngineClient("docker", docker_host or f"unix://{docker_sock}"))
    podman_sock = root.path("/run/podman/podman.sock")
    if podman_sock.exists():
        engines.append(EngineClient("podman", f"unix://{podman_sock}"))
    return engines


class Collector:
    def __init__(
        self,
        root: HostRoot | None = None,
        runtimes: Sequence[Runtime] = DEFAULT_RUNTIMES,
        engines: Sequence[EngineClient] | None = None,
    ) -> None:
        self.root = root or HostRoot()
        self.root.check()
        self.runtimes = tuple(runtimes)
        self.layout = cgroupfs.detect_layout(self.root)
        self.host = read_host_info(self.root, self.layout)
        self.engines = list(default_engines(self.root) if engines is None else engines)
        self.disk_meta = DockerDiskMeta(self.root)
        self.process_reader = procfs.ProcessReader(self.root)
        self._notes: set[str] = set()
        self._said: set[str] = set()

    def close(self) -> None:
        for engine in self.engines:
            engine.close()

    def sample(self) -> RawSample:
        monotonic_ns = time.monotonic_ns()
        wall = time.time()
        notes: set[str] = set()
        busy, total = procfs.parse_proc_stat_cpu(read_bytes(self.root.proc / "stat"))
        processes = self._read_processes(notes)
        groups, sandboxes = self._group(processes)
        metadata = self._metadata(g.claim for g in groups.values())
        containers = [self._container(g, metadata, notes) for g in groups.values()]
        containers += [self._sandbox(key, procs) for key, procs in sandboxes.items()]
        containers += self._not_running(metadata, {(c.runtime, c.id) for c in containers})
        containers = _mark_shared(containers, self.host.namespaces)
        containers.sort(key=lambda c: (c.name.lower(), c.id))
        # Each reason is reported once per collector, not once per tick.
        new_notes = tuple(sorted(notes - self._said))
        self._said |= notes
        return RawSample(
            monotonic_ns=monotonic_ns,
            time=wall,
            host=self.host,
            containers=tuple(containers),
            processes=tuple(processes),
            host_cpu_busy_ticks=busy,
            host_cpu_total_ticks=total,
            engine_status={e.runtime: e.status for e in self.engines},
            notes=new_notes,
        )

    # -- processes -------------------------------------------------------------------------

    def _read_processes(self, notes: set[str]) -> list[Process]:
        return self.process_reader.read_all(notes)

    def _group(
        self, processes: Iterable[Process]
    ) -> tuple[dict[tuple[str, str], _Group], dict[tuple[tuple[str, int], ...], list[Process]]]:
        groups: dict[tuple[str, str], _Group] = {}
        sandboxes: dict[tuple[tuple[str, int], ...], list[Process]] = defaultdict(list)
        for process in processes:
            if process.pid == KTHREADD or process.ppid == KTHREADD:
                continue
            path = cgroupfs.container_cgroup_path(self.layout, process.cgroups)
            found = claim(path, self.runtimes) if path else None
            if found is not None:
                key = (found.runtime, found.id)
                if key not in groups:
                    groups[key] = _Group(found)
                groups[key].processes.append(process)
                continue
            skey = sandbox_key(process, self.host.namespaces)
            if skey is not None:
                sandboxes[skey].append(process)
        return groups, sandboxes

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

    def _container(
        self, group: _Group, metadata: Mapping[tuple[str, str], Meta], notes: set[str]
    ) -> ContainerRaw:
        c = group.claim
        meta = metadata.get((c.runtime, c.id))
        if meta is None and c.runtime == "docker":
            meta = self.disk_meta.get(c.id)
        init = _init_process(group.processes)
        try:
            stats = cgroupfs.read_cgroup(self.layout, c.cgroup_path, notes, c.cgroup_path)
        except Malformed as exc:
            notes.add(str(exc))
            stats = None
        return ContainerRaw(
            id=c.id,
            runtime=c.runtime,
            name=(meta.name if meta and meta.name else None) or c.name or c.id[:12],
            image=meta.image if meta else None,
            state=meta.state if meta else "running",
            labels={**c.labels, **(meta.labels if meta else {})},
            cgroup_path=c.cgroup_path,
            init_pid=init.pid,
            pids=tuple(sorted(p.pid for p in group.processes)),
            namespaces=dict(init.namespaces),
            shared_namespaces={},
            cgroup=stats,
            net=self._net(init, notes),
        )

    def _sandbox(self, key: tuple[tuple[str, int], ...], processes: list[Process]) -> ContainerRaw:
        first = group_root(processes)
        return ContainerRaw(
            id=sandbox_id(key),
            runtime="sandbox",
            name=f"{first.comm}[{first.pid}]",
            image=None,
            state="running",
            labels={},
            cgroup_path=cgroupfs.container_cgroup_path(self.layout, first.cgroups),
            init_pid=first.pid,
            pids=tuple(sorted(p.pid for p in processes)),
            namespaces=dict(first.namespaces),
            shared_namespaces={},
            cgroup=None,  # its cgroup is usually shared with host processes: not its own
            net=self._net(first, set()),
        )

    def _not_running(
        self, metadata: Mapping[tuple[str, str], Meta], seen: set[tuple[str, str]]
    ) -> list[ContainerRaw]:
        """Containers the engine knows that have no processes (exited, created)."""
        return [
            ContainerRaw(
                id=meta.id,
                runtime=meta.runtime,
                name=meta.name or meta.id[:12],
                image=meta.image,
                state=meta.state,
                labels=dict(meta.labels),
                cgroup_path=None,
                init_pid=None,
                pids=(),
                namespaces={},
                shared_namespaces={},
                cgroup=None,
                net=None,
            )
            for key, meta in metadata.items()
            if key not in seen
        ]

    def _net(self, init: Process, notes: set[str]) -> NetCounters | None:
        net_ns = init.namespaces.get("net")
        if net_ns is None or net_ns == self.host.namespaces.get("net"):
            return None  # unknown, or the host's own network: not the container's traffic
        try:
            return procfs.read_net_dev(self.root, init.pid)
        except (Gone, NoAccess):
            return None
        except Malformed as exc:
            notes.add(str(exc))
            return None


def _init_process(processes: list[Process]) -> Process:
    """The container's first process: pid 1 in its own pid namespace, else the group's root."""
    for process in processes:
        if process.nspid and process.nspid[-1] == 1 and len(process.nspid) > 1:
            return process
    return group_root(processes)


def _mark_shared(containers: list[ContainerRaw], host: Mapping[str, int]) -> list[ContainerRaw]:
    """Say which namespaces are the host's, or another container's (`--net=container:x`)."""
    owners: dict[tuple[str, int], list[ContainerRaw]] = defaultdict(list)
    for c in containers:
        for ns_type, inode in c.namespaces.items():
            owners[(ns_type, inode)].append(c)
    result = []
    for c in containers:
        shared = {}
        for ns_type, inode in c.namespaces.items():
            if host.get(ns_type) == inode:
                shared[ns_type] = "host"
                continue
            others = [o.name for o in owners[(ns_type, inode)] if o is not c]
            if others:
                shared[ns_type] = "container:" + ",".join(sorted(others))
        result.append(_replace_shared(c, shared))
    return result


def _replace_shared(c: ContainerRaw, shared: dict[str, str]) -> ContainerRaw:
    from dataclasses import replace

    return replace(c, shared_namespaces=shared)
