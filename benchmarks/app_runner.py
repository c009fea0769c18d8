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
    written to DIR/snap-<n>.pickle, to diff what grows. Costs memory and CPU itself."""
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
        _trace_memory(os.environ["CTOP_BENCH_TRACEMALLOC"])
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
