"""Two (or more) builds of the app on the list of one fake v2 root, in the same windows.

`python -m benchmarks.fake_ab --variant before=/tmp/before --variant after=. [--count 500]
[--moving] [--seconds 30] [--rounds 3] [--settle 10] [--separate-trees]`

One generated cgroup v2 tree of COUNT containers (benchmarks.fakehost; `--moving`: counters
move every second, benchmarks.appbench.Ticker); each variant is a source tree whose `ctop_py`
the app runs from (`--root` on that tree, its own 200x50 tmux, 1 s refresh), all started
together, so each window measures every variant over the same seconds under one load: the
other agents' load moves all of them alike. Prints each window's whole-process CPU per variant
and the mean, and its UI thread's (the event loop: Textual, the screens, the histories).

On one tree each app finds the kernel's caches of the files it reads warmed by the other's
tick: at 500 containers two apps measured ~3.9-4.0 % each where one alone (the bench's
fake-app step) measured 5.3-5.6 % in the same half hour. `--separate-trees` gives each
variant its own copy of the tree (as alone), still in the same windows.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
import uuid
from pathlib import Path

from benchmarks import appbench
from benchmarks.appbench import AppRun, Ticker
from benchmarks.fakehost import FakeV2Host
from benchmarks.tabs_ab import main_thread_cpu_s
from benchmarks.util import loadavg, proc_cpu_s


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fake_ab")
    p.add_argument("--variant", action="append", required=True, help="NAME=SOURCE_TREE")
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--moving", action="store_true", help="counters move every second")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--settle", type=float, default=10.0)
    p.add_argument(
        "--separate-trees",
        action="store_true",
        help="each variant on its own copy of the tree (one tree: the apps read the same "
        "files, and each finds the kernel's caches of them warmed by the other's tick)",
    )
    args = p.parse_args()
    variants = [(n, Path(t).resolve()) for n, _, t in (v.partition("=") for v in args.variant)]
    workdir = Path(f"/tmp/fake-ab-{uuid.uuid4().hex[:8]}")
    workdir.mkdir()
    host = FakeV2Host(workdir / "fake", args.count).build()
    hosts = [host]
    if args.separate_trees:
        hosts += [
            FakeV2Host(workdir / f"fake{i}", args.count).build() for i in range(1, len(variants))
        ]
    runs: list[tuple[str, AppRun]] = []
    tickers = contextlib.ExitStack()
    if args.moving:
        for each in hosts:
            tickers.enter_context(Ticker(each.templates))
    try:
        with tickers:
            for i, (name, tree) in enumerate(variants):
                appbench.REPO = tree  # AppRun.start runs the app from this directory
                run = AppRun(workdir, root=hosts[i % len(hosts)].base)
                run.start()
                runs.append((name, run))
            pids: dict[str, int] = {}
            for name, run in runs:
                rec = run.wait_first_frame(timeout_s=120)
                if "first_frame" not in rec:
                    print(f"{name}: no first frame: {rec.get('error')}", file=sys.stderr)
                    return 1
                pids[name] = int(rec["pid"])
            time.sleep(args.settle)
            results: dict[str, list[float]] = {n: [] for n in pids}
            mains: dict[str, list[float]] = {n: [] for n in pids}
            for round_no in range(args.rounds):
                load0 = loadavg()
                t0 = time.monotonic()
                c0 = {n: proc_cpu_s(pid) for n, pid in pids.items()}
                m0 = {n: main_thread_cpu_s(pid) for n, pid in pids.items()}
                time.sleep(args.seconds)
                t1 = time.monotonic()
                c1 = {n: proc_cpu_s(pid) for n, pid in pids.items()}
                m1 = {n: main_thread_cpu_s(pid) for n, pid in pids.items()}
                parts = []
                for n in pids:
                    b, e = c0[n], c1[n]
                    pct = float("nan") if b is None or e is None else 100 * (e - b) / (t1 - t0)
                    mb, me = m0[n], m1[n]
                    main = float("nan") if mb is None or me is None else 100 * (me - mb) / (t1 - t0)
                    results[n].append(pct)
                    mains[n].append(main)
                    parts.append(f"{n} {pct:.2f} % (UI thread {main:.2f} %)")
                print(
                    f"round {round_no + 1}: "
                    + " | ".join(parts)
                    + f" | load {load0[0]:.2f}->{loadavg()[0]:.2f}",
                    flush=True,
                )
            means = (
                f"{n} {statistics.mean(v):.2f} % (UI thread {statistics.mean(mains[n]):.2f} %)"
                for n, v in results.items()
            )
            print("means: " + " | ".join(means))
            for name, run in runs:
                head = run.screen_text().splitlines()[:3]
                print(f"--- {name}:\n" + "\n".join(line.rstrip()[:150] for line in head))
    finally:
        for _name, run in runs:
            run.stop()
        for each in hosts:
            each.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
