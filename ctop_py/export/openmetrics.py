"""OpenMetrics for Prometheus, with cAdvisor's metric names where one exists (so existing
dashboards work).

A background sampler keeps the latest RawSample; a scrape only formats it, so a scrape never
waits on a slow host read. Counters are exported raw (Prometheus computes rates).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector as PromCollector

from ctop_py.model import ContainerRaw, RawSample

LABELS = ["id", "name", "image", "runtime"]
NS = 1e9


@dataclass(frozen=True)
class _Def:
    name: str
    kind: str  # "counter" | "gauge"
    help: str
    value: Callable[[ContainerRaw], float | int | None]


def _cg(
    fn: Callable[[ContainerRaw], float | int | None],
) -> Callable[[ContainerRaw], float | int | None]:
    def wrapped(c: ContainerRaw) -> float | int | None:
        return None if c.cgroup is None or c.cgroup.gone else fn(c)

    return wrapped


def _ns(value: int | None) -> float | None:
    return None if value is None else value / NS


def _psi_seconds(resource: str, kind: str) -> Callable[[ContainerRaw], float | None]:
    def get(c: ContainerRaw) -> float | None:
        if c.cgroup is None or resource not in c.cgroup.psi:
            return None
        line = getattr(c.cgroup.psi[resource], kind)
        return None if line is None else line.total_us / 1e6

    return get


# fmt: off
METRICS: tuple[_Def, ...] = (
    _Def("container_cpu_usage_seconds", "counter", "Cumulative CPU time consumed",
         _cg(lambda c: _ns(c.cgroup.cpu.usage_ns) if c.cgroup else None)),
    _Def("container_cpu_user_seconds", "counter", "Cumulative user CPU time",
         _cg(lambda c: _ns(c.cgroup.cpu.user_ns) if c.cgroup else None)),
    _Def("container_cpu_system_seconds", "counter", "Cumulative system CPU time",
         _cg(lambda c: _ns(c.cgroup.cpu.system_ns) if c.cgroup else None)),
    _Def("container_cpu_cfs_periods", "counter", "Number of elapsed enforcement periods",
         _cg(lambda c: c.cgroup.cpu.nr_periods if c.cgroup else None)),
    _Def("container_cpu_cfs_throttled_periods", "counter", "Number of throttled periods",
         _cg(lambda c: c.cgroup.cpu.nr_throttled if c.cgroup else None)),
    _Def("container_cpu_cfs_throttled_seconds", "counter", "Total time duration throttled",
         _cg(lambda c: _ns(c.cgroup.cpu.throttled_ns) if c.cgroup else None)),
    _Def("container_spec_cpu_quota", "gauge", "CPU quota (microseconds per period); absent: none",
         _cg(lambda c: c.cgroup.limits.cpu_quota_us if c.cgroup else None)),
    _Def("container_spec_cpu_period", "gauge", "CPU period (microseconds)",
         _cg(lambda c: c.cgroup.limits.cpu_period_us if c.cgroup else None)),
    _Def("container_spec_cpu_shares", "gauge", "CPU shares (cgroup v1)",
         _cg(lambda c: c.cgroup.limits.cpu_shares if c.cgroup else None)),
    _Def("container_spec_memory_limit_bytes", "gauge", "Memory limit; absent: no limit",
         _cg(lambda c: c.cgroup.limits.memory_max_bytes if c.cgroup else None)),
    _Def("container_spec_memory_reservation_limit_bytes", "gauge", "memory.high (cgroup v2)",
         _cg(lambda c: c.cgroup.limits.memory_high_bytes if c.cgroup else None)),
    _Def("container_spec_memory_swap_limit_bytes", "gauge", "Swap limit (swap only)",
         _cg(lambda c: c.cgroup.limits.swap_max_bytes if c.cgroup else None)),
    _Def("container_memory_usage_bytes", "gauge", "memory.current / memory.usage_in_bytes",
         _cg(lambda c: c.cgroup.memory.current_bytes if c.cgroup else None)),
    _Def("container_memory_working_set_bytes", "gauge",
         "Usage minus inactive file pages (the figure docker stats prints)",
         _cg(lambda c: c.cgroup.memory.used_bytes if c.cgroup else None)),
    _Def("container_memory_max_usage_bytes", "gauge", "Peak memory usage",
         _cg(lambda c: c.cgroup.memory.peak_bytes if c.cgroup else None)),
    _Def("container_memory_swap", "gauge", "Swap in use",
         _cg(lambda c: c.cgroup.memory.swap_current_bytes if c.cgroup else None)),
    _Def("container_oom_events", "counter", "OOM kills in the container",
         _cg(lambda c: c.cgroup.memory.events.get("oom_kill") if c.cgroup else None)),
    _Def("container_threads", "gauge", "Tasks in the cgroup (pids.current)",
         _cg(lambda c: c.cgroup.pids_current if c.cgroup else None)),
    _Def("container_threads_max", "gauge", "pids.max; absent: no limit",
         _cg(lambda c: c.cgroup.limits.pids_max if c.cgroup else None)),
    _Def("container_fs_reads_bytes", "counter", "Bytes read from block devices",
         _cg(lambda c: c.cgroup.io.read_bytes if c.cgroup else None)),
    _Def("container_fs_writes_bytes", "counter", "Bytes written to block devices",
         _cg(lambda c: c.cgroup.io.write_bytes if c.cgroup else None)),
    _Def("container_network_receive_bytes", "counter", "Bytes received (all but lo)",
         lambda c: c.net.rx_bytes if c.net else None),
    _Def("container_network_transmit_bytes", "counter", "Bytes sent (all but lo)",
         lambda c: c.net.tx_bytes if c.net else None),
    _Def("container_network_receive_packets", "counter", "Packets received (all but lo)",
         lambda c: c.net.rx_packets if c.net else None),
    _Def("container_network_transmit_packets", "counter", "Packets sent (all but lo)",
         lambda c: c.net.tx_packets if c.net else None),
    _Def("container_pressure_cpu_waiting_seconds", "counter", "PSI cpu some total",
         _psi_seconds("cpu", "some")),
    _Def("container_pressure_cpu_stalled_seconds", "counter", "PSI cpu full total",
         _psi_seconds("cpu", "full")),
    _Def("container_pressure_memory_waiting_seconds", "counter", "PSI memory some total",
         _psi_seconds("memory", "some")),
    _Def("container_pressure_memory_stalled_seconds", "counter", "PSI memory full total",
         _psi_seconds("memory", "full")),
    _Def("container_pressure_io_waiting_seconds", "counter", "PSI io some total",
         _psi_seconds("io", "some")),
    _Def("container_pressure_io_stalled_seconds", "counter", "PSI io full total",
         _psi_seconds("io", "full")),
)
# fmt: on

MEMORY_EVENTS = ("low", "high", "max", "oom", "oom_kill")


def metric_families(sample: RawSample | None, sample_seconds: float | None) -> Iterator[Metric]:
    families: list[CounterMetricFamily | GaugeMetricFamily] = []
    for d in METRICS:
        cls = CounterMetricFamily if d.kind == "counter" else GaugeMetricFamily
        families.append(cls(d.name, d.help, labels=LABELS))
    events = CounterMetricFamily(
        "ctop_container_memory_events",
        "memory.events counters (v1: oom_kill, and failcnt as max)",
        labels=[*LABELS, "event"],
    )
    running = GaugeMetricFamily("ctop_containers", "Containers with processes", labels=["runtime"])
    if sample is not None:
        per_runtime: dict[str, int] = {}
        for c in sample.containers:
            if not c.pids:
                continue
            per_runtime[c.runtime] = per_runtime.get(c.runtime, 0) + 1
            labels = [c.id, c.name, c.image or "", c.runtime]
            for d, family in zip(METRICS, families, strict=True):
                value = d.value(c)
                if value is not None:
                    family.add_metric(labels, float(value))
            if c.cgroup is not None:
                for event in MEMORY_EVENTS:
                    if event in c.cgroup.memory.events:
                        events.add_metric([*labels, event], c.cgroup.memory.events[event])
        for runtime, count in sorted(per_runtime.items()):
            running.add_metric([runtime], count)
    yield from families
    yield events
    yield running
    meta = GaugeMetricFamily(
        "ctop_sample_timestamp_seconds", "When the exported sample was taken (0: none yet)"
    )
    meta.add_metric([], sample.time if sample else 0.0)
    yield meta
    if sample_seconds is not None:
        duration = GaugeMetricFamily("ctop_sample_duration_seconds", "Time one sample took")
        duration.add_metric([], sample_seconds)
        yield duration


class SampleExporter(PromCollector):
    """A prometheus_client collector over the latest sample; a thread keeps it fresh."""

    def __init__(self, sample: Callable[[], RawSample], interval: float) -> None:
        self._sample = sample
        self.interval = interval
        self.latest: RawSample | None = None
        self.latest_seconds: float | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ctop-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sample_once(self) -> None:
        started = time.monotonic()
        try:
            self.latest = self._sample()
            self.error = None
        except Exception as exc:  # keep serving the last good sample; say why on stderr
            self.error = f"{type(exc).__name__}: {exc}"
        self.latest_seconds = time.monotonic() - started

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample_once()
            self._stop.wait(self.interval)

    def collect(self) -> Iterator[Metric]:
        return metric_families(self.latest, self.latest_seconds)
