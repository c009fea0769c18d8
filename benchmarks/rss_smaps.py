"""Where the app's memory goes over a long run: /proc/PID/smaps every few seconds, by mapping.

The app runs on a fake v2 root of N containers whose counters move every second (as the
`--rss` step runs it), in a tmux server of its own (never the shared default one, whose global
environment other runs may have changed). Several variants can run side by side, each with its
own environment (e.g. `MALLOC_ARENA_MAX=1`, `CTOP_MALLOC=off`) or checkout (`REPO=DIR`), so a
before and after share the same minutes of load. Each reading sums Rss by kind of mapping:
the main heap (`[heap]`), anonymous mappings (glibc's per-thread arenas and large mmap'd
chunks, Python's arenas), files, the stacks; the mappings that grew most between the first
reading and the last are listed at the end (adjacent anonymous mappings merge: a start
address that moved shows as new).

    python -m benchmarks.rss_smaps --containers 100 --minutes 4 --every 10 \
        --variant base= --variant arena1=MALLOC_ARENA_MAX=1

What holds the memory, from inside the app (app_runner's CTOP_BENCH_MEMLOG=FILE: a JSON line
every 5 s of glibc's heap in use and free, Python's blocks and arenas, the collector's counts,
the sizes of the caches of 100 entries or more, the kinds of objects whose count moved):

    python -m benchmarks.rss_smaps --minutes 5 --variant base=CTOP_BENCH_MEMLOG=/tmp/mem.jsonl
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.appbench import REPO, Ticker
from benchmarks.fakehost import FakeV2Host
from benchmarks.util import loadavg, log, proc_cpu_s, proc_status_kib


def smaps(pid: int) -> dict[str, tuple[str, int, int]]:
    """Each mapping's start address -> (what it is, size KiB, Rss KiB)."""
    out: dict[str, tuple[str, int, int]] = {}
    start = kind = ""
    size = 0
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                fields = line.split()
                lo, hi = (int(x, 16) for x in first.split("-"))
                start, size = first.split("-")[0], (hi - lo) >> 10
                path = fields[5] if len(fields) > 5 else ""
                kind = path if path.startswith("[") else ("file" if path else "anon")
                if kind == "file" and "/lib" in path:
                    kind = "file:lib"
            elif first == "Rss:":
                out[start] = (kind, size, int(line.split()[1]))
    return out


def by_kind(maps: dict[str, tuple[str, int, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for kind, size, rss in maps.values():
        # glibc's thread arenas: anonymous 64 MiB reservations (HEAP_MAX_SIZE), mostly ---p
        key = "anon(64MiB arena)" if kind == "anon" and size in (65536, 65532) else kind
        key = "anon(<64MiB)" if key == "anon" else key
        totals[key] = totals.get(key, 0) + rss
    return totals


@dataclass
class Variant:
    name: str
    env: dict[str, str]
    out: Path
    socket: str = field(default_factory=lambda: f"r3-{uuid.uuid4().hex[:6]}")
    pid: int | None = None
    readings: list[dict[str, Any]] = field(default_factory=list)
    first_maps: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    last_maps: dict[str, tuple[str, int, int]] = field(default_factory=dict)

    def start(self, root: Path | None) -> None:
        """The app on the fake root `root`, or on this host (None)."""
        cmd = [sys.executable, "-m", "benchmarks.app_runner", str(self.out)]
        cmd += [] if root is None else ["--root", str(root)]
        # REPO=DIR: the app of another checkout (e.g. `git archive` of the commit before)
        repo = self.env.get("REPO", str(REPO))
        env = ["TERM=xterm-256color"] + [f"{k}={v}" for k, v in self.env.items() if k != "REPO"]
        shell = f"cd {shlex.quote(repo)} && exec env {shlex.join(env)} {shlex.join(cmd)}"
        tmux = ["tmux", "-L", self.socket, "-f", "/dev/null"]
        subprocess.run(
            [*tmux, "new-session", "-d", "-s", "app", "-x", "200", "-y", "50", shell],
            check=True,
            timeout=30,
        )

    def wait(self, timeout_s: float = 120.0) -> None:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            try:
                rec = json.loads(self.out.read_text())
            except (OSError, ValueError):
                rec = {}
            if "first_frame" in rec:
                self.pid = int(rec["pid"])
                return
            if "error" in rec:
                raise RuntimeError(f"{self.name}: {rec['error'][-400:]}")
            time.sleep(0.5)
        raise RuntimeError(f"{self.name}: no first frame in {timeout_s:.0f} s")

    def stop(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30, check=False
        )


V = TypeVar("V", bound=Variant)


def variants_from(specs: list[str], work: Path, kind: type[V]) -> list[V]:
    """A `kind` for each NAME=[VAR=VALUE,...] spec (the app's environment), its readings to
    work/NAME.json."""
    variants = []
    for spec in specs:
        name, _, rest = spec.partition("=")
        env = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
        variants.append(kind(name, env, work / f"{name}.json"))
    return variants


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between readings")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="NAME=[VAR=VALUE,...]: an app with these environment variables (repeatable)",
    )
    parser.add_argument("--json", help="write the readings here")
    args = parser.parse_args()
    specs = args.variant or ["base="]
    work = Path(tempfile.mkdtemp(prefix="ctop-rss-smaps-"))
    variants = variants_from(specs, work, Variant)
    hosts = []
    tickers = []
    try:
        for v in variants:
            host = FakeV2Host(work / f"fake-{v.name}", args.containers).build()
            hosts.append(host)
            tickers.append(Ticker(host.templates).__enter__())
            v.start(host.base)
        for v in variants:
            v.wait()
        t0 = time.monotonic()
        cpu0 = {v.name: proc_cpu_s(v.pid or 0) for v in variants}
        log(f"started {[(v.name, v.pid, v.env) for v in variants]}; load {loadavg()}")
        while time.monotonic() - t0 < 60 * args.minutes:
            for v in variants:
                assert v.pid is not None
                maps = smaps(v.pid)
                if not v.first_maps:
                    v.first_maps = maps
                v.last_maps = maps
                reading = {
                    "t": round(time.monotonic() - t0),
                    "rss": (proc_status_kib(v.pid, "VmRSS") or 0) / 1024,
                    **{k: round(kib / 1024, 2) for k, kib in sorted(by_kind(maps).items())},
                }
                v.readings.append(reading)
                print(v.name, json.dumps(reading), flush=True)
            time.sleep(args.every)
        for v in variants:
            assert v.pid is not None
            cpu = (proc_cpu_s(v.pid) or 0) - (cpu0[v.name] or 0)
            hwm = (proc_status_kib(v.pid, "VmHWM") or 0) / 1024
            first, last = v.readings[0], v.readings[-1]
            log(
                f"{v.name}: RSS {first['rss']:.1f} -> {last['rss']:.1f} MiB, peak {hwm:.1f}; "
                f"CPU {100 * cpu / (time.monotonic() - t0):.2f} %"
            )
            grew = []
            for start, (kind, size, rss) in v.last_maps.items():
                before = v.first_maps.get(start, (kind, size, 0))[2]
                if rss - before:
                    grew.append((rss - before, start, kind, size, rss))
            for delta, start, kind, size, rss in sorted(grew, reverse=True)[:8]:
                print(f"  {v.name} {start} {kind} size {size} KiB: Rss {rss} KiB ({delta:+d})")
        if args.json:
            Path(args.json).write_text(
                json.dumps({v.name: {"env": v.env, "readings": v.readings} for v in variants})
            )
    finally:
        for v in variants:
            v.stop()
        for ticker in tickers:
            ticker.__exit__(None, None, None)
        for host in hosts:
            host.remove()
        shutil.rmtree(work, ignore_errors=True)
        log(f"load at end {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
