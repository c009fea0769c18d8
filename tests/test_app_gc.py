"""The app's cyclic collector: its youngest generation's pass runs once GC_GEN0_THRESHOLD more
container objects were made than freed, not Python's default 700, so the samples' records
of a tick are not carried into the older generations two ticks in three; the middle one
after GC_GEN1_THRESHOLD of those, so what is moved there is looked at again about as soon
(in objects made) as by default. Told by the
interpreter itself (gc.get_threshold, gc.callbacks), not by the app."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest

from ctop_py import demo
from ctop_py.derive import derive
from ctop_py.diagnose import Diagnoser
from ctop_py.launch import AppOptions
from ctop_py.ring import SampleRing
from ctop_py.ui import app as ui_app
from ctop_py.ui.source import StaticSource


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _run_without_textual(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.app import App

    monkeypatch.setattr(gc, "freeze", lambda: None)  # not this test process's objects
    monkeypatch.setenv("CTOP_MALLOC", "off")

    def textual_run(self: App[int], *args: Any, **kwargs: Any) -> int:
        return 0

    monkeypatch.setattr(App, "run", textual_run)
    app = ui_app.make_app(StaticSource(demo.snapshots(2)), AppOptions(autostart=False))
    assert app.run() == 0


def test_the_app_raises_the_youngest_generations_threshold_only(
    monkeypatch: pytest.MonkeyPatch, thresholds: None
) -> None:
    gc.set_threshold(700, 10, 10)  # Python's defaults
    _run_without_textual(monkeypatch)
    assert gc.get_threshold() == (ui_app.GC_GEN0_THRESHOLD, ui_app.GC_GEN1_THRESHOLD, 10)
    assert ui_app.GC_GEN0_THRESHOLD * ui_app.GC_GEN1_THRESHOLD <= 2 * 700 * 10
    assert gc.isenabled()  # cycles are still collected
    gc.set_threshold(50_000, 7, 3)  # one set higher already (PYTHONGC-like tuning) is kept
    _run_without_textual(monkeypatch)
    assert gc.get_threshold() == (50_000, 7, 3)


def _passes(ticks: int, threshold: int, middle: int = 10) -> list[int]:
    """The collector's passes by generation while a minute of demo samples is made (the
    collector's part of a tick) and taken through the worker's pipeline (derive, ring,
    diagnosis), with the youngest generation at `threshold`."""
    counts = [0, 0, 0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            counts[info["generation"]] += 1

    ring, diagnoser = SampleRing(), Diagnoser()
    gc.collect()
    gc.set_threshold(threshold, middle, 10)
    gc.callbacks.append(count)
    try:
        samples = demo.raw_samples(ticks + 1)
        for before, sample in pairwise(samples):
            derive(before, sample)
            ring.append(sample)
            diagnoser.observe(sample)
    finally:
        gc.callbacks.remove(count)
    return counts


def test_a_minute_of_samples_runs_far_fewer_passes(thresholds: None) -> None:
    default = _passes(60, 700)
    ours = _passes(60, ui_app.GC_GEN0_THRESHOLD, ui_app.GC_GEN1_THRESHOLD)
    assert default[0] >= 5, default  # the samples do make the youngest generation's passes
    assert ours[0] * 3 <= default[0], (ours, default)
    assert sum(ours[1:]) <= sum(default[1:]), (ours, default)
