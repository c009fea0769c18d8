"""Literal samples for the events / diagnose / lifecycle unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ctop_py.model import (
    ENGINE_OK,
    CgroupMode,
    CgroupStats,
    ContainerRaw,
    CpuCounters,
    EngineEvent,
    HostInfo,
    IoCounters,
    Lifecycle,
    Limits,
    MemoryCounters,
    Psi,
    PsiLine,
    RawSample,
)

HOST = HostInfo("h", 2, CgroupMode.V2, 2, 1 << 33, 0.0, 100, {})
CID = "c" * 64
MiB = 1 << 20


def stats(
    *,
    usage_ns: int = 0,
    periods: int | None = None,
    throttled: int | None = None,
    throttled_ns: int | None = None,
    quota_us: int | None = None,
    memory_max: int | None = None,
    memory_high: int | None = None,
    events: Mapping[str, int] | None = None,
    peak: int | None = None,
    pids: int = 1,
    pids_max: int | None = None,
    pids_events: Mapping[str, int] | None = None,
    psi: Mapping[str, tuple[int, int]] | None = None,
) -> CgroupStats:
    return CgroupStats(
        version=2,
        path=f"/system.slice/docker-{CID}.scope",
        limits=Limits(
            cpu_quota_us=quota_us,
            cpu_period_us=100_000 if quota_us else None,
            memory_max_bytes=memory_max,
            memory_high_bytes=memory_high,
            pids_max=pids_max,
        ),
        cpu=CpuCounters(
            usage_ns=usage_ns, nr_periods=periods, nr_throttled=throttled, throttled_ns=throttled_ns
        ),
        memory=MemoryCounters(current_bytes=MiB, peak_bytes=peak, events=dict(events or {})),
        io=IoCounters(),
        pids_current=pids,
        psi={
            r: Psi(some=PsiLine(0, 0, 0, some), full=PsiLine(0, 0, 0, full))
            for r, (some, full) in (psi or {}).items()
        },
        pids_events=dict(pids_events or {}),
    )


def container(
    cgroup: CgroupStats | None,
    *,
    cid: str = CID,
    name: str = "app",
    init_pid: int | None = 100,
    state: str | None = None,
    lifecycle: Lifecycle | None = None,
) -> ContainerRaw:
    running = cgroup is not None
    return ContainerRaw(
        id=cid,
        runtime="docker",
        name=name,
        image="img",
        state=state or ("running" if running else "exited"),
        labels={},
        cgroup_path=cgroup.path if cgroup else None,
        init_pid=init_pid if running else None,
        pids=(init_pid or 1,) if running else (),
        namespaces={},
        shared_namespaces={},
        cgroup=cgroup,
        net=None,
        lifecycle=lifecycle,
    )


def sample(t: float, *containers: ContainerRaw, events: tuple[EngineEvent, ...] = ()) -> RawSample:
    return RawSample(
        monotonic_ns=int(t * 1e9),
        time=1_000_000.0 + t,
        host=HOST,
        containers=containers,
        processes=(),
        host_cpu_busy_ticks=0,
        host_cpu_total_ticks=0,
        engine_status={"docker": ENGINE_OK},
        engine_events=events,
    )


def engine(t: float, action: str, cid: str = CID, **attrs: str) -> EngineEvent:
    return EngineEvent(1_000_000.0 + t, "docker", cid, action, {"name": "app", **attrs})


__all__ = ["CID", "HOST", "MiB", "container", "engine", "replace", "sample", "stats"]
