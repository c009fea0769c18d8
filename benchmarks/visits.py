"""The app's memory over repeated visits to a container screen: what a visit leaves behind.

A user debugging a host opens one container after another and goes back to the list each
time. Here the app runs on this host's Docker engine (N sleeping containers of our own), in
a 200x50 tmux of its own. Each visit opens the first container's screen from the list (the
filter, Enter), shows each of its eight tabs for a second, goes back to the list (Escape
twice) and waits `--settle` seconds there, longer than the app's TRIM_EVERY_S, so what it
frees goes back. VmRSS is read then. What a visit keeps shows as growth from visit to visit.
Variants run side by side in the same minutes, each from its own checkout (REPO=DIR, e.g. a
`git worktree` of the commit before), on the same containers.

    python -m benchmarks.visits --containers 10 --visits 20 \
        --variant before=REPO=/tmp/before --variant after=
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import rss_smaps
from benchmarks.dockerenv import Fleet
from benchmarks.util import loadavg, log, proc_status_kib

TABS = "12345678"


@dataclass
class Variant(rss_smaps.Variant):
    """rss_smaps' app in a tmux of its own (REPO=DIR in env: another checkout), on this host."""

    rss_mib: list[float] = field(default_factory=list)  # on the list: at start, after each visit

    def keys(self, *keys: str) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "send-keys", "-t", "app", *keys],
            capture_output=True, timeout=30, check=False,
        )  # fmt: skip

    def rss(self) -> float:
        kib = None if self.pid is None else proc_status_kib(self.pid, "VmRSS")
        if kib is None:
            raise SystemExit(f"{self.name}: the app exited")
        return round(kib / 1024, 1)

    def visit(self, name: str, settle_s: float) -> None:
        self.keys("/")
        time.sleep(0.5)
        self.keys(name, "Enter")
        time.sleep(1.0)
        self.keys("Enter")
        time.sleep(1.0)
        for tab in TABS:
            self.keys(tab)
            time.sleep(1.0)
        self.keys("Escape")  # back to the list
        time.sleep(1.0)
        self.keys("Escape")  # the filter cleared
        time.sleep(settle_s)
        self.rss_mib.append(self.rss())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--containers", type=int, default=10)
    p.add_argument("--visits", type=int, default=20)
    p.add_argument("--settle", type=float, default=12.0, help="seconds on the list after a visit")
    p.add_argument(
        "--variant", action="append", default=[],
        help="NAME=[VAR=VALUE,...]: the app with this environment (REPO=DIR: another checkout)",
    )  # fmt: skip
    args = p.parse_args()
    specs = args.variant or ["app="]
    work = Path(tempfile.mkdtemp(prefix="ctop-visits-"))
    variants = rss_smaps.variants_from(specs, work, Variant)
    fleet = Fleet.connect()
    try:
        fleet.remove_leftovers()
        fleet.grow_to(args.containers)
        first = fleet.containers[0].name
        for v in variants:
            v.start(None)
        for v in variants:
            v.wait()
        time.sleep(args.settle)
        for v in variants:
            v.rss_mib.append(v.rss())
        log(f"started {[(v.name, v.env, v.pid) for v in variants]}; load {loadavg()}")
        for n in range(args.visits):
            threads = [
                threading.Thread(target=v.visit, args=(first, args.settle)) for v in variants
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if any(len(v.rss_mib) != n + 2 for v in variants):
                raise SystemExit(f"an app exited during visit {n + 1}")
            log(f"  visit {n + 1}: " + ", ".join(f"{v.name} {v.rss_mib[-1]}" for v in variants))
        for v in variants:
            r = v.rss_mib
            half = len(r) // 2
            log(
                f"{v.name}: VmRSS on the list {r[0]} MiB at start, {r[1]} after the first visit, "
                f"{r[half]} after {half}, {r[-1]} after {len(r) - 1} "
                f"(+{r[-1] - r[half]:.1f} MiB over the last {len(r) - 1 - half}); "
                f"readings {r}"
            )
        log(f"load at the end {loadavg()}")
    finally:
        for v in variants:
            v.stop()
        fleet.remove_all()
        fleet.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
