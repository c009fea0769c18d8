"""`ctop-py snapshot --json --interval 1` beside a bare Python script that reads the same cgroup
files twice, one second apart: whole-process CPU (user + system of the child, from wait4's
rusage: every thread, as the kernel counts it), alternating the two, on the containers running.

ctop-py's modules are compiled to bytecode first, as an installed package has them: where
PYTHONDONTWRITEBYTECODE is set (this machine's agents' shells), a checkout would otherwise
compile every module from source on every run (about 30 ms here, twice the bare script).
"""

from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.screens import FLOOR_SCRIPT
from benchmarks.util import spread

REPO = Path(__file__).resolve().parent.parent


def _child_cpu(cmd: list[str]) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, exit status) of one run of `cmd`."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, time.monotonic() - t0, proc.returncode


def snapshot_vs_bare(files: list[str], workdir: Path, rounds: int = 5) -> dict[str, Any]:
    compileall.compile_dir(REPO / "ctop_py", quiet=1)
    listing = workdir / "snapshot-floor-files.txt"
    listing.write_text("\n".join(files) + "\n")
    ours = [sys.executable, "-m", "ctop_py", "snapshot", "--json", "--interval", "1"]
    bare = [sys.executable, "-c", FLOOR_SCRIPT, str(listing), "2"]
    app_cpu: list[float] = []
    bare_cpu: list[float] = []
    statuses: list[int] = []
    for _ in range(rounds):  # alternating, so both see the same load
        cpu, _, status = _child_cpu(ours)
        app_cpu.append(cpu)
        statuses.append(status)
        cpu, _, _ = _child_cpu(bare)
        bare_cpu.append(cpu)
    app_s, bare_s = spread(app_cpu), spread(bare_cpu)
    printed = subprocess.run(ours, cwd=REPO, capture_output=True, text=True, timeout=120)
    try:
        containers = len(json.loads(printed.stdout)["containers"])
    except (ValueError, KeyError, TypeError):
        containers = None
    return {
        "files": len(files),
        "containers_printed": containers,  # every running container of the host, not only N
        "bytecode": "compiled first",
        "rounds": rounds,
        "snapshot_cpu_s": app_s,
        "bare_cpu_s": bare_s,
        "ratio_median": round(app_s["median"] / bare_s["median"], 2) if bare_s["median"] else None,
        "exit_statuses": sorted(set(statuses)),
    }


def _running_ids() -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-q", "--no-trunc"], capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout.split()


def _checkout(ref: str, into: Path) -> Path:
    """`ctop_py/` of a git revision, extracted and compiled, to run with `-m ctop_py` there."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "ctop_py"], capture_output=True, check=True
    )
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    compileall.compile_dir(into / "ctop_py", quiet=1)
    return into


def main(argv: list[str] | None = None) -> int:
    """Start-up, the bare script and `snapshot --json` (this checkout through `-m` and through
    the console script; optionally another revision), alternating, on the containers running
    now: where the whole-process CPU of a snapshot goes, before and after a change."""
    import argparse
    import tempfile

    from benchmarks.screens import floor_files
    from benchmarks.util import loadavg

    p = argparse.ArgumentParser(prog="python -m benchmarks.snapshotbench", description=main.__doc__)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--before", metavar="GIT_REF", help="also `snapshot --json` at this revision")
    args = p.parse_args(argv)
    compileall.compile_dir(REPO / "ctop_py", quiet=1)
    snap = ["snapshot", "--json", "--interval", "1"]
    with tempfile.TemporaryDirectory(prefix="ctop-snapbench-") as tmp:
        listing = Path(tmp) / "files.txt"
        ids = _running_ids()
        listing.write_text("\n".join(floor_files(ids)) + "\n")
        script = Path(sys.executable).with_name("ctop-py")
        variants: dict[str, tuple[list[str], Path]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], REPO),
            "python -I -S -c pass": ([sys.executable, "-I", "-S", "-c", "pass"], REPO),
            "bare script": ([sys.executable, "-c", FLOOR_SCRIPT, str(listing), "2"], REPO),
            "snapshot (-m ctop_py)": ([sys.executable, "-m", "ctop_py", *snap], REPO),
            "snapshot (console script)": ([str(script), *snap], REPO),
        }
        if args.before:
            where = _checkout(args.before, Path(tmp) / "before")
            variants[f"snapshot at {args.before} (-m)"] = (
                [sys.executable, "-m", "ctop_py", *snap],
                where,
            )
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        load = loadavg()
        for _ in range(args.rounds):
            for name, (cmd, cwd) in variants.items():
                proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL)
                _, status, usage = os.wait4(proc.pid, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    print(f"{name}: exit {os.waitstatus_to_exitcode(status)}", file=sys.stderr)
                cpu[name].append(usage.ru_utime + usage.ru_stime)
        bare = spread(cpu["bare script"])["median"]
        print(f"{len(ids)} running containers, {args.rounds} rounds, load {load} -> {loadavg()}")
        for name, values in cpu.items():
            s = spread(values)
            print(
                f"{name:34s} {s['median'] * 1000:7.1f} ms  ({s['min'] * 1000:.1f}–"
                f"{s['max'] * 1000:.1f})  {s['median'] / bare:5.2f}× the bare script"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
