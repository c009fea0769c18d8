"""`ctop-py snapshot`: one row per container, and the notes about engines that did not answer."""

from __future__ import annotations

from collections.abc import Sequence

from ctop_py import present
from ctop_py.model import ContainerView, Snapshot


def engine_notes(snapshot: Snapshot) -> list[str]:
    return [
        f"{runtime} engine {status.problem}: its containers show with ids, not names"
        for runtime, status in snapshot.raw.engine_status.items()
        if not status.ok
    ]


def containers_table(views: Sequence[ContainerView]) -> str:
    headers = [
        "NAME", "RUNTIME", "ID", "STATE", "CPU%", "%CPU/Q", "THR%",
        "MEM", "LIMIT", "%MEM/L", "PIDS", "NET RX/TX", "IO R/W",
    ]  # fmt: skip
    rows = []
    for v in views:
        u, lim = v.usage, v.limits
        has_cgroup = v.raw.cgroup is not None
        rows.append(
            [
                present.safe(v.name, 40),
                v.raw.runtime,
                present.short_id(v.id),
                present.safe(v.raw.state, 12),
                present.percent(u.cpu_percent),
                present.percent(u.cpu_percent_of_quota) if lim.cpu_quota_us else "–",
                present.percent(v.throttling.throttled_percent),
                present.size(u.memory_used_bytes),
                present.size(lim.memory_max_bytes, limit_meaning_none=has_cgroup),
                present.percent(u.memory_percent_of_limit),
                f"{present.count(u.pids_current)}/"
                f"{present.count(lim.pids_max, limit_meaning_none=has_cgroup)}",
                f"{present.rate(u.net_rx_bytes_per_s)} {present.rate(u.net_tx_bytes_per_s)}",
                f"{present.rate(u.io_read_bytes_per_s)} {present.rate(u.io_write_bytes_per_s)}",
            ]
        )
    return present.table(headers, rows, right=set(range(4, 11)))
