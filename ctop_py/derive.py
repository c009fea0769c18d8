"""derive(prev, cur): rates between two raw samples.

A rate is None on the first sample, across a counter reset (a counter went backwards: the
container restarted or its cgroup was recreated), or where either reading is missing.
"""

from __future__ import annotations

from collections.abc import Mapping

from ctop_py.model import (
    CgroupStats,
    ContainerRaw,
    ContainerView,
    Process,
    ProcessUsage,
    Psi,
    PsiRates,
    RawSample,
    Snapshot,
    Throttling,
    Usage,
)

NS_PER_S = 1_000_000_000


def delta(prev: int | None, cur: int | None) -> int | None:
    if prev is None or cur is None or cur < prev:
        return None
    return cur - prev


def rate(prev: int | None, cur: int | None, seconds: float | None) -> float | None:
    d = delta(prev, cur)
    if d is None or not seconds or seconds <= 0:
        return None
    return d / seconds


# The views of records that were the same object in two samples in a row, by the record's
# id (the record is held too, so its id is not reused while it is here): see derive().
_still: dict[int, tuple[ContainerRaw, ContainerView]] = {}


def derive(prev: RawSample | None, cur: RawSample) -> Snapshot:
    seconds = None
    if prev is not None and cur.monotonic_ns > prev.monotonic_ns:
        seconds = (cur.monotonic_ns - prev.monotonic_ns) / NS_PER_S
    before = prev.containers if prev and seconds else ()
    previous: dict[tuple[str, str], ContainerRaw] | None = None  # built if a position misses
    prev_procs = {p.key: p for p in prev.processes} if prev and seconds else {}
    procs = {p.pid: p for p in cur.processes}
    ticks = cur.host.clock_ticks

    global _still
    still: dict[int, tuple[ContainerRaw, ContainerView]] = {}
    known = _still
    views: list[ContainerView] = []
    detailed = procs.keys()
    for i, c in enumerate(cur.containers):
        # On a still host the containers are where they were, as the very same records.
        p = before[i] if i < len(before) else None
        if p is not c:
            if previous is None:
                previous = {(b.runtime, b.id): b for b in before}
            p = previous.get((c.runtime, c.id))
        if p is c and detailed.isdisjoint(c.pids):
            # The collector gave back the very record of the previous sample (nothing it
            # reads changed): every rate is 0 whatever the interval, and with no process
            # detail the view is a function of the record alone: the view made for it the
            # last time is given back, the same object (the UI compares rows by identity).
            entry = known.get(id(c))
            if entry is None or entry[0] is not c:
                entry = (c, _view(c, c, seconds, procs, prev_procs, ticks))
            still[id(c)] = entry
            views.append(entry[1])
        else:
            views.append(_view(c, p, seconds, procs, prev_procs, ticks))
    _still = still  # only the records of this sample are kept
    host_cpu = None
    if prev is not None and seconds:
        d_busy = delta(prev.host_cpu_busy_ticks, cur.host_cpu_busy_ticks)
        d_total = delta(prev.host_cpu_total_ticks, cur.host_cpu_total_ticks)
        if d_busy is not None and d_total:
            host_cpu = 100.0 * d_busy / d_total
    return Snapshot(
        time=cur.time,
        interval_s=seconds,
        host=cur.host,
        host_cpu_percent=host_cpu,
        containers=tuple(views),
        raw=cur,
    )


def _process_usage(
    pids: tuple[int, ...],
    procs: Mapping[int, Process],
    prev_procs: Mapping[tuple[int, int], Process],
    seconds: float | None,
    ticks: int,
) -> tuple[ProcessUsage, ...]:
    result = []
    for pid in pids:
        process = procs.get(pid)
        if process is None:
            continue
        before = prev_procs.get(process.key)  # keyed by start time: a reused pid is new
        cpu = rate(before.cpu_ticks if before else None, process.cpu_ticks, seconds)
        result.append(ProcessUsage(process, None if cpu is None else 100.0 * cpu / ticks))
    return tuple(result)


def _view(
    cur: ContainerRaw,
    prev: ContainerRaw | None,
    seconds: float | None,
    procs: Mapping[int, Process],
    prev_procs: Mapping[tuple[int, int], Process],
    ticks: int,
) -> ContainerView:
    processes = _process_usage(cur.pids, procs, prev_procs, seconds, ticks)
    cg, pcg = cur.cgroup, prev.cgroup if prev else None
    if cg is None or cg.gone:
        return ContainerView(
            raw=cur,
            usage=_usage_from_processes(cur, prev, processes, seconds),
            throttling=Throttling(),
            psi={},
            processes=processes,
        )
    limits = cg.limits
    cpu_percent = None
    if pcg is not None and not pcg.gone:
        cpu_rate = rate(pcg.cpu.usage_ns, cg.cpu.usage_ns, seconds)
        cpu_percent = None if cpu_rate is None else 100.0 * cpu_rate / NS_PER_S
    quota = limits.cpu_quota_cores
    memory_used = cg.memory.used_bytes
    memory_percent = None
    if memory_used is not None and limits.memory_max_bytes:
        memory_percent = 100.0 * memory_used / limits.memory_max_bytes

    def counter_rate(attr_prev: int | None, attr_cur: int | None) -> float | None:
        return rate(attr_prev, attr_cur, seconds) if pcg is not None else None

    net_rx = net_tx = None
    if cur.net is not None and prev is not None and prev.net is not None:
        net_rx = rate(prev.net.rx_bytes, cur.net.rx_bytes, seconds)
        net_tx = rate(prev.net.tx_bytes, cur.net.tx_bytes, seconds)

    usage = Usage(
        cpu_percent=cpu_percent,
        cpu_percent_of_quota=(None if cpu_percent is None or not quota else cpu_percent / quota),
        memory_used_bytes=memory_used,
        memory_current_bytes=cg.memory.current_bytes,
        memory_percent_of_limit=memory_percent,
        pids_current=cg.pids_current,
        net_rx_bytes_per_s=net_rx,
        net_tx_bytes_per_s=net_tx,
        io_read_bytes_per_s=counter_rate(pcg.io.read_bytes if pcg else None, cg.io.read_bytes),
        io_write_bytes_per_s=counter_rate(pcg.io.write_bytes if pcg else None, cg.io.write_bytes),
    )

    throttled_percent = throttled_per_s = None
    periods = None
    if pcg is not None and not pcg.gone and seconds:
        periods = delta(pcg.cpu.nr_periods, cg.cpu.nr_periods)
        throttled = delta(pcg.cpu.nr_throttled, cg.cpu.nr_throttled)
        if periods is not None and throttled is not None and quota is not None:
            # With a quota and no period elapsed the container simply did not run: 0 % is true.
            throttled_percent = 100.0 * throttled / periods if periods else 0.0
        per_s = rate(pcg.cpu.throttled_ns, cg.cpu.throttled_ns, seconds)
        if per_s is not None and quota is not None:
            throttled_per_s = per_s / NS_PER_S
    throttling = Throttling(
        nr_periods=cg.cpu.nr_periods,
        nr_throttled=cg.cpu.nr_throttled,
        throttled_seconds=None if cg.cpu.throttled_ns is None else cg.cpu.throttled_ns / NS_PER_S,
        throttled_percent=throttled_percent,
        throttled_seconds_per_s=throttled_per_s,
        periods_in_window=periods,
    )
    psi_seconds = _psi_interval(pcg, cg, seconds)
    if psi_seconds is None:
        # No interval (the first sample, a carried reading: most ticks of a container not
        # open): every rate is None whatever the totals, one shared value for each resource.
        psi = dict.fromkeys(cg.psi, NO_PSI_RATES)
    else:
        psi = {
            resource: _psi_rates(pcg.psi.get(resource) if pcg else None, value, psi_seconds)
            for resource, value in cg.psi.items()
        }
    return ContainerView(raw=cur, usage=usage, throttling=throttling, psi=psi, processes=processes)


def _psi_interval(
    prev: CgroupStats | None, cur: CgroupStats, seconds: float | None
) -> float | None:
    """The seconds between the previous record's PSI reading and this one's, over which
    their totals' difference stalled; None where that is not known. Each read in its own
    sample: the samples' interval. A carried reading (a container not open reads PSI every
    few seconds): None while it is the previous record's reading (no new reading: "–", not
    a false 0 %); for a new reading, from when the one before it was last read (found the
    same) to its own read, the previous record holding that one (not a spike of several
    seconds' stall over one tick, nor a dilution over the time the one before was kept)."""
    if prev is None or prev.gone or not prev.psi:
        return None
    if cur.psi_read_ns is None:  # read in this sample
        return seconds if prev.psi_read_ns is None else None  # opened: since when, unknown
    if cur.psi is prev.psi or cur.psi == prev.psi:
        return None  # the previous record's reading, carried
    since = cur.psi_since_ns
    if since is None or (prev.psi_read_ns is not None and since < prev.psi_read_ns):
        return None  # the previous record's reading is not the one just before
    return (cur.psi_read_ns - since) / NS_PER_S or None


NO_PSI_RATES = PsiRates()  # frozen: one value shared by every reading without an interval


def _psi_rates(prev: Psi | None, cur: Psi, seconds: float | None) -> PsiRates:
    def pct(p: int | None, c: int | None) -> float | None:
        r = rate(p, c, seconds)
        return None if r is None else min(100.0, 100.0 * r / 1_000_000)

    return PsiRates(
        some_percent=pct(
            prev.some.total_us if prev and prev.some else None,
            cur.some.total_us if cur.some else None,
        ),
        full_percent=pct(
            prev.full.total_us if prev and prev.full else None,
            cur.full.total_us if cur.full else None,
        ),
    )


def _usage_from_processes(
    cur: ContainerRaw,
    prev: ContainerRaw | None,
    processes: tuple[ProcessUsage, ...],
    seconds: float | None,
) -> Usage:
    """Sandboxes have no cgroup of their own: CPU and memory are their processes' sum."""
    if not processes:
        return Usage()
    cpus = [p.cpu_percent for p in processes if p.cpu_percent is not None]
    net_rx = net_tx = None
    if cur.net is not None and prev is not None and prev.net is not None:
        net_rx = rate(prev.net.rx_bytes, cur.net.rx_bytes, seconds)
        net_tx = rate(prev.net.tx_bytes, cur.net.tx_bytes, seconds)
    return Usage(
        cpu_percent=sum(cpus) if cpus else None,
        memory_used_bytes=sum(p.process.rss_bytes for p in processes),
        pids_current=sum(p.process.threads for p in processes),
        net_rx_bytes_per_s=net_rx,
        net_tx_bytes_per_s=net_tx,
    )
