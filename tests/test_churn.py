"""Churn: containers started and removed continuously while the collector samples. No
exception, and no row outlives its container by more than two ticks.

`make test` runs a short burst; `make stress` sets CTOP_STRESS_SECONDS=60 for the long one."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

import pytest

from ctop_py.collect import Collector
from ctop_py.derive import derive
from ctop_py.model import RawSample
from tests.conftest import BASE_IMAGE, NAME_PREFIX, RUN_LABELS, SLEEP

pytestmark = pytest.mark.docker

SECONDS = float(os.environ.get("CTOP_STRESS_SECONDS", "8"))
TICK = 0.25


@pytest.mark.parametrize("events", [False, True], ids=["listing", "events"])
def test_churn(docker_client: Any, events: bool) -> None:
    """`events`: names and states kept by the engine's event stream (as the app, snapshot and
    record do), else listed every 5 s (ns, net, the exporter)."""
    run_id = uuid.uuid4().hex[:8]
    label = {**RUN_LABELS, "ctop-churn": run_id}
    removed_at: dict[str, float] = {}  # after `docker rm -f` returned
    removing_at: dict[str, float] = {}  # before it was called (it kills the container first)
    started_at: dict[str, float] = {}  # after `docker run` returned: its cgroup exists
    started: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def churn() -> None:
        try:
            alive: list[Any] = []
            while not stop.is_set():
                c = docker_client.containers.run(
                    BASE_IMAGE,
                    SLEEP,
                    detach=True,
                    labels=label,
                    name=f"{NAME_PREFIX}churn-{uuid.uuid4().hex[:10]}",
                )
                started_at[c.id] = time.monotonic()
                started.append(c.id)
                alive.append(c)
                if len(alive) > 3:
                    victim = alive.pop(0)
                    removing_at[victim.id] = time.monotonic()
                    victim.remove(force=True)
                    removed_at[victim.id] = time.monotonic()
            for victim in alive:
                removing_at[victim.id] = time.monotonic()
                victim.remove(force=True)
                removed_at[victim.id] = time.monotonic()
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    worker = threading.Thread(target=churn)
    collector = Collector(watch_engines=events)
    samples: list[tuple[float, float, RawSample]] = []  # (began, ended, sample)
    prev = None
    try:
        worker.start()
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            began = time.monotonic()
            sample = collector.sample(detail=())
            derive(prev, sample)  # must not raise either
            prev = sample
            samples.append((began, time.monotonic(), sample))
            time.sleep(TICK)
        stop.set()
        worker.join(timeout=120)
        # two more ticks after the last removal
        for _ in range(3):
            time.sleep(TICK)
            began = time.monotonic()
            sample = collector.sample(detail=())
            samples.append((began, time.monotonic(), sample))
    finally:
        stop.set()
        worker.join(timeout=120)
        collector.close()
    assert not errors, errors
    assert len(started) >= 4, "the churn never got going"
    churned = set(started)
    seen: set[str] = set()
    for index, (began, ended, sample) in enumerate(samples):
        rows = {c.id: c for c in sample.containers if c.id in churned}
        # A row of ANY state (an "exited" row from the engine's cached list too) may lag the
        # removal by at most two ticks: gone from every sample that began two samples after it.
        cutoff = samples[index - 2][0] if index >= 2 else float("-inf")
        for cid, row in rows.items():
            gone_at = removed_at.get(cid)
            assert gone_at is None or gone_at > cutoff, (
                f"{cid[:12]} ({row.state}, pids {row.pids}) outlived its removal by "
                f"{began - gone_at:.2f} s ({index - _index_after(samples, gone_at)} samples)"
            )
        # Every container alive for the whole of a sample is in it, running, with its pids.
        for cid, since in started_at.items():
            if since < began and ended < removing_at.get(cid, float("inf")):
                assert cid in rows, f"{cid[:12]} was alive and missed by sample {index}"
                assert rows[cid].state == "running" and rows[cid].pids, rows[cid]
                seen.add(cid)
    assert seen, "the collector never saw a churned container"
    final = samples[-1][2]
    assert not [c for c in final.containers if c.id in churned]


def _index_after(samples: list[tuple[float, float, RawSample]], moment: float) -> int:
    return next((i for i, s in enumerate(samples) if s[0] > moment), len(samples))
