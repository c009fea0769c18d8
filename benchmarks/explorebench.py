"""The layers explorer on a layer of 100,000 files (plain directories under /tmp, no image).

Two layers: a base of `files // 5` files, and a top layer of `files` files: half as
directories of 50 (a package install), half in one flat directory (the worst case for one
listing: 50,000 names in one readdir). Measured, each the median of 3 runs:

* first listing: `list_tree` of the top layer's root, and of the flat directory (what the
  app paints first; the entries shown are bounded, the directory is read once);
* the full walk with directory sizes (`walk_tree`, what the app computes in a worker after
  the first paint) and dive's efficiency over both layers (`compute_efficiency`);
* peak Python memory of each of those (tracemalloc, one extra run);
* in the app (headless, Textual's test driver): from opening the explorer on that layer to
  its tree showing the root's entries, and from expanding the flat directory to its entries
  shown (the first paint the user waits for).
"""

from __future__ import annotations

import shutil
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.util import log, spread
from ctop_py.host import HostRoot
from ctop_py.layers.efficiency import compute_efficiency
from ctop_py.layers.image import LayerChain
from ctop_py.layers.stack import Layer, LayerRole
from ctop_py.layers.tree import list_tree, walk_tree

PER_DIR = 50


def build(base: Path, files: int) -> LayerChain:
    if base.exists():
        shutil.rmtree(base)
    lower, upper = base / "lower", base / "upper"
    for i in range(max(files // 5 // PER_DIR, 1)):
        d = lower / "usr" / "lib" / f"base{i:05d}"
        d.mkdir(parents=True)
        for j in range(PER_DIR):
            (d / f"f{j:03d}.so").write_bytes(b"b" * 100)
    nested = files - files // 2
    for i in range(nested // PER_DIR):
        d = upper / "usr" / "lib" / f"pkg{i:05d}"
        d.mkdir(parents=True)
        for j in range(PER_DIR):
            (d / f"m{j:03d}.py").write_bytes(b"print(1)\n")
    flat = upper / "var" / "cache" / "flat"
    flat.mkdir(parents=True)
    for i in range(files // 2):
        (flat / f"c{i:06d}").write_bytes(b"x" * 10)
    layers = tuple(
        Layer(LayerRole.LOWER, n + 1, str(p), str(p), True, True)
        for n, p in enumerate((lower, upper))
    )
    return LayerChain(name=str(base), image_id=None, container_id=None, layers=layers)


def _timed(fn: Callable[[], Any], repeats: int = 3) -> tuple[dict[str, float], Any]:
    times = []
    result = None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return spread(times), result


def _peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    finally:
        tracemalloc.stop()


def ui_first_paint(chain: LayerChain) -> dict[str, float]:
    """Seconds until the explorer shows the top layer's root, then the flat directory."""
    import asyncio

    from textual.app import App, ComposeResult
    from textual.widgets import Tree

    from ctop_py.layers.explore import ExploreSource
    from ctop_py.ui.widgets.layer_explorer import LayerExplorer

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield LayerExplorer(ExploreSource(HostRoot()), "", id="lx")

    async def run() -> dict[str, float]:
        app = Bench()
        async with app.run_test(size=(160, 44)) as pilot:
            explorer = app.query_one(LayerExplorer)
            tree = explorer.query_one("#lx-files", Tree)
            t0 = time.perf_counter()
            explorer.open("bench", lambda: chain)
            while not any(n.data is not None for n in tree.root.children):
                await pilot.pause(0.005)
            first = time.perf_counter() - t0
            var = next(n for n in tree.root.children if n.data and n.data.name == "var")
            t1 = time.perf_counter()
            var.expand()
            while not var.children or var.children[0].data is None:
                await pilot.pause(0.005)
            cache = var.children[0]
            cache.expand()
            while not cache.children or cache.children[0].data is None:
                await pilot.pause(0.005)
            flat = cache.children[0]
            flat.expand()
            while not flat.children or flat.children[0].data is None:
                await pilot.pause(0.005)
            second = time.perf_counter() - t1
            return {"root_s": round(first, 3), "flat_dir_s": round(second, 3)}

    return asyncio.run(run())


def bench_explore(workdir: Path, files: int) -> dict[str, Any]:
    base = workdir / f"explore-{files}"
    t0 = time.monotonic()
    chain = build(base, files)
    built_s = round(time.monotonic() - t0, 1)
    root = HostRoot()
    try:
        first, listing = _timed(lambda: list_tree(root, chain, 1, "/"))
        flat, flat_listing = _timed(lambda: list_tree(root, chain, 1, "/var/cache/flat"))
        walk_s, walk = _timed(lambda: walk_tree(root, chain, 1, max_entries=10 * files))
        eff_s, eff = _timed(lambda: compute_efficiency(root, chain))
        result = {
            "files": files,
            "build_s": built_s,
            "first_listing_s": first,
            "first_listing_entries": len(listing.entries),
            "flat_listing_s": flat,
            "flat_listing_total": flat_listing.total,
            "flat_listing_shown": len(flat_listing.entries),
            "walk_s": walk_s,
            "walk_nodes": len(walk.nodes),
            "walk_truncated": walk.truncated,
            "efficiency_s": eff_s,
            "efficiency_paths": eff.paths,
            "walk_peak_mib": _peak_mib(lambda: walk_tree(root, chain, 1, max_entries=10 * files)),
            "efficiency_peak_mib": _peak_mib(lambda: compute_efficiency(root, chain)),
            "flat_listing_peak_mib": _peak_mib(
                lambda: list_tree(root, chain, 1, "/var/cache/flat")
            ),
            "app_first_paint": ui_first_paint(chain),
        }
        log(
            f"  explore: {files} files: first listing {first['median']:.3f} s, flat directory "
            f"of {flat_listing.total} {flat['median']:.3f} s, full walk {walk_s['median']:.2f} s, "
            f"efficiency {eff_s['median']:.2f} s; app: root shown in "
            f"{result['app_first_paint']['root_s']:.3f} s, flat directory in "
            f"{result['app_first_paint']['flat_dir_s']:.3f} s"
        )
        return result
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    import json
    import sys
    import tempfile

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory(prefix="ctop-explore-") as tmp:
        print(json.dumps(bench_explore(Path(tmp), count), indent=1))
