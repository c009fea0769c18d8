"""Where the app's CPU goes: py-spy on the app, summed by module.

`python -m benchmarks.profile_app COUNT [--moving] [--live] [--seconds 30] [--out FILE]`: builds
a fake cgroup v2 tree of COUNT containers and starts the app on it (`--root`, tmux 200x50, 1 s
refresh), or with `--live` starts COUNT containers on the engine (one a throttled spinner, as
`make bench`'s screens) and the app on this host; waits 20 s after its first frame, records
every thread with py-spy (100 Hz, raw collapsed stacks) and prints the share of the non-idle
samples per bucket. A sample goes to the bucket of its innermost frame that matches one, so our
render code called by Textual counts as ours.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks.appbench import NoFirstFrame, app_started
from benchmarks.dockerenv import Fleet

BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "collector",
        (
            "ctop_py/collect.py",
            "ctop_py/cgroupfs.py",
            "ctop_py/procfs.py",
            "ctop_py/discover.py",
            "ctop_py/net.py",
            "ctop_py/nsfs.py",
        ),
    ),
    ("scroll-back ring", ("ctop_py/ring.py",)),
    ("diagnosis", ("ctop_py/diagnose.py",)),
    ("derive", ("ctop_py/derive.py",)),
    (
        "lifecycle tracker and events",
        ("ctop_py/runtimes/", "ctop_py/events.py", "ctop_py/lifecycle.py"),
    ),
    ("histories, app state, containers table", ("ctop_py/ui/",)),
    ("Textual", ("textual/", "rich/")),
)
# Leaves where a thread waits: not the app's work.
IDLE = ("select (selectors.py", "wait (threading.py", "_wait_for_tstate_lock", "sleep (")


def buckets(raw: str) -> tuple[int, dict[str, float]]:
    """Non-idle samples and each bucket's share (%), from py-spy's raw output."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if any(key in frames[-1] for key in IDLE):
            continue
        for frame in reversed(frames):
            hit = next((name for name, keys in BUCKETS if any(k in frame for k in keys)), None)
            if hit is not None:
                counts[hit] += int(count)
                break
        else:
            counts["other"] += int(count)
    total = sum(counts.values())
    return total, {k: round(100 * v / total, 1) for k, v in counts.most_common()} if total else {}


def _live_fleet(count: int) -> Fleet:
    """COUNT containers on the engine: a throttled spinner and COUNT - 1 idle ones."""
    from benchmarks.screens import spinner_and_idle

    fleet = Fleet.connect()
    spinner_and_idle(fleet, count)
    return fleet


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_app")
    p.add_argument("count", type=int)
    p.add_argument("--moving", action="store_true", help="counters move every second")
    p.add_argument("--live", action="store_true", help="live containers on the engine")
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--out", type=Path, help="keep py-spy's raw collapsed stacks here")
    args = p.parse_args(argv)
    work = Path(f"/tmp/ctop-bench-{uuid.uuid4().hex[:8]}")
    work.mkdir(parents=True)
    out = args.out or work / "raw.txt"
    fleet = _live_fleet(args.count) if args.live else None
    fake = None if args.live else args.count
    try:
        with app_started(work, fake, tree=work / "fake", moving=args.moving) as (_, rec):
            time.sleep(20)
            py_spy = Path(sys.executable).with_name("py-spy")
            record = [str(py_spy), "record", "--pid", str(rec["pid"]), "-d", str(args.seconds)]
            record += ["-r", "100", "--threads", "--nonblocking", "--format", "raw", "-o", str(out)]
            subprocess.run(
                record,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        raw = out.read_text()
    except NoFirstFrame as error:
        print(f"the app did not show a frame: {error}", file=sys.stderr)
        return 1
    finally:
        if fleet is not None:
            fleet.remove_all()
            fleet.close()
        shutil.rmtree(work, ignore_errors=True)  # the raw stacks too, unless --out elsewhere
    total, shares = buckets(raw)
    kind = "live" if args.live else "moving" if args.moving else "still"
    print(f"{args.count} containers ({kind}): {total} samples")
    for name, share in shares.items():
        print(f"{share:5.1f} %  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
