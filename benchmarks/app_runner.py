"""Runs the ctop-py app as `ctop-py` does (`cli.run_app`), in a terminal (tmux), and writes to a
JSON file when its first frame with containers is on screen: the moment, its pid, and the
time the imports took. Used by benchmarks/appbench.py; not meant to be run by hand.

    python -m benchmarks.app_runner OUT_JSON [--interval S] [--headless] [--full] [--root DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

STARTED = time.time()


def _trace_memory(directory: str, every_s: float = 60.0) -> None:
    """Diagnosis only (CTOP_BENCH_TRACEMALLOC=DIR): tracemalloc snapshots every `every_s`,
    written to DIR/snap-<n>.pickle, to diff what grows (CTOP_BENCH_TRACEMALLOC_EVERY_S: another
    period). Costs memory and CPU itself."""
    import threading
    import tracemalloc

    tracemalloc.start(8)

    def dump() -> None:
        n = 0
        while True:
            time.sleep(every_s)
            tracemalloc.take_snapshot().dump(f"{directory}/snap-{n}.pickle")
            n += 1

    threading.Thread(target=dump, daemon=True).start()


def _log_memory(path: str, every_s: float = 5.0) -> None:
    """Diagnosis only (CTOP_BENCH_MEMLOG=FILE): a JSON line every `every_s` of what holds the
    memory: VmRSS, glibc's mallinfo2 (heap bytes in use and free, mmap'd), Python's blocks and
    arenas (sys._debugmallocstats, read through a temporary stderr), the collector's counts;
    and a line for each collection of the oldest generation (its time and what it freed)."""
    import ctypes
    import functools
    import gc
    import re
    import sys
    import tempfile
    import threading

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in [
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            ]
        ]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    t0 = time.monotonic()
    lock = threading.Lock()
    out = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    def emit(record: dict[str, Any]) -> None:
        with lock:
            out.write(json.dumps({"t": round(time.monotonic() - t0, 2), **record}) + "\n")

    started: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started["t"] = time.perf_counter()
            return
        emit(
            {
                "gc2": True,
                "collected": info["collected"],
                "uncollectable": info["uncollectable"],
                "ms": round(1000 * (time.perf_counter() - started.get("t", 0.0)), 2),
            }
        )

    gc.callbacks.append(on_gc)

    def pymalloc() -> dict[str, int]:
        with tempfile.TemporaryFile("w+") as tmp:
            saved = os.dup(2)
            try:
                os.dup2(tmp.fileno(), 2)
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            tmp.seek(0)
            text = tmp.read()
        found = {}
        for key, pattern in (
            ("arenas_now", r"# arenas allocated current\s*=\s*([\d,]+)"),
            ("arenas_hwm", r"# arenas highwater mark\s*=\s*([\d,]+)"),
            ("pool_bytes_used", r"bytes in allocated blocks\s*=\s*([\d,]+)"),
            ("pool_bytes_free", r"bytes in available blocks\s*=\s*([\d,]+)"),
        ):
            match = re.search(pattern, text)
            if match:
                found[key] = int(match.group(1).replace(",", ""))
        return found

    def rss_kib() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    kinds: dict[str, int] = {}

    def kinds_moved() -> dict[str, int]:
        """The kinds of objects the collector tracks whose count moved by 200 or more."""
        now: dict[str, int] = {}
        for obj in gc.get_objects():
            name = type(obj).__qualname__
            now[name] = now.get(name, 0) + 1
        moved = {k: n - kinds.get(k, 0) for k, n in now.items() if abs(n - kinds.get(k, 0)) >= 200}
        moved.update({k: -n for k, n in kinds.items() if k not in now and n >= 200})
        kinds.clear()
        kinds.update(now)
        return moved

    def caches() -> dict[str, int]:
        """The size of every cache of 100 entries or more: functools' and Textual's LRUs,
        and the dicts a few known objects keep."""
        from textual.cache import LRUCache

        sizes: dict[str, int] = {}
        lru_type = type(functools.lru_cache(1)(len))
        for obj in gc.get_objects():
            if isinstance(obj, LRUCache) and len(obj) >= 100:
                sizes[f"LRUCache@{id(obj):x}/{obj.maxsize}"] = len(obj)
            elif type(obj) is lru_type:
                try:
                    size = obj.cache_info().currsize
                except Exception:  # not functools' wrapper
                    continue
                if size >= 100:
                    sizes[getattr(obj, "__qualname__", "?")] = size
        return sizes

    def loop() -> None:
        while True:
            info = libc.mallinfo2()
            emit(
                {
                    "rss_kib": rss_kib(),
                    "heap_arena": info.arena,
                    "heap_used": info.uordblks,
                    "heap_free": info.fordblks,
                    "heap_top_free": info.keepcost,
                    "mmapped": info.hblkhd,
                    "mmaps": info.hblks,
                    "blocks": sys.getallocatedblocks(),
                    "gc_count": gc.get_count(),
                    "gc_collections": [g["collections"] for g in gc.get_stats()],
                    **pymalloc(),
                    "kinds_moved": kinds_moved(),
                    "caches": caches(),
                }
            )
            time.sleep(every_s)

    threading.Thread(target=loop, daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--headless", action="store_true")
    parser.add_argument(
        "--full",
        action="store_true",
        help="every container's full cgroup counters (brief off: the app's default is brief)",
    )
    parser.add_argument("--root", help="the host's root (a fake tree), as `ctop-py --root`")
    args = parser.parse_args()
    if os.environ.get("CTOP_BENCH_TRACEMALLOC"):
        every = float(os.environ.get("CTOP_BENCH_TRACEMALLOC_EVERY_S", "60"))
        _trace_memory(os.environ["CTOP_BENCH_TRACEMALLOC"], every)
    if os.environ.get("CTOP_BENCH_MEMLOG"):
        _log_memory(os.environ["CTOP_BENCH_MEMLOG"])
    out = Path(args.out)
    record: dict[str, Any] = {"pid": os.getpid(), "started": STARTED}

    def write() -> None:
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.rename(out)

    try:
        from ctop_py import cli, sources
        from ctop_py.host import HostRoot
        from ctop_py.launch import AppOptions
        from ctop_py.sources import LiveSource
        from ctop_py.ui import app as app_module

        record["imported"] = time.time()
        live_next = sources.LiveSource.next

        def timed_next(self: Any) -> Any:
            t = time.time()
            snapshot = live_next(self)
            if "first_sample_start" not in record:
                record["first_sample_start"], record["first_sample_end"] = t, time.time()
            return snapshot

        sources.LiveSource.next = timed_next  # type: ignore[method-assign]
        base: Any = app_module.CtopApp

        css = base.CSS_PATH
        if isinstance(css, str) and not os.path.isabs(css):  # relative to the app's module
            css = str(Path(app_module.__file__).parent / css)

        class BenchApp(base):  # type: ignore[misc]
            """The app, marking its first frame that shows a snapshot."""

            CSS_PATH = css
            _bench_marked = False

            def on_snapshot_ready(self, message: Any) -> None:
                # Textual calls this, then the app's own handler, for the same message; the
                # callback runs once the screen has been refreshed with the new snapshot.
                if not self._bench_marked and getattr(message, "snapshot", None) is not None:
                    self._bench_marked = True
                    self.call_after_refresh(self._bench_first_frame)

            def _bench_first_frame(self) -> None:
                snapshot = getattr(self, "snapshot", None)
                record["first_frame"] = time.time()
                record["containers"] = len(snapshot.containers) if snapshot else None
                write()

            def run(self, *a: Any, **kw: Any) -> Any:
                if args.headless:
                    kw["headless"] = True
                return super().run(*a, **kw)

        app_module.CtopApp = BenchApp  # type: ignore[misc]  # make_app reads this global
        write()
        root = HostRoot.at(args.root) if args.root else HostRoot()
        status = cli.run_app(
            LiveSource(root, brief=not args.full),
            AppOptions(interval_s=args.interval, show_all=False),
        )
        if "first_frame" not in record:
            record["error"] = f"the app exited ({status}) before its first frame"
            write()
        return 0
    except BaseException:
        record["error"] = traceback.format_exc()[-2000:]
        write()
        raise


if __name__ == "__main__":
    raise SystemExit(main())
