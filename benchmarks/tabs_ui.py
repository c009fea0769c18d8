"""The container tabs' UI work per tick, in process: the app on demo snapshots, no host.

`python -m benchmarks.tabs_ui [--tabs overview,throttling,processes] [--ticks 120]
[--warmup 70] [--profile FILE] [--size 200x50]`

The app (headless, 200x50) steps through `ctop_py.demo` snapshots (the spinner throttled,
counters moving); the spinner's container screen is open on each tab in turn. After `warmup`
ticks (the Throttling tab's table full: 60 intervals) it times `ticks` ticks: the UI thread's
CPU (time.thread_time) from the snapshot's arrival to the frame drawn (the compositor's
update), the collection (a StaticSource hands out a ready snapshot) excluded. Headless, so the
terminal output is not in it; benchmarks.tabs_ab measures the whole process in a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import time
from typing import Any

from ctop_py import demo
from ctop_py.launch import AppOptions
from ctop_py.ui import app as ui_app
from ctop_py.ui.history import container_key
from ctop_py.ui.source import SelfStats, StaticSource, fixed_names, fixed_probe

TAB_KEYS = {"overview": "1", "throttling": "2", "processes": "3", "events": "8"}


async def _run(tabs: list[str], ticks: int, warmup: int, size: tuple[int, int],
               profile: cProfile.Profile | None) -> dict[str, list[float]]:  # fmt: skip
    snapshots = demo.snapshots(warmup + ticks * len(tabs) + 5)
    app = ui_app.make_app(
        StaticSource(snapshots),
        AppOptions(autostart=False),
        probe=fixed_probe(SelfStats(1.0, 50 * 1024 * 1024)),
        users=fixed_names({0: "root"}),
    )
    out: dict[str, list[float]] = {}
    async with app.run_test(size=size) as pilot:

        async def tick() -> float:
            # The app's own path: the snapshot's message, the widgets' refreshes, the screen's
            # update timer drawing the frame (no Pilot here: it calls every widget back).
            t0 = time.thread_time()
            await app.collect().wait()
            await asyncio.sleep(0.08)
            return time.thread_time() - t0

        await tick()
        assert app.snapshot is not None
        spinner = next(v for v in app.snapshot.containers if v.name == "spinner")
        app.open_container(container_key(spinner))
        await pilot.pause()
        for _ in range(warmup):
            await tick()
        for tab in tabs:
            await pilot.press(TAB_KEYS[tab])
            await pilot.pause()
            for _ in range(3):
                await tick()
            times: list[float] = []
            if profile is not None:
                profile.enable()
            for _ in range(ticks):
                times.append(await tick())
            if profile is not None:
                profile.disable()
            out[tab] = times
    return out


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tabs_ui")
    p.add_argument("--tabs", default="overview,throttling,processes")
    p.add_argument("--ticks", type=int, default=120)
    p.add_argument("--warmup", type=int, default=70)
    p.add_argument("--size", default="200x50")
    p.add_argument("--profile", help="write cProfile stats here and print the top")
    args = p.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    profile = cProfile.Profile() if args.profile else None
    result: dict[str, Any] = asyncio.run(
        _run(args.tabs.split(","), args.ticks, args.warmup, (w, h), profile)
    )
    for tab, times in result.items():
        ms = sorted(t * 1000 for t in times)
        print(
            f"{tab:11s} UI thread per tick: mean {statistics.mean(ms):.2f} ms "
            f"median {statistics.median(ms):.2f} ms p90 {ms[int(len(ms) * 0.9)]:.2f} ms"
        )
    if profile is not None:
        profile.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(45)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
