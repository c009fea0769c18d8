"""Every `--json` of ctop-py: the one encoder (`ctop_py.codec.encode`, which the recorder uses
too) with the overrides below, where the documented schema differs from a record's fields.

Strings are kept exact (JSON escapes them); None is null (unknown, or "no limit"). Records
without an override come out as all their fields, so a field added to a record appears in
the JSON too (tests/test_json_schema.py checks every field of every record)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ctop_py.codec import Encode, Override, encode, fields_of
from ctop_py.export.indented import dumps_indented
from ctop_py.model import ContainerView, Lifecycle, Limits, ProcessUsage, PsiRates, Snapshot

if TYPE_CHECKING:  # imported on first use: `snapshot` does not load the network side of things
    from ctop_py.net import ContainerNet, Link, LinkRates


def _limits(limits: Limits, enc: Encode) -> dict[str, Any]:
    return {"cpu_quota_cores": limits.cpu_quota_cores, **fields_of(limits, enc)}


def _process(usage: ProcessUsage, enc: Encode) -> dict[str, Any]:
    # A process's cgroups are its container's (given once, as "cgroup").
    process = fields_of(usage.process, enc, omit=("cgroups",))
    return {
        **process,
        "pid_in_container": usage.process.pid_in_container,
        "cpu_percent": usage.cpu_percent,
    }


def _container(view: ContainerView, enc: Encode) -> dict[str, Any]:
    raw = view.raw
    cg = raw.cgroup
    data = fields_of(
        raw, enc, omit=("cgroup_path", "cgroup", "net", "namespaces", "shared_namespaces")
    )
    cgroup: dict[str, Any] | None = None
    if raw.cgroup_path is not None:
        cgroup = {"version": None if cg is None else cg.version, "path": raw.cgroup_path}
        if cg is not None:
            cgroup |= {
                "memory": fields_of(cg.memory, enc, omit=("stat", "events")),
                "io": enc(cg.io),
                "pids_current": cg.pids_current,
                "pids_events": enc(cg.pids_events),
                "gone": cg.gone,
            }
    data |= {
        "cgroup": cgroup,
        "namespaces": enc(raw.namespaces),
        "shared_namespaces": enc(raw.shared_namespaces),
        "limits": enc(view.limits),
        "usage": enc(view.usage),
        "cpu": None if cg is None else enc(cg.cpu),
        "throttling": enc(view.throttling),
        "memory_stat": {} if cg is None else enc(cg.memory.stat),
        "memory_events": {} if cg is None else enc(cg.memory.events),
        "psi": {}
        if cg is None
        else {
            resource: {**enc(psi), **enc(view.psi.get(resource, PsiRates()))}
            for resource, psi in cg.psi.items()
        },
        "net": enc(raw.net),
        "processes": enc(view.processes),
        # Always the object (null members where unknown), also for old recordings.
        "lifecycle": _lifecycle(raw.lifecycle or Lifecycle(), enc),
        "memory_peak_seen_bytes": None
        if raw.lifecycle is None
        else raw.lifecycle.memory_peak_bytes,
    }
    return data


def _lifecycle(life: Lifecycle, enc: Encode) -> dict[str, Any]:
    """The issue's schema exactly (null where unknown); the tracker's own bookkeeping
    (kernel_oom_kills, recreations) stays out; the highest memory peak seen across the
    re-creations is the container's `memory_peak_seen_bytes`."""
    return {
        "restart_count": life.restart_count,
        "last_exit_code": life.last_exit_code,
        "oom_killed": life.oom_killed,
        "oom_kills": life.oom_kills,
        "started_at": life.started_at,
        "finished_at": life.finished_at,
    }


def lifecycle_to_dict(life: Lifecycle | None) -> dict[str, Any]:
    return _lifecycle(life or Lifecycle(), encode)


def _snapshot(snapshot: Snapshot, enc: Encode) -> dict[str, Any]:
    return {
        "time": snapshot.time,
        "interval_s": snapshot.interval_s,
        "host": {**enc(snapshot.host), "cpu_percent": snapshot.host_cpu_percent},
        "engines": enc(snapshot.raw.engine_status),
        "notes": enc(snapshot.raw.notes),
        "containers": enc(snapshot.containers),
    }


def _link(link: Link, enc: Encode) -> dict[str, Any]:
    return fields_of(link, enc, rename={"peer": "host_peer"})


def _container_net(reading: ContainerNet, enc: Encode) -> dict[str, Any]:
    return {
        "container": {
            "id": reading.container_id,
            "name": reading.container_name,
            "pid": reading.pid,
        },
        **fields_of(reading, enc, omit=("container_id", "container_name", "pid")),
    }


# The overrides of the records a snapshot holds (the net and layer records' are added by
# `all_overrides`).
SNAPSHOT_OVERRIDES: Mapping[type, Override] = {
    Snapshot: _snapshot,
    ContainerView: _container,
    Limits: _limits,
    Lifecycle: _lifecycle,
    ProcessUsage: _process,
}


@functools.cache
def all_overrides() -> Mapping[type, Override]:
    """Every override: the snapshot's, the net records' (ctop_py.net) and the layer records'
    (ctop_py.export.layers), imported on first use so that `snapshot` and `ns` load neither
    at start-up."""
    from ctop_py.export import layers
    from ctop_py.net import ContainerNet, Link

    return {
        **SNAPSHOT_OVERRIDES,
        ContainerNet: _container_net,
        Link: _link,
        **layers.OVERRIDES,
    }


def to_json(value: Any) -> Any:
    """Any record (or mapping, sequence, enum of them) as the documented JSON data."""
    return encode(value, all_overrides())


def dumps(value: Any) -> str:
    """What `--json` prints."""
    return dumps_data(to_json(value))


def core_to_json(value: Any) -> Any:
    """`to_json` of records that hold no net nor layer record (a snapshot, namespaces, events,
    findings), without importing those modules."""
    return encode(value, SNAPSHOT_OVERRIDES)


def dumps_data(data: Any) -> str:
    """What `--json` prints, of data already made JSON-able (by `to_json`): the text of
    `json.dumps(data, indent=2)`, written faster (ctop_py/export/indented.py)."""
    return dumps_indented(data)


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    data: dict[str, Any] = core_to_json(snapshot)
    return data


def container_to_dict(view: ContainerView) -> dict[str, Any]:
    data: dict[str, Any] = core_to_json(view)
    return data


def net_to_dict(
    reading: ContainerNet, link_rates: Mapping[str, LinkRates] | None = None
) -> dict[str, Any]:
    """`ctop-py net --json`: each link with its rates per second when there are any."""
    data: dict[str, Any] = to_json(reading)
    if link_rates is not None:
        for link, entry in zip(reading.links, data["links"], strict=True):
            rate = link_rates.get(link.name)
            if rate is not None:
                entry["rates_per_s"] = to_json(rate)
    return data
