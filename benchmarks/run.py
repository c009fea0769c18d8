"""`make bench`: every cost figure of issue 7 in one run, written to benchmarks/out/results.json,
benchmarks/results-<date>.json and the results section of BENCHMARKS.md.

Each step is bounded in time and recorded with the load average before and after it (and
whether a qemu VM was running); a step that fails is recorded as an error and the run goes
on. Containers and temporary trees are removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.util import daemon_idle_baseline, loadavg, log, qemu_running

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
BUDGET_S = 14 * 60  # the whole run; optional steps are skipped past it


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small counts and short windows")
    p.add_argument("--live", default="10,100", help="container counts on the engine")
    p.add_argument("--fake", default="1000,5000", help="container counts in fake v2 roots")
    p.add_argument("--layers", default="10000,100000", help="upper-directory sizes")
    p.add_argument("--explore", default="100000", help="files in the explorer's layer")
    p.add_argument("--app-seconds", type=float, default=60.0)
    p.add_argument(
        "--fake-app",
        default="500",
        help="container counts for the app on a fake v2 root (`--root`), its list's CPU",
    )
    p.add_argument("--fake-app-seconds", type=float, default=60.0)
    p.add_argument(
        "--rss",
        type=int,
        metavar="N",
        help="also the app's memory over a long run at N containers (fake v2 root, counters "
        "moving): VmRSS every 30 s, VmHWM at the end; not in the default set (long)",
    )
    p.add_argument("--rss-minutes", type=float, default=10.0)
    p.add_argument("--before", metavar="GIT_REF", help="also measure ctop_py at this revision")
    p.add_argument(
        "--skip",
        default="",
        help="comma list: live,peers,glances,app,screens,snapshot,fake,fakeapp,layers,explore",
    )
    p.add_argument(
        "--screens-only",
        action="store_true",
        help="only the app per screen (writes only its block of BENCHMARKS.md)",
    )
    p.add_argument(
        "--screen-counts", default="10,32", help="container counts for the app per screen"
    )
    p.add_argument("--screen-seconds", type=float, default=20.0, help="window per screen")
    p.add_argument(
        "--screens",
        default="",
        help="comma list of screens to measure (default all): "
        "list,overview,throttling,processes,namespaces,layers,network,stacks,events",
    )
    p.add_argument("--no-write", action="store_true", help="do not write JSON or BENCHMARKS.md")
    args = p.parse_args(argv)
    if args.quick:
        args.live, args.fake, args.layers, args.app_seconds = "3", "200", "2000", 10.0
        args.fake_app, args.fake_app_seconds, args.rss_minutes = "50", 10.0, 1.0
        args.explore = "5000"
        args.screen_counts, args.screen_seconds = "3", 5.0
    return args


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
        self.run_id = uuid.uuid4().hex[:8]
        self.workdir = Path(f"/tmp/ctop-bench-{self.run_id}")
        self.t0 = time.monotonic()
        self.results: dict[str, Any] = {
            "meta": {},
            "steps": {},
            "live": {},
            "fake": {},
            "layers": {},
            "explore": {},
            "screens": {},
            "fake_app": {},
            "rss": {},
            "errors": {},
        }

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def step(self, name: str, fn: Callable[[], Any], optional: bool = True) -> Any:
        """Run one measurement, recording load and duration; errors are recorded, not raised."""
        if optional and self.elapsed() > BUDGET_S:
            log(f"{name}: skipped (time budget of {BUDGET_S // 60} min used)")
            self.results["errors"][name] = "skipped: time budget"
            return None
        log(f"{name} …")
        info: dict[str, Any] = {"loadavg_before": loadavg(), "qemu_before": bool(qemu_running())}
        t = time.monotonic()
        try:
            return fn()
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            self.results["errors"][name] = f"{type(exc).__name__}: {exc}"[:500]
            log(f"{name}: FAILED {type(exc).__name__}: {exc}")
            traceback.print_exc()
            return None
        finally:
            info["seconds"] = round(time.monotonic() - t, 1)
            info["loadavg_after"] = loadavg()
            info["qemu_after"] = bool(qemu_running())
            self.results["steps"][name] = info

    # -- the parts ---------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        from ctop_py.cgroupfs import detect_layout
        from ctop_py.host import HostRoot

        cpu = "unknown"
        with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        mem_kib = 0
        with contextlib.suppress(OSError), open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
        distro = "unknown"
        with contextlib.suppress(OSError), open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
        docker_version = None
        with contextlib.suppress(Exception):
            docker_version = subprocess.run(
                ["docker", "version", "--format", "{{.Server.Version}}"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
        dirty = uncommitted()
        qemu = qemu_running()
        return {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "run_id": self.run_id,
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "kernel": platform.release(),
            "distro": distro,
            "python": platform.python_version(),
            "docker": docker_version,
            "cgroup_mode": detect_layout(HostRoot()).mode,
            "commit": commit + ("+uncommitted" if dirty else ""),
            "qemu_running_at_start": qemu,
            "loadavg_at_start": loadavg(),
            "args": vars(self.args),
        }

    def live(self) -> None:
        from benchmarks.appbench import app_idle
        from benchmarks.dockerenv import Fleet
        from benchmarks.peers import docker_stats_no_stream, glances_containers
        from benchmarks.tick import (
            bench_collector,
            cadence,
            daemons_while_sampling,
            docker_engines,
        )
        from ctop_py.host import HostRoot

        fleet = self.step("docker: connect", Fleet.connect, optional=False)
        if fleet is None:
            return
        fleet.run_id = self.run_id
        try:
            removed = fleet.remove_leftovers()
            if removed:
                log(f"  removed {removed} leftover benchmark containers")
            counts = _ints(self.args.live)
            for n in counts:
                entry: dict[str, Any] = {"ours": n}
                self.results["live"][str(n)] = entry
                entry["start_s"] = self.step(
                    f"live {n}: start containers", functools.partial(fleet.grow_to, n)
                )
                entry["running_on_host"] = fleet.running_on_host()
                entry["collector"] = self.step(
                    f"live {n}: collector ticks",
                    lambda: bench_collector(HostRoot(), docker_engines, rounds=60, budget_s=30),
                )
                if self.args.before:
                    entry["before"] = self.step(
                        f"live {n}: collector ticks at {self.args.before}",
                        lambda: _before(self.args.before, "live", 60, 30),
                    )
                if "peers" not in self.skip:
                    entry["docker_stats"] = self.step(
                        f"live {n}: docker stats --no-stream", lambda: docker_stats_no_stream(3)
                    )
                if n != counts[-1]:
                    continue
                # The largest count: the daemons' CPU with and without us, Glances, the app.
                entry["daemons_idle"] = self.step(
                    f"live {n}: daemons idle baseline", lambda: daemon_idle_baseline(20)
                )
                entry["daemons_while_sampling"] = self.step(
                    f"live {n}: daemons while ctop-py samples", lambda: daemons_while_sampling(20)
                )
                entry["cadence"] = self.step(
                    f"live {n}: tick and floor once a second", lambda: cadence(20)
                )
                if "peers" not in self.skip and "glances" not in self.skip:
                    entry["glances"] = self.step(
                        f"live {n}: Glances containers",
                        lambda: glances_containers(settle_s=10, window_s=30),
                    )
                if "app" not in self.skip:
                    entry["app"] = self.step(
                        f"live {n}: the app idle",
                        lambda: app_idle(self.workdir, seconds=self.args.app_seconds),
                    )
                    # The same with brief forced off (the app's default: brief counters for
                    # the containers not open), every container's full counters.
                    entry["app_full"] = self.step(
                        f"live {n}: the app idle, brief off",
                        lambda: app_idle(
                            self.workdir,
                            seconds=self.args.app_seconds / 2,
                            extra_first_frames=0,
                            full=True,
                        ),
                    )
        finally:
            log("removing the benchmark's containers …")
            fleet.remove_all()
            fleet.close()

    def screens(self) -> None:
        """The app per screen beside the floor (benchmarks/screens.py), on its own fleet."""
        from benchmarks.dockerenv import Fleet
        from benchmarks.screens import SCREEN_KEYS, screen_costs

        fleet = self.step("screens: docker connect", Fleet.connect, optional=False)
        if fleet is None:
            return
        fleet.run_id = self.run_id + "s"
        wanted = tuple(s for s in self.args.screens.split(",") if s.strip()) or SCREEN_KEYS
        try:
            for n in _ints(self.args.screen_counts):
                self.results["screens"][str(n)] = self.step(
                    f"screens {n}: the app per screen",
                    functools.partial(
                        screen_costs, fleet, n, self.workdir, self.args.screen_seconds, wanted
                    ),
                )
            if "snapshot" not in self.skip and fleet.containers:
                from benchmarks.screens import floor_files
                from benchmarks.snapshotbench import snapshot_vs_bare

                self.results["snapshot_cmd"] = self.step(
                    f"snapshot --json at {len(fleet.containers)} containers vs a bare script",
                    lambda: snapshot_vs_bare(floor_files(fleet.ids()), self.workdir),
                )
        finally:
            log("removing the per-screen benchmark's containers …")
            fleet.remove_all()
            fleet.close()

    def fake(self) -> None:
        from benchmarks.fakehost import FakeV2Host
        from benchmarks.tick import bench_collector, no_engines
        from ctop_py.host import HostRoot

        for n in _ints(self.args.fake):
            host = FakeV2Host(self.workdir / f"fake-{n}", n)
            try:
                t = time.monotonic()
                if self.step(f"fake {n}: build the tree", host.build) is None:
                    continue
                entry: dict[str, Any] = {"build_s": round(time.monotonic() - t, 1)}
                self.results["fake"][str(n)] = entry
                budget = 30 if n <= 1000 else 50
                entry["collector"] = self.step(
                    f"fake {n}: collector ticks",
                    functools.partial(
                        bench_collector,
                        HostRoot.at(host.base),
                        no_engines,
                        rounds=30,
                        budget_s=budget,
                    ),
                )
                if self.args.before and n == _ints(self.args.fake)[0]:
                    entry["before"] = self.step(
                        f"fake {n}: collector ticks at {self.args.before}",
                        functools.partial(_before, self.args.before, str(host.base), 30, budget),
                    )
            finally:
                host.remove()

    def fake_app(self) -> None:
        """The app on a fake v2 root: its list's CPU at each count; its memory over a long
        run when asked (`--rss N`)."""
        from benchmarks.appbench import app_on_fake_root

        for n in _ints(self.args.fake_app):
            self.results["fake_app"][str(n)] = self.step(
                f"fake app {n}: the list on a fake v2 root",
                # Counters still, as the 8.8 % was measured; --rss moves them.
                functools.partial(
                    app_on_fake_root,
                    self.workdir,
                    n,
                    seconds=self.args.fake_app_seconds,
                    moving=False,
                    list_floor=True,  # the list's own floor beside it, same window
                ),
            )
        if self.args.rss:
            n = self.args.rss
            started = time.monotonic()
            self.results["rss"][str(n)] = self.step(
                f"rss {n}: the app's memory over {self.args.rss_minutes:g} min",
                functools.partial(
                    app_on_fake_root,
                    self.workdir,
                    n,
                    seconds=60 * self.args.rss_minutes,
                    rss_every_s=30.0,
                ),
                optional=False,
            )
            # Asked for by length: the long memory run does not eat the other steps' budget.
            self.t0 += time.monotonic() - started

    def layers(self) -> None:
        from benchmarks.layersbench import bench_changes

        for n in _ints(self.args.layers):
            self.results["layers"][str(n)] = self.step(
                f"layers {n}: changes of the upper directory",
                functools.partial(bench_changes, self.workdir, n),
            )

    def explore(self) -> None:
        from benchmarks.explorebench import bench_explore

        for n in _ints(self.args.explore):
            self.results["explore"][str(n)] = self.step(
                f"explore {n}: layer tree and efficiency",
                functools.partial(bench_explore, self.workdir, n),
            )

    def go(self) -> dict[str, Any]:
        _remove_stale_workdirs()
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.results["meta"] = self.meta()
            qemu = bool(self.results["meta"]["qemu_running_at_start"])
            log(f"run {self.run_id}; qemu running: {qemu}")
            if "screens" not in self.skip:
                started = time.monotonic()
                self.screens()
                # The per-screen table (about 7 minutes) does not eat the other steps' budget.
                self.t0 += time.monotonic() - started
            if self.args.screens_only:
                return self.results
            if "live" not in self.skip:
                self.live()
            if "fake" not in self.skip:
                self.fake()
            if "fakeapp" not in self.skip or self.args.rss:
                if "fakeapp" in self.skip:
                    self.args.fake_app = ""
                self.fake_app()
            if "layers" not in self.skip:
                self.layers()
            if "explore" not in self.skip:
                self.explore()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.results["meta"]["seconds"] = round(self.elapsed(), 1)
            self.results["meta"]["loadavg_at_end"] = loadavg()
            self.results["meta"]["qemu_running_at_end"] = qemu_running()
        return self.results


def _remove_stale_workdirs(age_s: float = 1200) -> None:
    """Trees a killed run left under /tmp (not the Glances venv, which is kept)."""
    for path in Path("/tmp").glob("ctop-bench-????????"):
        with contextlib.suppress(OSError):
            if path.is_dir() and time.time() - path.stat().st_mtime > age_s:
                shutil.rmtree(path, ignore_errors=True)


def _before(ref: str, root: str, rounds: int, budget: float) -> dict[str, Any]:
    from benchmarks.compare import run_before

    return run_before(ref, root, rounds, budget)


def _raise_on_signal(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def uncommitted() -> list[str]:
    """The changes `git status` shows in what is measured (the package, the harness, the
    dependencies), except a previous run's own outputs. Results are only written from a tree
    without any, so every committed figure names the commit that produced it."""
    status = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--",
         "ctop_py", "benchmarks", "pyproject.toml"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    return [
        line
        for line in status.splitlines()
        if line.strip() and not line[3:].startswith(("benchmarks/results-", "benchmarks/out/"))
    ]


def _refuse_dirty(when: str) -> bool:
    dirty = uncommitted()
    if dirty:
        print(
            f"benchmarks: refusing to write results {when}: the tree has uncommitted changes "
            f"({'; '.join(dirty[:5])}{' …' if len(dirty) > 5 else ''}); commit them, or run "
            "with --no-write",
            file=sys.stderr,
        )
    return bool(dirty)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.no_write and _refuse_dirty("from this run"):
        return 2
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_on_signal)
    run = Run(args)
    results = run.go()
    if not args.no_write and _refuse_dirty("(the tree changed during the run)"):
        print(report.summary(results))
        return 2
    if not args.no_write:
        OUT.mkdir(parents=True, exist_ok=True)
        text = json.dumps(results, indent=1, sort_keys=True, default=str)
        (OUT / "results.json").write_text(text + "\n")
        date = datetime.now(UTC).strftime("%Y-%m-%d")
        suffix = "-screens" if args.screens_only else ""  # not over a whole run's figures
        dated = REPO / "benchmarks" / f"results-{date}{suffix}.json"
        dated.write_text(text + "\n")
        if not args.screens_only:
            report.update_markdown(REPO / "BENCHMARKS.md", results, dated.name)
        if results.get("screens"):
            report.update_screens_markdown(REPO / "BENCHMARKS.md", results, dated.name)
        log(f"wrote {OUT / 'results.json'}, {dated.relative_to(REPO)} and BENCHMARKS.md")
    print(report.screens_block(results) if args.screens_only else report.summary(results))
    failed = [k for k, v in results["errors"].items() if not str(v).startswith("skipped")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
