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
from tests.conftest import BASE_IMAGE, SLEEP, TEST_LABEL

pytestmark = pytest.mark.docker

SECONDS = float(os.environ.get("CTOP_STRESS_SECONDS", "8"))
TICK = 0.25


def test_churn(docker_client: Any) -> None:
    run_id = uuid.uuid4().hex[:8]
    label = {TEST_LABEL: "1", "ctop-churn": run_id}
    removed_at: dict[str, float] = {}
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
                    name=f"ctop-churn-{uuid.uuid4().hex[:10]}",
                )
                started.append(c.id)
                alive.append(c)
                if len(alive) > 3:
                    victim = alive.pop(0)
                    victim.remove(force=True)
                    removed_at[victim.id] = time.monotonic()
            for victim in alive:
                victim.remove(force=True)
                removed_at[victim.id] = time.monotonic()
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    worker = threading.Thread(target=churn)
    collector = Collector()
    samples: list[tuple[float, RawSample]] = []
    prev = None
    try:
        worker.start()
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            sample = collector.sample(detail=())
            derive(prev, sample)  # must not raise either
            prev = sample
            samples.append((time.monotonic(), sample))
            time.sleep(TICK)
        stop.set()
        worker.join(timeout=120)
        # two more ticks after the last removal
        for _ in range(3):
            time.sleep(TICK)
            sample = collector.sample(detail=())
            samples.append((time.monotonic(), sample))
    finally:
        stop.set()
        worker.join(timeout=120)
        collector.close()
    assert not errors, errors
    assert len(started) >= 4, "the churn never got going"
    churned = set(started)
    seen = set()
    for index, (_taken_at, sample) in enumerate(samples):
        # a row may lag the removal by at most two ticks
        cutoff = samples[index - 2][0] if index >= 2 else float("-inf")
        for c in sample.containers:
            if c.id not in churned or not c.pids:
                continue
            seen.add(c.id)
            gone_at = removed_at.get(c.id)
            assert gone_at is None or gone_at > cutoff, f"{c.id[:12]} outlived its removal"
    assert seen, "the collector never saw a churned container"
    final = samples[-1][1]
    assert not [c for c in final.containers if c.id in churned and c.pids]
