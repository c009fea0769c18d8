"""What a visit to a container screen leaves behind once the app is back on the list: nothing.

Two Textual caches kept removed widgets alive (both open upstream): the Footer's watcher list
held every FooterKey it ever made (textual#6666; the list's Footer makes a new set each time
the list is shown again), and `StylesCache.get_inner_outer`'s lru_cache held each removed
widget's StylesCache with its rendered lines (textual#6665). Measured in the app on a live
host, each visit kept about 4 MiB. The test follows the objects themselves with weak
references: alive after the visit means kept."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets._footer import FooterKey

from ctop_py.ui.app import CtopApp
from ctop_py.ui.screens.container import ContainerScreen
from ctop_py.ui.screens.containers import ContainersScreen
from tests.test_ui import SNAPSHOTS, drive, key_of, make_app, step

VISITS = 3


def footer_keys(app: CtopApp) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


async def visit(app: CtopApp, pilot: Pilot[int]) -> list[weakref.ref[Any]]:
    """Open the container screen, show each tab, go back to the list; weak references to
    what the visit made and should have let go: the container screen, its widgets and their
    StylesCaches, and the list's FooterKeys from before (the list makes new ones on return)."""
    gone: list[weakref.ref[Any]] = [weakref.ref(k) for k in footer_keys(app)]
    app.open_container(key_of(app, "web"))
    await pilot.pause()
    for tab in "12345678":
        await pilot.press(tab)
        await step(app, pilot)
    screen = app.screen
    assert isinstance(screen, ContainerScreen)
    for widget in [screen, *screen.walk_children(Widget)]:
        gone += [weakref.ref(widget), weakref.ref(widget._styles_cache)]
    del screen, widget
    await pilot.press("escape")
    await step(app, pilot, 2)
    assert isinstance(app.screen, ContainersScreen)
    return gone


def alive(refs: list[weakref.ref[Any]]) -> list[str]:
    gc.collect()
    return sorted({type(o).__name__ for r in refs if (o := r()) is not None})


def test_a_container_visit_leaves_nothing_behind() -> None:
    app = make_app(SNAPSHOTS)
    kept: list[list[str]] = []
    counts: list[int] = []

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        for _ in range(VISITS):
            refs = await visit(app, pilot)
            kept.append(alive(refs))
            counts.append(sum(isinstance(o, FooterKey) for o in gc.get_objects()))
        # The Footer's keys now are all the FooterKeys there are.
        assert counts[-1] == len(footer_keys(app)) > 0

    drive(app, scenario)
    assert kept == [[]] * VISITS
    assert len(set(counts)) == 1
