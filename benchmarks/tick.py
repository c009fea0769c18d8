"""Collector ticks against the floor, and the daemons' CPU while ctop-py samples."""

from __future__ import annotations

import functools
import inspect
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from benchmarks import trace
from benchmarks.util import DaemonWindow, log, ms, spread, timed
from ctop_py.collect import Collector
from ctop_py.host import HostRoot
from ctop_py.runtimes.docker import EngineClient

FOREVER = 1e12
DOCKER_URL = "unix:///var/run/docker.sock"

EngineFactory = Callable[[float], Sequence[EngineClient]]


def docker_engines(ttl: float) -> list[EngineClient]:
    return [EngineClient("docker", DOCKER_URL, ttl=ttl)]


def no_engines(ttl: float) -> list[EngineClient]:
    return []


def _interleaved(
    fns: Sequence[Callable[[], Any]], rounds: int, budget_s: float
) -> list[list[tuple[float, float]]]:
    """Alternate the functions so that all see the same load; stop early past the budget."""
    runs: list[list[tuple[float, float]]] = [[] for _ in fns]
    deadline = time.monotonic() + budget_s
    for i in range(rounds):
        for fn, out in zip(fns, runs, strict=True):
            out.append(timed(fn))
        if i >= 4 and time.monotonic() > deadline:
            break
    return runs


def _figures(runs: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "wall_ms": spread(ms(w for w, _ in runs)),
        "cpu_ms": spread(ms(c for _, c in runs)),
    }


def bench_collector(
    root: HostRoot,
    engines: EngineFactory,
    *,
    rounds: int = 40,
    budget_s: float = 30.0,
    refresh_rounds: int = 10,
) -> dict[str, Any]:
    """The app's tick (`sample(detail=())`) and a full-detail tick (`sample()`), each against
    a floor that makes the same system calls, plus the tick that refreshes everything (the
    full cgroup walk and process walk, limits, the engine's container list) that comes once
    every 5 s."""
    steady = Collector(root, engines=engines(FOREVER), rescan_s=FOREVER, limits_s=FOREVER)
    try:
        for _ in range(3):
            steady.sample(detail=())
        sample, ops = trace.trace(lambda: steady.sample(detail=()))
        _, full_ops = trace.trace(lambda: steady.sample())
        containers = sum(1 for c in sample.containers if c.state == "running")
        floor = trace.make_floor(ops)
        full_floor = trace.make_floor(full_ops)
        eof_floor = trace.make_floor(ops, to_eof=True)
        floor_runs, eof_runs, tick_runs = _interleaved(
            (floor, eof_floor, lambda: steady.sample(detail=())), rounds, budget_s / 2
        )
        full_floor_runs, full_runs = _interleaved(
            (full_floor, lambda: steady.sample()), max(rounds // 2, 5), budget_s / 4
        )
        brief = None
        if "brief" in inspect.signature(steady.sample).parameters:
            # What the app would pay with brief counters for the containers not on screen.
            brief_call = functools.partial(steady.sample, detail=(), brief=True)
            brief_call()
            _, brief_ops = trace.trace(brief_call)
            brief_floor_runs, brief_runs = _interleaved(
                (trace.make_floor(brief_ops), brief_call), max(rounds // 2, 5), budget_s / 4
            )
            brief = {
                "tick": _figures(brief_runs),
                "floor": _figures(brief_floor_runs),
                "floor_ops": trace.summary(brief_ops),
            }
    finally:
        steady.close()
    refreshing = Collector(root, engines=engines(0.0), rescan_s=0.0, limits_s=0.0)
    try:
        refreshing.sample(detail=())
        refresh_runs = []
        deadline = time.monotonic() + budget_s / 4
        for _ in range(refresh_rounds):
            refresh_runs.append(timed(lambda: refreshing.sample(detail=())))
            if time.monotonic() > deadline:
                break
    finally:
        refreshing.close()

    tick, flo = _figures(tick_runs), _figures(floor_runs)
    full, full_flo = _figures(full_runs), _figures(full_floor_runs)
    refresh = _figures(refresh_runs)
    tick_med = tick["wall_ms"]["median"]
    refresh_med = refresh["wall_ms"]["median"]
    result = {
        "containers": containers,
        "tick": tick,
        "floor": flo,
        "floor_read_to_eof": _figures(eof_runs),
        "ratio_wall": tick_med / flo["wall_ms"]["median"],
        "ratio_cpu": tick["cpu_ms"]["median"] / max(flo["cpu_ms"]["median"], 1e-9),
        "full_tick": full,
        "full_floor": full_flo,
        "full_ratio_wall": full["wall_ms"]["median"] / full_flo["wall_ms"]["median"],
        "refresh_tick": refresh,
        "brief": brief,
        # At a 1 s refresh, one tick in five also refreshes (walks, limits, engine list).
        "amortised_tick_wall_ms": (4 * tick_med + refresh_med) / 5,
        "per_container_us": 1000 * tick_med / max(containers, 1),
        "floor_ops": trace.summary(ops),
        "full_floor_ops": trace.summary(full_ops),
        "floor_files_per_container": sum(1 for op in ops if op.call == "open") / max(containers, 1),
    }
    brief_text = ""
    if brief is not None:
        brief_text = (
            f"; brief {brief['tick']['wall_ms']['median']:.2f} ms "
            f"(floor {brief['floor']['wall_ms']['median']:.2f} ms)"
        )
    log(
        f"  {containers} containers: tick {tick_med:.2f} ms (floor "
        f"{flo['wall_ms']['median']:.2f} ms, x{result['ratio_wall']:.2f}); full "
        f"{full['wall_ms']['median']:.2f} ms (x{result['full_ratio_wall']:.2f}); refresh "
        f"{refresh_med:.2f} ms{brief_text}"
    )
    return result


@contextmanager
def count_engine_requests() -> Iterator[Counter[str]]:
    """Count the HTTP requests the Docker SDK sends (by method and path, ids elided)."""
    import re

    import requests

    counts: Counter[str] = Counter()
    original = requests.Session.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        path = re.sub(r"/v[0-9.]+/", "/", str(request.path_url).split("?")[0])
        path = re.sub(r"[0-9a-f]{64}", "<id>", path)
        counts[f"{request.method} {path}"] += 1
        return original(self, request, **kwargs)

    requests.Session.send = send  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        requests.Session.send = original  # type: ignore[method-assign]


def daemons_while_sampling(seconds: float, interval_s: float = 1.0) -> dict[str, Any]:
    """The app's collection as it runs (default rescan, limits and engine-list periods, one
    `sample(detail=())` per second); the daemons' CPU over the window and every Engine API
    request the collector made."""
    with count_engine_requests() as requests_made:
        collector = Collector()
        try:
            collector.sample(detail=())
            requests_made.clear()
            window = DaemonWindow.start()
            t0 = time.monotonic()
            own0 = time.process_time()
            ticks = 0
            while time.monotonic() - t0 < seconds:
                collector.sample(detail=())
                ticks += 1
                time.sleep(max(0.0, t0 + ticks * interval_s - time.monotonic()))
            own = time.process_time() - own0
            daemons = window.stop()
        finally:
            collector.close()
    stats_calls = sum(n for k, n in requests_made.items() if "/stats" in k)
    return {
        "ticks": ticks,
        "collector_cpu_s": round(own, 3),
        "collector_cpu_percent": round(100 * own / daemons["window_s"], 3),
        "daemons": daemons,
        "engine_requests": dict(requests_made),
        "stats_api_calls": stats_calls,
    }


def cadence(seconds: float, interval_s: float = 1.0) -> dict[str, Any]:
    """The tick and its floor at the app's pace, one each per second (order alternating),
    with default collector settings: caches are cold after a second of other work, which a
    back-to-back loop hides. CPU of this process per tick and per floor."""
    collector = Collector()
    try:
        for _ in range(2):
            collector.sample(detail=())
        _, ops = trace.trace(lambda: collector.sample(detail=()))
        floor = trace.make_floor(ops)
        ticks: list[tuple[float, float]] = []
        floors: list[tuple[float, float]] = []
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < seconds:
            pair = [(floors, floor), (ticks, lambda: collector.sample(detail=()))]
            for out, fn in pair if n % 2 else reversed(pair):
                out.append(timed(fn))
            n += 1
            time.sleep(max(0.0, t0 + n * interval_s - time.monotonic()))
    finally:
        collector.close()
    tick_cpu = [c for _, c in ticks]
    return {
        "seconds": round(time.monotonic() - t0, 1),
        "tick": _figures(ticks),
        "floor": _figures(floors),
        "tick_cpu_ms_mean": 1000 * sum(tick_cpu) / len(tick_cpu),
        "ratio_cpu_median": _figures(ticks)["cpu_ms"]["median"]
        / max(_figures(floors)["cpu_ms"]["median"], 1e-9),
    }
