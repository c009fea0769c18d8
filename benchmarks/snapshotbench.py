"""`ctop-py snapshot --json --interval 1` beside a bare Python script that reads the same cgroup
files twice, one second apart: whole-process CPU (user + system of the child, from wait4's
rusage: every thread, as the kernel counts it), alternating the two, on the containers running.

Two bare scripts: the list's 8 cgroup files a container, twice (the floor since issue 16 began,
kept for continuity), and the files a real `snapshot --json --interval 1` opens, found by
strace (every successful open of a regular file under /sys/fs/cgroup or /proc, in order, split
where the command sleeps), so the floor does not depend on our code saying what it reads.

ctop-py's modules are compiled to bytecode first, as an installed package has them: where
PYTHONDONTWRITEBYTECODE is set (this machine's agents' shells), a checkout would otherwise
compile every module from source on every run (about 30 ms here, twice the bare script).
"""

from __future__ import annotations

import compileall
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.screens import FLOOR_SCRIPT
from benchmarks.util import spread

REPO = Path(__file__).resolve().parent.parent

# Reads the files of a listing in order, with a line "-" where the traced command slept (1 s).
TRACED_FLOOR_SCRIPT = """
import sys, time
with open(sys.argv[1]) as listing:
    lines = listing.read().splitlines()
for f in lines:
    if f == "-":
        time.sleep(1)
        continue
    try:
        with open(f, "rb") as fh:
            fh.read()
    except OSError:
        pass
"""
SAMPLE_BREAK = "-"
_OPEN = re.compile(
    r"^(?:openat\((?:AT_FDCWD|\d+)(?:<[^>]*>)?, |open\()"  # -y names the dir fd: <path>
    r'"((?:[^"\\]|\\.)*)", ([A-Z_|]+)[^)]*\)\s*=\s*(-?\d+)'
)
# A file read again through a kept fd (ctop_py/openfiles.py): pread at offset 0, named by -y.
_PREAD = re.compile(r"^pread64\(\d+<([^>]*)>, .*, \d+, (\d+)\)\s*=\s*(-?\d+)")
_TRACED_TREES = ("/sys/fs/cgroup/", "/proc/")


def parse_strace(text: str) -> tuple[list[list[str]], int]:
    """From `strace -f -y -e trace=openat,open,readlink,clock_nanosleep,pread64` output: the
    regular files under /sys/fs/cgroup and /proc opened successfully or read again at offset 0
    through a kept fd, in order, one list per stretch between
    sleeps; and how many readlinks (the namespace links, which the bare script does not do)."""
    pending: dict[str, str] = {}
    samples: list[list[str]] = [[]]
    readlinks = 0
    for line in text.splitlines():
        pid, _, call = line.partition(" ")
        call = call.strip()
        if call.endswith("<unfinished ...>"):
            pending[pid] = call[: -len("<unfinished ...>")]
            continue
        if call.startswith("<..."):  # "<... openat resumed>) = 3"
            call = pending.pop(pid, "") + call.split("resumed>", 1)[-1]
        if call.startswith("clock_nanosleep("):
            if samples[-1]:
                samples.append([])
            continue
        if call.startswith("readlink"):
            readlinks += 1
            continue
        kept = _PREAD.match(call)
        if kept:
            path = kept.group(1)
            if kept.group(2) == "0" and int(kept.group(3)) >= 0 and path.startswith(_TRACED_TREES):
                samples[-1].append(path)
            continue
        m = _OPEN.match(call)
        if not m or int(m.group(3)) < 0 or "O_DIRECTORY" in m.group(2):
            continue
        path = m.group(1)
        if path.startswith(_TRACED_TREES) and "\\" not in path:
            samples[-1].append(path)
    return [s for s in samples if s], readlinks


def traced_files(cmd: list[str], cwd: Path, workdir: Path) -> tuple[list[list[str]], int]:
    """The cgroup and proc files one run of `cmd` reads, as strace sees them."""
    log = workdir / "snapshot.strace"
    subprocess.run(
        ["strace", "-f", "-qq", "-y", "-e",
         "trace=openat,open,readlink,clock_nanosleep,pread64",
         "-o", str(log), *cmd],
        cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        check=True, timeout=600,
    )  # fmt: skip
    return parse_strace(log.read_text())


def write_traced_listing(samples: list[list[str]], path: Path) -> None:
    lines: list[str] = []
    for i, files in enumerate(samples):
        lines += ([SAMPLE_BREAK] if i else []) + files
    path.write_text("\n".join(lines) + "\n")


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
    try:
        traced, readlinks = traced_files(ours, REPO, workdir)
        trace_error = None
    except (OSError, subprocess.SubprocessError) as exc:  # no strace: the old ratio alone
        traced, readlinks, trace_error = [], 0, f"strace failed: {exc}"
    traced_listing = workdir / "snapshot-traced-files.txt"
    write_traced_listing(traced, traced_listing)
    bare_traced = [sys.executable, "-c", TRACED_FLOOR_SCRIPT, str(traced_listing)]
    app_cpu: list[float] = []
    bare_cpu: list[float] = []
    traced_cpu: list[float] = []
    statuses: list[int] = []
    for _ in range(rounds):  # alternating, so all see the same load
        cpu, _, status = _child_cpu(ours)
        app_cpu.append(cpu)
        statuses.append(status)
        cpu, _, _ = _child_cpu(bare)
        bare_cpu.append(cpu)
        cpu, _, _ = _child_cpu(bare_traced)
        traced_cpu.append(cpu)
    app_s, bare_s, traced_s = spread(app_cpu), spread(bare_cpu), spread(traced_cpu)
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
        "traced": {"error": trace_error}
        if trace_error
        else {  # the bare script reading the files strace saw the snapshot open
            "opens_per_sample": [len(f) for f in traced],
            "readlinks": readlinks,
            "bare_cpu_s": traced_s,
            "ratio_median": (
                round(app_s["median"] / traced_s["median"], 2) if traced_s["median"] else None
            ),
        },
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
        traced, readlinks = traced_files([sys.executable, "-m", "ctop_py", *snap], REPO, Path(tmp))
        traced_listing = Path(tmp) / "traced.txt"
        write_traced_listing(traced, traced_listing)
        variants: dict[str, tuple[list[str], Path]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], REPO),
            "python -I -S -c pass": ([sys.executable, "-I", "-S", "-c", "pass"], REPO),
            "python -c 'import json'": ([sys.executable, "-c", "import json"], REPO),
            # Start-up and every import of `snapshot --json`, nothing run.
            "imports of snapshot --json": (
                [sys.executable, "-c", "import ctop_py.cli, ctop_py.collect"],
                REPO,
            ),
            "bare script": ([sys.executable, "-c", FLOOR_SCRIPT, str(listing), "2"], REPO),
            "bare script, traced files": (
                [sys.executable, "-c", TRACED_FLOOR_SCRIPT, str(traced_listing)],
                REPO,
            ),
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
        bare_traced = spread(cpu["bare script, traced files"])["median"]
        print(f"{len(ids)} running containers, {args.rounds} rounds, load {load} -> {loadavg()}")
        print(
            f"bare script: {len(ids) * 8} files twice; traced files: "
            f"{' + '.join(str(len(f)) for f in traced)} opens (strace of one snapshot; "
            f"its {readlinks} readlinks not repeated)"
        )
        for name, values in cpu.items():
            s = spread(values)
            print(
                f"{name:34s} {s['median'] * 1000:7.1f} ms  ({s['min'] * 1000:.1f}–"
                f"{s['max'] * 1000:.1f})  {s['median'] / bare:5.2f}× the bare script, "
                f"{s['median'] / bare_traced:5.2f}× traced"
            )
        median = {name: spread(values)["median"] for name, values in cpu.items()}
        json_floor = bare_traced + median["python -c 'import json'"] - median["python -c pass"]
        print(
            f"floor of a JSON snapshot: the traced files read + `import json` = "
            f"{json_floor * 1000:.1f} ms ({json_floor / bare:.2f}× the bare script); "
            f"3× the bare script = {3 * bare * 1000:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
