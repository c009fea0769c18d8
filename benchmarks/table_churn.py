"""What a container that comes or goes costs the containers list, in process.

`python -m benchmarks.table_churn [--rows 32,100] [--rounds 15]`: the app headless (200x50,
no timer), fed ROWS demo containers of distinct CPU (sorted by CPU, the default), then in turn:
a tick with nothing changed, a tick where one container comes (each round another one, its
CPU between two of theirs, another place each round), a tick with nothing changed, a tick
where it goes. Each tick is the snapshot
applied and the frame drawn (`app.collect()` and two 50 ms pauses for Textual's screen
update); the process's CPU time for it and the table's counters (row lines and cells drawn)
are recorded. Printed: the median per kind of tick, and a come/go's cost above a still
tick's. Run before/after trees alternately, as `make bench` does, to compare them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import replace
from typing import Any

from ctop_py import demo
from ctop_py.launch import AppOptions
from ctop_py.model import ContainerView, Snapshot
from ctop_py.ui import app as ui_app
from ctop_py.ui.source import SelfStats, StaticSource, fixed_names, fixed_probe
from ctop_py.ui.widgets.container_table import ContainerTable

KINDS = ("still", "come", "still", "go")


def numbered_view(n: int, cpu: float) -> ContainerView:
    """The demo's first running container as the n-th of a list, at `cpu` %."""
    base = demo.snapshots(3)[-1]
    first = next(v for v in base.containers if v.raw.active)
    return replace(
        first,
        raw=replace(first.raw, id=f"{first.id}{n:04d}", name=f"{first.name}-{n:04d}"),
        usage=replace(first.usage, cpu_percent=cpu),
    )


def _snapshots(rows: int, rounds: int) -> list[Snapshot]:
    """ROWS containers of CPU 1..ROWS %; each round another container comes and goes, its CPU
    between two of theirs, a different place each round (the rows it moves were not drawn
    at their new places the round before)."""
    base = demo.snapshots(3)[-1]
    views = tuple(numbered_view(n, 1.0 + n) for n in range(rows))
    shapes = [views] * 14  # the sparklines full: constant from here on
    for r in range(rounds):
        more = (*views, numbered_view(rows + 1 + r, 1.5 + (7 * r) % rows))
        shapes += [views, more, more, views]
    return [
        replace(base, containers=shape, raw=replace(base.raw, monotonic_ns=i))
        for i, shape in enumerate(shapes)
    ]


async def _measure(rows: int, rounds: int) -> dict[str, Any]:
    snapshots = _snapshots(rows, rounds)
    app = ui_app.make_app(
        StaticSource(snapshots),
        AppOptions(autostart=False),
        probe=fixed_probe(SelfStats(1.0, 50 * 1024 * 1024)),
        users=fixed_names({0: "root"}),
    )
    ticks: dict[str, list[dict[str, float]]] = {k: [] for k in KINDS}
    async with app.run_test(size=(200, 50)) as pilot:

        async def tick() -> None:
            await app.collect().wait()
            await pilot.pause(0.05)
            await pilot.pause(0.05)

        for _ in range(14):
            await tick()
        table = app.screen.query_one(ContainerTable)
        for _ in range(rounds):
            for kind in KINDS:
                lines, cells = table.rows_rendered, table.cells_rendered
                cpu = time.process_time()
                await tick()
                ticks[kind].append(
                    {
                        "cpu_ms": 1000 * (time.process_time() - cpu),
                        "row_lines": table.rows_rendered - lines,
                        "cells": table.cells_rendered - cells,
                    }
                )
        shown = table.row_count
    out: dict[str, Any] = {"rows": rows, "shown_after": shown}
    for kind, samples in ticks.items():
        out[kind] = {
            key: round(statistics.median(s[key] for s in samples), 2)
            for key in ("cpu_ms", "row_lines", "cells")
        }
    still = out["still"]["cpu_ms"]
    out["come_above_still_ms"] = round(out["come"]["cpu_ms"] - still, 2)
    out["go_above_still_ms"] = round(out["go"]["cpu_ms"] - still, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.table_churn")
    p.add_argument("--rows", default="32,100")
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args(argv)
    for rows in (int(n) for n in args.rows.split(",")):
        print(json.dumps(asyncio.run(_measure(rows, args.rounds))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
