"""Idle busybox containers on this machine's engine, started and removed by the benchmark.

Each run labels its containers `ctop-py-bench=<run id>` and names them
`ctop-bench-<run id>-<n>`; leftovers of killed runs (older than 2 hours) are removed first.
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
# Another run's containers are left alone until older than any run lasts: a full `make bench`
# (the 10-minute RSS run, the screens at three counts) or a profile may run beside this one.
LEFTOVER_AGE_S = 2 * 3600


def is_leftover(attrs: dict[str, Any], run_id: str, now: float) -> bool:
    """A benchmark container (its `docker inspect`) to remove: this run's, or another run's
    older than LEFTOVER_AGE_S; one whose age cannot be read is kept (it may be live)."""
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    if LABEL not in labels:
        return False
    if labels[LABEL] == run_id:
        return True
    created = str(attrs.get("Created", ""))
    try:
        age = now - datetime.fromisoformat(created[:19] + "+00:00").timestamp()
    except ValueError:
        return False
    return age > LEFTOVER_AGE_S


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
        """Remove this run's containers and other runs' older than LEFTOVER_AGE_S."""
        removed = 0
        now = time.time()
        # Another run may remove one of its containers between the listing and its inspection.
        listed = self.client.containers.list(
            all=True, filters={"label": LABEL}, ignore_removed=True
        )
        for c in listed:
            if not is_leftover(c.attrs, self.run_id, now):
                continue
            with contextlib.suppress(Exception):  # removed meanwhile by its own run
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
