"""The app's cost per screen: the containers list and each tab of the container screen, beside
the floor, in the same windows.

N live containers on the engine (N-1 idle, one throttled spinner: `--cpus 0.25` running a busy
loop), the app in a detached 200x50 tmux at a 1 s refresh (benchmarks.app_runner), and beside
it, for the whole run, the floor: a bare Python loop that reads the same 8 cgroup files per
container once a second. The app is moved from screen to screen with tmux send-keys; over each
screen's window the CPU of BOTH processes is read from /proc/<pid>/stat (utime + stime, all
threads: the kernel's count), so the app/floor ratio of a row comes from one window on a
machine under one load (the floor, one thread at ~0.1 % of a core, from
/proc/<pid>/schedstat: the same count in nanoseconds, not 10 ms ticks). Peak RSS is the
app's VmHWM at the end of each window.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import list_floor
from benchmarks.appbench import AppRun, app_importable
from benchmarks.dockerenv import IMAGE, LABEL, PREFIX, Fleet
from benchmarks.util import loadavg, log, proc_cpu_s, proc_status_kib

# (key, label, keys to send from the previous screen, a word the screen shows once there)
SCREENS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("list", "containers list, first (from 3 s after the first frame)", (), "NAME"),
    ("overview", "container: Overview", (), "history"),
    ("throttling", "container: Throttling", ("2",), "recent intervals"),
    ("processes", "container: Processes", ("3",), "PID"),
    ("namespaces", "container: Namespaces", ("4",), "mnt"),
    ("layers", "container: Layers (explorer)", ("5",), "layer"),
    ("network", "container: Network", ("6",), "eth0"),
    ("stacks", "container: Stacks", ("7",), "stack"),
    ("events", "container: Events", ("8",), "events of this container"),
)
SCREEN_KEYS = tuple(s[0] for s in SCREENS)
# The list again once the app has settled: back from the tabs (or right after the first list
# window when only the list is measured), and at least this long after the first frame. The
# first window starts while the app still inspects every container (20 a tick) and takes in
# the engine's buffered events; a user watching the list pays what this one measures.
SETTLED_KEY = "list_settled"
SETTLED_LABEL = "containers list, settled (after the tabs; ≥ 40 s after the first frame)"
SETTLED_AFTER_S = 40.0

# The floor: read every file listed in argv[1], then sleep a second; argv[2] rounds (default:
# forever). Shared with benchmarks/snapshotbench.py.
FLOOR_SCRIPT = """
import itertools, sys, time
files = [line.strip() for line in open(sys.argv[1]) if line.strip()]
rounds = range(int(sys.argv[2])) if len(sys.argv) > 2 else itertools.count()
for _ in rounds:
    for f in files:
        try:
            with open(f, "rb") as fh:
                fh.read()
        except OSError:
            pass
    time.sleep(1)
"""

V1_FILES = (
    ("cpu,cpuacct", ("cpuacct.usage", "cpu.stat", "cpu.cfs_quota_us")),
    ("memory", ("memory.usage_in_bytes", "memory.stat", "memory.limit_in_bytes")),
    ("pids", ("pids.current",)),
    ("blkio", ("blkio.throttle.io_service_bytes",)),
)
V2_FILES = (
    "cpu.stat",
    "cpu.max",
    "memory.current",
    "memory.stat",
    "memory.max",
    "pids.current",
    "io.stat",
    "memory.events",
)


def _v1_controller_dir(sub: str, name: str) -> str:
    """Where a v1 file lives: `sub` when mounted so (cpu,cpuacct together), else the
    controller named by the file (cpu and cpuacct mounted apart, as on this host: the
    combined path does not exist, and the floor's reads of it failed at the lookup)."""
    if "," not in sub or Path(f"/sys/fs/cgroup/{sub}").is_dir():
        return sub
    return name.split(".", 1)[0]


def floor_files(ids: list[str]) -> list[str]:
    """The 8 cgroup files per container a list needs (cgroup v1 or v2 docker paths)."""
    files: list[str] = []
    for cid in ids:
        v1 = Path(f"/sys/fs/cgroup/memory/docker/{cid}")
        if v1.is_dir():
            for sub, names in V1_FILES:
                files += [
                    f"/sys/fs/cgroup/{_v1_controller_dir(sub, n)}/docker/{cid}/{n}" for n in names
                ]
        else:
            base = f"/sys/fs/cgroup/system.slice/docker-{cid}.scope"
            files += [f"{base}/{n}" for n in V2_FILES]
    return files


def _start_spinner(fleet: Fleet) -> Any:
    return fleet.client.containers.run(
        IMAGE,
        ["sh", "-c", "while :; do :; done"],
        name=f"{PREFIX}{fleet.run_id}-spinner",
        labels={LABEL: fleet.run_id},
        detach=True,
        nano_cpus=250_000_000,
        network_mode="bridge",
    )


def spinner_and_idle(fleet: Fleet, count: int) -> None:
    """`count` of the fleet's containers running: its throttled spinner (started once) and
    `count` - 1 idle ones."""
    spinner_name = f"{PREFIX}{fleet.run_id}-spinner"
    if not any(c.name == spinner_name for c in fleet.containers):
        fleet.containers.append(_start_spinner(fleet))
    fleet.grow_to(count)


def sched_cpu_s(pid: int) -> float | None:
    """Nanoseconds on CPU of a process's main thread (/proc/<pid>/schedstat), in seconds: the
    floor is one thread, and its ~0.1 % of a core is a tick or two of /proc/<pid>/stat in a
    window; this is the same count without the 10 ms rounding."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _send(run: AppRun, *keys: str) -> None:
    if run.tmux:
        subprocess.run([run.tmux, "send-keys", "-t", run.session, *keys], timeout=10, check=False)


def screen_costs(
    fleet: Fleet,
    count: int,
    workdir: Path,
    seconds: float = 20.0,
    screens: tuple[str, ...] = SCREEN_KEYS,
    settle_s: float = 3.0,
) -> dict[str, Any]:
    """The app per screen and the floor, at `count` containers (one a throttled spinner)."""
    reason = app_importable()
    if reason is not None:
        return {"pending": f"ctop_py.ui.app is not importable yet: {reason}"}
    spinner_name = f"{PREFIX}{fleet.run_id}-spinner"
    spinner_and_idle(fleet, count)
    ids = fleet.ids()[:count]
    list_file = workdir / f"floor-files-{count}.txt"
    list_file.write_text("\n".join(floor_files(ids)) + "\n")
    floor = subprocess.Popen(
        [sys.executable, "-c", FLOOR_SCRIPT, str(list_file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run = AppRun(workdir)
    result: dict[str, Any] = {
        "containers": count,
        "mode": run.mode,
        "window_s": seconds,
        "floor": "python loop, 8 cgroup files per container, once a second",
        "screens": {},
    }
    # The list's own floor (benchmarks/list_floor.py): the files the collector reads a tick
    # here, traced, and a minimal Textual list of `count` rows, in one process.
    reads = list_floor.app_reads()
    reads_file = workdir / f"list-floor-reads-{count}.json"
    reads_file.write_text(json.dumps(reads))
    result["list_floor"] = (
        "the files ctop-py's collector reads a tick here (traced), kept fds pread, + "
        f"a Textual list (a Strip a row) of {count} rows x 13 columns, 5 cells a second"
    )
    result["list_floor_files_per_container"] = list_floor.files_per_container(reads)
    reference = list_floor.Session(count, reads_file) if run.tmux else None
    try:
        run.start()
        rec = run.wait_first_frame()
        if "first_frame" not in rec:
            return {"pending": "the app did not show a frame: " + str(rec.get("error"))[-600:]}
        pid = int(rec["pid"])
        first_frame = time.monotonic()
        time.sleep(settle_s)

        def window(key: str, label: str, marker: str, absent: str = "\0") -> bool:
            """One window of `seconds`: the app and the floor over the same time. The screen
            must show `marker` and not `absent`."""
            screen = run.screen_text()
            load0 = loadavg()
            ref_pid = None if reference is None else reference.pid
            r0 = None if ref_pid is None else proc_cpu_s(ref_pid)
            f0, a0, t0 = sched_cpu_s(floor.pid), proc_cpu_s(pid), time.monotonic()
            time.sleep(seconds)
            f1, a1, t1 = sched_cpu_s(floor.pid), proc_cpu_s(pid), time.monotonic()
            r1 = None if ref_pid is None else proc_cpu_s(ref_pid)
            if None in (f0, f1, a0, a1):
                result["screens"][key] = {"error": "the app or the floor exited"}
                return False
            assert f0 is not None and f1 is not None and a0 is not None and a1 is not None
            window = t1 - t0
            app_pct = 100 * (a1 - a0) / window
            floor_pct = 100 * (f1 - f0) / window
            hwm = proc_status_kib(pid, "VmHWM")
            result["screens"][key] = {
                "label": label,
                "window_s": round(window, 2),
                "app_age_s": round(t0 - first_frame, 1),  # the window's start after the frame
                "app_cpu_percent": round(app_pct, 3),
                "floor_cpu_percent": round(floor_pct, 3),
                # The list's own floor (see result["list_floor"]), the same window.
                "list_floor_cpu_percent": None
                if r0 is None or r1 is None
                else round(100 * (r1 - r0) / window, 3),
                "ratio": round(app_pct / floor_pct, 2) if floor_pct > 0 else None,
                "peak_rss_mib": None if hwm is None else round(hwm / 1024, 1),
                "shown": marker.lower() in screen.lower() and absent not in screen,
                "screen_head": [line.rstrip()[:160] for line in screen.splitlines()[:4]],
                "loadavg": [load0, loadavg()],
            }
            r = result["screens"][key]
            log(
                f"  {count} containers, {label}: app {app_pct:.2f} % floor {floor_pct:.2f} % "
                f"({r['ratio']}×) list's floor {r['list_floor_cpu_percent']} % "
                f"RSS {r['peak_rss_mib']} MiB"
                + ("" if r["shown"] else f"  [screen does not show {marker!r}]")
            )
            return True

        alive = True
        # Only the list wanted: the tabs are not opened at all (their loaders, py-spy, the
        # layer walk, pyroute2, would run into the settled window).
        tabs = any(key != "list" for key in screens)
        for key, label, keys, marker in SCREENS:
            if not tabs and key != "list":
                break
            if key == "overview":  # open the spinner's container screen from the list
                _send(run, "/")
                time.sleep(0.5)
                _send(run, spinner_name, "Enter")
                time.sleep(1.0)
                _send(run, "Enter")
            elif keys:
                _send(run, *keys)
            if key not in screens:
                continue
            time.sleep(settle_s)
            alive = window(key, label, marker)
            if not alive:
                break
        if alive and "list" in screens:
            if tabs:
                _send(run, "Escape")  # back to the list
                time.sleep(1.0)
                _send(run, "Escape")  # the filter (the spinner's name) cleared
            time.sleep(max(settle_s, SETTLED_AFTER_S - (time.monotonic() - first_frame)))
            window(SETTLED_KEY, SETTLED_LABEL, "NAME", absent=" · filter ")
        floor_rss = proc_status_kib(floor.pid, "VmHWM")
        result["floor_peak_rss_mib"] = None if floor_rss is None else round(floor_rss / 1024, 1)
    finally:
        run.stop()
        if reference is not None:
            reference.stop()
        floor.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            floor.wait(timeout=10)
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.screens [N,...] [SECONDS]`: the table alone, printed (no write)."""
    import argparse
    import shutil
    import uuid

    p = argparse.ArgumentParser(prog="python -m benchmarks.screens")
    p.add_argument("counts", nargs="?", default="10,32")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--screens", default=",".join(SCREEN_KEYS))
    args = p.parse_args(argv)
    workdir = Path(f"/tmp/ctop-bench-{uuid.uuid4().hex[:8]}")
    workdir.mkdir(parents=True)
    fleet = Fleet.connect()
    out: dict[str, Any] = {}
    try:
        for n in (int(x) for x in args.counts.split(",")):
            out[str(n)] = screen_costs(
                fleet, n, workdir, args.seconds, tuple(args.screens.split(","))
            )
    finally:
        fleet.remove_all()
        fleet.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
