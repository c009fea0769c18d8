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
