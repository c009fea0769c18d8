"""How many containers get a new record object per tick on a still host.

`python -m benchmarks.churn COUNT [--ticks 20] [--interval 1]`: builds a fake cgroup v2 tree of
COUNT containers (benchmarks/fakehost.py, nothing moves), samples it as the app does
(`detail=()`, `brief=True`, one tick a second) and prints, per tick after the first, how many
containers' ContainerRaw is not the very object of the previous tick, and the collector's CPU a
tick. On a still host every
record could be the same object: whatever changes is work every consumer that skips unchanged
records (derive, the lifecycle tracker, the histories, the table, the ring) does again.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
import uuid
from pathlib import Path

from benchmarks.fakehost import FakeV2Host
from ctop_py.collect import Collector
from ctop_py.host import HostRoot


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.churn")
    p.add_argument("count", type=int)
    p.add_argument("--ticks", type=int, default=20)
    p.add_argument("--interval", type=float, default=1.0)
    args = p.parse_args(argv)
    work = Path(f"/tmp/ctop-churn-{uuid.uuid4().hex[:8]}")
    host = FakeV2Host(work / "fake", args.count).build()
    collector = Collector(HostRoot.at(str(host.base)), engines=[])
    try:
        prev = {c.id: c for c in collector.sample(detail=(), brief=True).containers}
        changed: list[int] = []
        cpu_ms: list[float] = []
        for _ in range(args.ticks):
            time.sleep(args.interval)
            start = time.process_time()
            containers = collector.sample(detail=(), brief=True).containers
            cpu_ms.append(1000 * (time.process_time() - start))
            cur = {c.id: c for c in containers}
            changed.append(sum(1 for cid, c in cur.items() if prev.get(cid) is not c))
            prev = cur
    finally:
        collector.close()
        shutil.rmtree(work, ignore_errors=True)
    share = 100.0 * statistics.mean(changed) / max(1, len(prev))
    print(f"{len(prev)} containers, {args.ticks} ticks: new records a tick {changed}")
    print(f"mean {statistics.mean(changed):.1f} ({share:.1f} %), max {max(changed)}")
    print(f"sample(): {statistics.median(cpu_ms):.1f} ms of CPU a tick (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
