"""Two (or more) builds of the app on the same container tab, in the same windows.

`python -m benchmarks.tabs_ab --variant before=/tmp/before --variant after=. [--count 32]
[--tabs overview,throttling,processes] [--seconds 30] [--rounds 2] [--probe NAME=SCRIPT]`

The fleet of benchmarks.screens (COUNT live containers, one a throttled spinner) and its floor
(8 cgroup files per container a second); each variant is a source tree whose `ctop_py` the app
runs from (benchmarks.app_runner in its own 200x50 tmux), all opened on the spinner's container
screen and moved from tab to tab together, so each window measures every variant and the floor
over the same seconds on a machine under one load. A probe is any other Python script run
beside them for the whole run (in a tmux of the same size: e.g. a bare Textual app), measured
in the same windows. Prints one line per window and the mean per tab.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks import appbench
from benchmarks.appbench import AppRun
from benchmarks.dockerenv import PREFIX, Fleet
from benchmarks.screens import FLOOR_SCRIPT, SCREENS, _start_spinner, floor_files, sched_cpu_s
from benchmarks.util import loadavg, proc_cpu_s


def main_thread_cpu_s(pid: int) -> float | None:
    """utime + stime of a process's main thread (the UI's event loop), in seconds."""
    try:
        with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _start(run: AppRun, tree: Path) -> None:
    appbench.REPO = tree  # AppRun.start runs the app from this directory (its ctop_py)
    run.start()


def _probe(script: str, workdir: Path) -> tuple[str, int]:
    session = f"ctop-probe-{uuid.uuid4().hex[:8]}"
    pidfile = workdir / f"{session}.pid"
    shell = f"echo $$ > {pidfile} && exec env TERM=xterm-256color {sys.executable} {script}"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", shell],
        check=True,
        timeout=30,
    )
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text().strip():
            return session, int(pidfile.read_text())
        time.sleep(0.05)
    raise RuntimeError(f"probe {script} did not start")


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tabs_ab")
    p.add_argument("--variant", action="append", required=True, help="NAME=SOURCE_TREE")
    p.add_argument("--probe", action="append", default=[], help="NAME=SCRIPT")
    p.add_argument("--count", type=int, default=32)
    p.add_argument("--tabs", default="overview,throttling,processes", help="and list")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--settle", type=float, default=4.0)
    p.add_argument("--profile", help="DIR: py-spy (raw, 100 Hz) of the first variant per window")
    args = p.parse_args()
    variants = [(n, Path(t).resolve()) for n, _, t in (v.partition("=") for v in args.variant)]
    probes = [(n, s) for n, _, s in (v.partition("=") for v in args.probe)]
    tabs = args.tabs.split(",")
    keys = {key: k for key, _label, k, _marker in SCREENS}
    keys["overview"] = ("1",)  # back to it from another tab
    markers = {key: m for key, _label, _k, m in SCREENS}
    workdir = Path(f"/tmp/tabs-ab-{uuid.uuid4().hex[:8]}")
    workdir.mkdir()
    fleet = Fleet.connect()
    runs: list[tuple[str, AppRun]] = []
    probe_sessions: list[tuple[str, str, int]] = []
    floor: subprocess.Popen[bytes] | None = None
    try:
        fleet.containers.append(_start_spinner(fleet))
        fleet.grow_to(args.count)
        spinner = f"{PREFIX}{fleet.run_id}-spinner"
        files = workdir / "floor.txt"
        files.write_text("\n".join(floor_files(fleet.ids()[: args.count])) + "\n")
        floor = subprocess.Popen(
            [sys.executable, "-c", FLOOR_SCRIPT, str(files)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, tree in variants:
            run = AppRun(workdir)
            _start(run, tree)
            runs.append((name, run))
        for name, script in probes:
            session, pid = _probe(script, workdir)
            probe_sessions.append((name, session, pid))
        pids: dict[str, int] = {}
        for name, run in runs:
            rec = run.wait_first_frame()
            if "first_frame" not in rec:
                print(f"{name}: no first frame: {rec.get('error')}", file=sys.stderr)
                return 1
            pids[name] = int(rec["pid"])
        time.sleep(3)

        def send(*keys: str) -> None:
            for _name, run in runs:
                subprocess.run(["tmux", "send-keys", "-t", run.session, *keys], check=False)

        def open_spinner() -> None:
            send("/")
            time.sleep(0.5)
            send(spinner, "Enter")
            time.sleep(1.0)
            send("Enter")

        open_spinner()
        on_list = False
        for name, _session, pid in probe_sessions:
            pids[name] = pid
        names = [n for n, _ in runs] + [n for n, _, _ in probe_sessions]
        results: dict[str, dict[str, list[float]]] = {t: {n: [] for n in names} for t in tabs}
        floors: dict[str, list[float]] = {t: [] for t in tabs}
        mains: dict[str, dict[str, list[float]]] = {t: {n: [] for n in names} for t in tabs}
        for round_no in range(args.rounds):
            for tab in tabs:
                if tab == "list":  # back to the list, its filter cleared
                    send("Escape")
                    time.sleep(1.0)
                    send("Escape")
                    on_list = True
                elif on_list:
                    open_spinner()
                    on_list = False
                if tab != "list" and keys.get(tab):
                    send(*keys[tab])
                time.sleep(args.settle)
                load0 = loadavg()
                f0, t0 = sched_cpu_s(floor.pid), time.monotonic()
                a0 = {n: proc_cpu_s(pid) for n, pid in pids.items()}
                m0 = {n: main_thread_cpu_s(pid) for n, pid in pids.items()}
                spy = None
                if args.profile:
                    out = Path(args.profile) / f"{tab}-{round_no + 1}.txt"
                    py_spy = str(Path(sys.executable).parent / "py-spy")
                    record = [py_spy, "record", "-t", "--nonblocking", "-r", "100"]
                    record += ["-d", str(int(args.seconds)), "-p", str(pids[names[0]])]
                    record += ["-o", str(out), "-f", "raw"]
                    spy = subprocess.Popen(
                        record, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                    )
                time.sleep(args.seconds)
                if spy is not None:
                    spy.wait(timeout=60)
                f1, t1 = sched_cpu_s(floor.pid), time.monotonic()
                a1 = {n: proc_cpu_s(pid) for n, pid in pids.items()}
                m1 = {n: main_thread_cpu_s(pid) for n, pid in pids.items()}
                assert f0 is not None and f1 is not None
                window = t1 - t0
                floor_pct = 100 * (f1 - f0) / window
                floors[tab].append(floor_pct)
                parts = []
                for n in names:
                    b, e = a0[n], a1[n]
                    pct = float("nan") if b is None or e is None else 100 * (e - b) / window
                    mb, me = m0[n], m1[n]
                    main = float("nan") if mb is None or me is None else 100 * (me - mb) / window
                    results[tab][n].append(pct)
                    mains[tab][n].append(main)
                    parts.append(f"{n} {pct:.2f} % ({pct / floor_pct:.1f}x) main {main:.2f} %")
                shown = all(markers[tab].lower() in r.screen_text().lower() for _n, r in runs)
                print(
                    f"round {round_no + 1} {tab:11s} floor {floor_pct:.3f} % | "
                    + " | ".join(parts)
                    + f" | load {load0[0]:.2f}->{loadavg()[0]:.2f}"
                    + ("" if shown else " [a tab not shown?]"),
                    flush=True,
                )
        print("means:")
        for tab in tabs:
            fl = statistics.mean(floors[tab])
            parts = [
                f"{n} {statistics.mean(results[tab][n]):.2f} % "
                f"({statistics.mean(results[tab][n]) / fl:.1f}x) "
                f"main {statistics.mean(mains[tab][n]):.2f} %"
                for n in names
            ]
            print(f"  {tab:11s} floor {fl:.3f} % | " + " | ".join(parts))
        for _name, run in runs:
            text = run.screen_text().splitlines()
            print(f"--- {_name} screen (first 6 lines)\n" + "\n".join(t[:150] for t in text[:6]))
    finally:
        for _name, run in runs:
            run.stop()
        for _name, session, _pid in probe_sessions:
            subprocess.run(["tmux", "kill-session", "-t", session], check=False)
        if floor is not None:
            floor.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                floor.wait(timeout=10)
        fleet.remove_all()
        fleet.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
