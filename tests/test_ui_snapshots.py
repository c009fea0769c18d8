"""Snapshot tests (pytest-textual-snapshot): the main screens rendered from a static source,
compared with the SVGs stored in tests/__snapshots__. They never read the host.

After an intended change of the UI: `pytest tests/test_ui_snapshots.py --snapshot-update`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from ctop_py.ui.app import CtopApp
from ctop_py.ui.screenshots import SIZE, _key, demo_app, fill

SnapCompare = Callable[..., bool]


def _app(pilot: Pilot[Any]) -> CtopApp:
    assert isinstance(pilot.app, CtopApp)
    return pilot.app


async def _fill(pilot: Pilot[Any]) -> None:
    await fill(_app(pilot), pilot)


def _then(*steps: Callable[[Pilot[Any]], Awaitable[None]]) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await _fill(pilot)
        for step in steps:
            await step(pilot)
            await pilot.pause()

    return run


def _open(name: str, tab: str | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def step(pilot: Pilot[Any]) -> None:
        _app(pilot).open_container(_key(_app(pilot), name))
        await pilot.pause()
        if tab is not None:
            await pilot.press(tab)

    return step


def test_containers_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(demo_app(), run_before=_then(), terminal_size=SIZE)


def test_sorted_and_filtered(snap_compare: SnapCompare) -> None:
    async def keys(pilot: Pilot[Any]) -> None:
        await pilot.press("M", "slash", "w", "e", "b", "enter")

    assert snap_compare(demo_app(), run_before=_then(keys), terminal_size=SIZE)


def test_throttling_tab(snap_compare: SnapCompare) -> None:
    assert snap_compare(demo_app(), run_before=_then(_open("spinner", "2")), terminal_size=SIZE)


def test_overview_tab(snap_compare: SnapCompare) -> None:
    assert snap_compare(demo_app(), run_before=_then(_open("db")), terminal_size=SIZE)
