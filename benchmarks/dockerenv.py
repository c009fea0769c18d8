"""Idle busybox containers on this machine's engine, started and removed by the benchmark.

Each run labels its containers `ctop-py-bench=<run id>` and names them
`ctop-bench-<run id>-<n>`; leftovers of killed runs (older than 20 minutes) are removed first.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from benchmarks.util import log

IMAGE = "ctop-test-base:1"
LABEL = "ctop-py-bench"
# Names start with this (a shared engine: each user of it may be given a prefix of its own).
PREFIX = os.environ.get("CTOP_BENCH_NAME_PREFIX", "ctop-bench-")
LEFTOVER_AGE_S = 1200  # a whole run takes under 15 minutes


class Fleet:
    def __init__(self, client: Any, run_id: str | None = None) -> None:
        self.client = client
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.containers: list[Any] = []

    @classmethod
    def connect(cls, run_id: str | None = None) -> Fleet:
        import docker

        client = docker.from_env(timeout=120)
        client.ping()
        client.images.get(IMAGE)  # `make images` builds it
        return cls(client, run_id)

    def remove_leftovers(self) -> int:
        removed = 0
        now = time.time()
        for c in self.client.containers.list(all=True, filters={"label": LABEL}):
            created = str(c.attrs.get("Created", ""))
            try:
                age = now - datetime.fromisoformat(created[:26].rstrip("Z") + "+00:00").timestamp()
            except ValueError:
                age = LEFTOVER_AGE_S + 1
            if age > LEFTOVER_AGE_S:
                with contextlib.suppress(Exception):
                    c.remove(force=True)
                    removed += 1
        return removed

    def _start_one(self, index: int) -> Any:
        return self.client.containers.run(
            IMAGE,
            ["sleep", "86400"],
            name=f"{PREFIX}{self.run_id}-{index:04d}",
            labels={LABEL: self.run_id},
            detach=True,
            network_mode="bridge",
        )

    def grow_to(self, count: int, workers: int = 4) -> float:
        """Start containers until `count` of ours run; returns the seconds it took."""
        t0 = time.monotonic()
        wanted = range(len(self.containers), count)
        with ThreadPoolExecutor(workers) as pool:
            self.containers += list(pool.map(self._start_one, wanted))
        seconds = time.monotonic() - t0
        log(f"  {count} containers running ({len(wanted)} started in {seconds:.1f} s)")
        return seconds

    def running_on_host(self) -> int:
        return len(self.client.containers.list())

    def ids(self) -> list[str]:
        return [c.id for c in self.containers]

    def remove_all(self) -> None:
        """Remove every container of this run (also those a failed start left behind)."""
        mine = self.client.containers.list(all=True, filters={"label": f"{LABEL}={self.run_id}"})

        def remove(c: Any) -> None:
            with contextlib.suppress(Exception):
                c.remove(force=True)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(remove, mine))
        self.containers = []

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
