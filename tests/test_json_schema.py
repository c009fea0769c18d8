"""Every `--json` comes from one encoder (ctop_py.export.json over ctop_py.codec): every field
of every record is in the JSON, with its value, unless this file says where it went instead or
why it is left out. A field added to a record and forgotten in the JSON fails here."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any

import pytest

from ctop_py import demo
from ctop_py.export.json import dumps
from ctop_py.model import Snapshot

# Fields deliberately not under their own name, and why (record type -> field -> reason).
ELSEWHERE: dict[str, dict[str, str]] = {
    "Snapshot": {
        "raw": "engines and notes at the top level (checked below); its containers are the views",
        "host_cpu_percent": "host.cpu_percent",
    },
    "ContainerView": {
        "raw": "its fields are the container's own keys",
        "psi": "merged into psi[resource] as some_percent / full_percent",
    },
    "ContainerRaw": {
        "cgroup_path": "cgroup.path",
        "cgroup": "split: cgroup, cpu, memory_stat, memory_events, psi, limits",
        "lifecycle": "always an object (null members when unknown): checked below",
    },
    "Lifecycle": {
        "kernel_oom_kills": "the tracker's bookkeeping (oom_kills is what it says)",
        "recreations": "the tracker's bookkeeping",
        "memory_peak_bytes": "the container's memory_peak_seen_bytes",
        "memory_max_bytes": "limits.memory_max_bytes (its cgroup's) while it runs",
    },
    "CgroupStats": {
        "limits": "the container's limits",
        "cpu": "the container's cpu",
        "psi": "the container's psi",
        "memory": "cgroup.memory, with stat and events at the container's top level",
        "path": "cgroup.path",
        "version": "cgroup.version",
        "psi_read_ns": "left out: a carried reading's monotonic read time (None in full samples)",
        "psi_since_ns": "left out: as psi_read_ns, for the reading before",
    },
    "MemoryCounters": {"stat": "memory_stat", "events": "memory_events"},
    "ProcessUsage": {"process": "its fields are the process's own keys"},
    "Process": {"cgroups": "the container's cgroup, given once"},
}


def check(record: Any, data: Any, where: str) -> None:
    """`data` (decoded JSON) holds `record`: every field, recursively."""
    if hasattr(record, "to_text"):  # a record with a text form (a shared namespace)
        assert data == record.to_text(), where
    elif dataclasses.is_dataclass(record) and not isinstance(record, type):
        assert isinstance(data, dict), where
        skip = ELSEWHERE.get(type(record).__name__, {})
        for field in dataclasses.fields(record):
            if field.name in skip:
                continue
            assert field.name in data, f"{where}.{field.name} is missing from the JSON"
            check(getattr(record, field.name), data[field.name], f"{where}.{field.name}")
    elif isinstance(record, enum.Enum):
        assert data == record.value, where
    elif isinstance(record, Mapping):
        assert isinstance(data, dict) and set(data) == {str(k) for k in record}, where
        for key, value in record.items():
            check(value, data[str(key)], f"{where}[{key!r}]")
    elif isinstance(record, tuple | list):
        assert isinstance(data, list) and len(data) == len(record), where
        for i, (value, item) in enumerate(zip(record, data, strict=True)):
            check(value, item, f"{where}[{i}]")
    elif isinstance(record, float):
        assert data == pytest.approx(record), where
    else:
        assert data == record, where


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return demo.snapshots(3)[-1]  # the third: every rate is known


def test_every_field_of_a_snapshot_is_in_its_json(snapshot: Snapshot) -> None:
    data = json.loads(dumps(snapshot))
    check(snapshot, data, "snapshot")
    check(snapshot.raw.engine_status, data["engines"], "engines")
    check(snapshot.raw.notes, data["notes"], "notes")
    assert data["host"]["cpu_percent"] == pytest.approx(snapshot.host_cpu_percent)
    assert len(data["containers"]) == len(snapshot.containers) > 3
    for view, item in zip(snapshot.containers, data["containers"], strict=True):
        where = f"container {view.name}"
        check(view, item, where)
        check(view.raw, item, where)
        check(view.limits, item["limits"], f"{where}.limits")
        if view.raw.lifecycle is not None:
            check(view.raw.lifecycle, item["lifecycle"], f"{where}.lifecycle")
            peak = view.raw.lifecycle.memory_peak_bytes
            assert item["memory_peak_seen_bytes"] == peak
        assert set(item["lifecycle"]) == {
            "restart_count", "last_exit_code", "oom_killed", "oom_kills", "started_at",
            "finished_at",
        }  # fmt: skip
        assert item["limits"]["cpu_quota_cores"] == view.limits.cpu_quota_cores
        cg = view.raw.cgroup
        if cg is None:
            assert item["cpu"] is None and item["psi"] == {}
            continue
        assert item["cgroup"]["path"] == view.raw.cgroup_path
        assert item["cgroup"]["version"] == cg.version
        check(cg, item["cgroup"], f"{where}.cgroup")
        check(cg.cpu, item["cpu"], f"{where}.cpu")
        check(cg.memory, item["cgroup"]["memory"], f"{where}.cgroup.memory")
        check(cg.memory.stat, item["memory_stat"], f"{where}.memory_stat")
        check(cg.memory.events, item["memory_events"], f"{where}.memory_events")
        for resource, psi in cg.psi.items():
            check(psi, item["psi"][resource], f"{where}.psi.{resource}")
            rates = view.psi.get(resource)
            if rates is not None:
                check(rates, item["psi"][resource], f"{where}.psi.{resource}")
        for usage, entry in zip(view.processes, item["processes"], strict=True):
            check(usage, entry, f"{where}.process {usage.process.pid}")
            check(usage.process, entry, f"{where}.process {usage.process.pid}")
            assert entry["pid_in_container"] == usage.process.pid_in_container


def test_the_limits_the_app_shows_are_in_the_json(snapshot: Snapshot) -> None:
    """`snapshot --json` once lacked memory.low and cpuset.mems, which the app shows."""
    limits = json.loads(dumps(snapshot))["containers"][0]["limits"]
    assert {"memory_low_bytes", "cpuset_mems", "cpuset_cpus", "memory_high_bytes"} <= set(limits)


def test_a_record_without_an_override_is_all_its_fields() -> None:
    class Kind(enum.Enum):
        A = "a"

    @dataclasses.dataclass(frozen=True)
    class Inner:
        kind: Kind
        values: tuple[int, ...]

    @dataclasses.dataclass(frozen=True)
    class Outer:
        name: str
        inner: Inner
        by_key: Mapping[int, Inner]

    outer = Outer("x", Inner(Kind.A, (1, 2)), {3: Inner(Kind.A, ())})
    assert json.loads(dumps(outer)) == {
        "name": "x",
        "inner": {"kind": "a", "values": [1, 2]},
        "by_key": {"3": {"kind": "a", "values": []}},
    }
