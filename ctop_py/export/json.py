"""Snapshots as JSON-able dicts. Strings are kept exact (JSON escapes them); None is null."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ctop_py.model import ContainerView, Lifecycle, Psi, Snapshot


def _psi(psi: Psi) -> dict[str, Any]:
    return {
        kind: None
        if line is None
        else {
            "avg10": line.avg10,
            "avg60": line.avg60,
            "avg300": line.avg300,
            "total_us": line.total_us,
        }
        for kind, line in (("some", psi.some), ("full", psi.full))
    }


def lifecycle_to_dict(life: Lifecycle | None) -> dict[str, Any]:
    """The issue's schema exactly; null where unknown."""
    life = life or Lifecycle()
    return {
        "restart_count": life.restart_count,
        "last_exit_code": life.last_exit_code,
        "oom_killed": life.oom_killed,
        "oom_kills": life.oom_kills,
        "started_at": life.started_at,
        "finished_at": life.finished_at,
    }


def container_to_dict(view: ContainerView) -> dict[str, Any]:
    raw = view.raw
    cg = raw.cgroup
    limits = view.limits
    return {
        "id": raw.id,
        "name": raw.name,
        "runtime": raw.runtime,
        "image": raw.image,
        "state": raw.state,
        "labels": dict(raw.labels),
        "init_pid": raw.init_pid,
        "pids": list(raw.pids),
        "cgroup": None
        if raw.cgroup_path is None
        else {"version": cg.version if cg else None, "path": raw.cgroup_path},
        "namespaces": dict(raw.namespaces),
        "shared_namespaces": dict(raw.shared_namespaces),
        "limits": {
            "cpu_quota_cores": limits.cpu_quota_cores,
            "cpu_quota_us": limits.cpu_quota_us,
            "cpu_period_us": limits.cpu_period_us,
            "cpu_weight": limits.cpu_weight,
            "cpu_shares": limits.cpu_shares,
            "cpuset_cpus": limits.cpuset_cpus,
            "memory_max_bytes": limits.memory_max_bytes,
            "memory_high_bytes": limits.memory_high_bytes,
            "swap_max_bytes": limits.swap_max_bytes,
            "pids_max": limits.pids_max,
        },
        "usage": asdict(view.usage),
        "cpu": None if cg is None else asdict(cg.cpu),
        "throttling": asdict(view.throttling),
        "memory_stat": {} if cg is None else dict(cg.memory.stat),
        "memory_events": {} if cg is None else dict(cg.memory.events),
        "psi": {}
        if cg is None
        else {
            resource: {
                **_psi(value),
                "some_percent": view.psi[resource].some_percent if resource in view.psi else None,
                "full_percent": view.psi[resource].full_percent if resource in view.psi else None,
            }
            for resource, value in cg.psi.items()
        },
        "net": None if raw.net is None else asdict(raw.net),
        "lifecycle": lifecycle_to_dict(raw.lifecycle),
        "memory_peak_bytes": None if cg is None else cg.memory.peak_bytes,
        "processes": [
            {
                "pid": p.process.pid,
                "pid_in_container": p.process.pid_in_container,
                "ppid": p.process.ppid,
                "uid": p.process.uid,
                "comm": p.process.comm,
                "cmdline": list(p.process.cmdline),
                "cpu_percent": p.cpu_percent,
                "rss_bytes": p.process.rss_bytes,
            }
            for p in view.processes
        ],
    }


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    host = snapshot.host
    return {
        "time": snapshot.time,
        "interval_s": snapshot.interval_s,
        "host": {
            "hostname": host.hostname,
            "cgroup_version": host.cgroup_version,
            "cgroup_mode": host.cgroup_mode,
            "cpus": host.cpus,
            "memory_bytes": host.memory_bytes,
            "cpu_percent": snapshot.host_cpu_percent,
            "namespaces": dict(host.namespaces),
        },
        "engines": dict(snapshot.raw.engine_status),
        "notes": list(snapshot.raw.notes),
        "containers": [container_to_dict(c) for c in snapshot.containers],
    }
