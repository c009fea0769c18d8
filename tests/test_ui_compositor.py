"""The container screen's partial updates render only the widgets under what changed, and
write to the terminal exactly what Textual's own partial update writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual._compositor import ChopsUpdate, Compositor
from textual.containers import VerticalScroll
from textual.widgets import Static

from ctop_py import demo
from ctop_py.ui.app import CtopApp
from ctop_py.ui.compositor import ChangedOnlyCompositor, compositor
from ctop_py.ui.widgets.container_table import ContainerTable
from tests.test_ui import drive, make_app, open_screen, step


def _both_updates(
    app: CtopApp,
    ours: Callable[[ChangedOnlyCompositor], ChopsUpdate | None],
    frames: list[tuple[str, str]],
    rendering: list[str],
) -> Callable[[ChangedOnlyCompositor], ChopsUpdate | None]:
    """A partial update that makes Textual's frame and ours from the same changed regions,
    keeps both (terminal output) in `frames`, and writes ours; `rendering[0]` names whose
    update is rendering."""

    def both(self: ChangedOnlyCompositor) -> ChopsUpdate | None:
        changed = set(self._dirty_regions)
        # Textual's partial update first (its renders fill the widgets' caches: ours then
        # draws the same lines from them, as a second frame of unchanged widgets would).
        rendering[0] = "textual"
        textual = Compositor.render_partial_update(self)
        self._dirty_regions = changed
        rendering[0] = "ours"
        mine = ours(self)
        rendering[0] = "textual"
        if textual is None or mine is None:
            assert textual is mine
        else:
            console = app.console
            frames.append((mine.render_segments(console), textual.render_segments(console)))
        return mine

    return both


def test_each_frame_is_textuals_frame_with_fewer_widgets_rendered() -> None:
    app = make_app(demo.snapshots(40))
    frames: list[tuple[str, str]] = []  # (ours, Textual's) terminal output of each frame
    ours = ChangedOnlyCompositor.render_partial_update
    title_renders = {"ours": 0, "textual": 0}
    rendering = ["textual"]

    both = _both_updates(app, ours, frames, rendering)

    async def scenario(app: CtopApp, pilot: Any) -> None:
        await step(app, pilot, 2)
        screen = await open_screen(app, pilot, "spinner")
        assert isinstance(screen._compositor, ChangedOnlyCompositor)
        title = screen.query_one("#title", Static)
        render_title = title.render_lines

        def counted(crop: Any) -> Any:
            title_renders[rendering[0]] += 1
            return render_title(crop)

        title.render_lines = counted  # type: ignore[method-assign]
        ChangedOnlyCompositor.render_partial_update = both  # type: ignore[method-assign,assignment]
        try:
            for tab in ("1", "2", "3", "8", "1"):
                await pilot.press(tab)
                await step(app, pilot, 4)
            # Scrolled: the widgets at the pane's top are cut by its clip, not only placed.
            await pilot.press("2")
            await step(app, pilot, 4)
            pane = screen.query_one("#throttling").query_one(VerticalScroll)
            assert pane.max_scroll_y > 4
            pane.scroll_to(y=4, animate=False)
            await step(app, pilot, 4)
        finally:
            ChangedOnlyCompositor.render_partial_update = ours  # type: ignore[method-assign]
        assert len(frames) >= 20
        for mine, textual in frames:
            assert mine == textual
        # Textual's update rendered the title (between the header and the tab's charts) in
        # every frame; ours only where it changed, which on the same container is never.
        assert title_renders["textual"] >= len(frames)
        assert title_renders["ours"] == 0

    drive(app, scenario, size=(120, 40))


def test_textuals_own_compositor_where_its_internals_differ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert type(compositor()) is ChangedOnlyCompositor  # the Textual installed has them
    monkeypatch.delattr(Compositor, "visible_widgets")  # as a later Textual might
    assert type(compositor()) is Compositor


def test_the_lists_frames_are_textuals_with_fewer_table_lines_rendered() -> None:
    """The containers list: each tick changes the header and some rows. Textual's partial
    update rendered every line of the table from its top (its title and column labels) to
    the lowest changed row; ours renders the lines from the first changed one only, and
    writes the same frame."""
    app = make_app(demo.snapshots(40))
    frames: list[tuple[str, str]] = []
    lines_rendered = {"ours": 0, "textual": 0}
    rendering = ["textual"]
    ours = ChangedOnlyCompositor.render_partial_update

    both = _both_updates(app, ours, frames, rendering)

    async def scenario(app: CtopApp, pilot: Any) -> None:
        await step(app, pilot, 2)
        screen = app.screen
        assert isinstance(screen._compositor, ChangedOnlyCompositor)
        table = screen.query_one(ContainerTable)
        render_table = table.render_lines

        def counted(crop: Any) -> Any:
            lines_rendered[rendering[0]] += crop.height
            return render_table(crop)

        table.render_lines = counted  # type: ignore[method-assign]
        ChangedOnlyCompositor.render_partial_update = both  # type: ignore[method-assign,assignment]
        try:
            await step(app, pilot, 8)
            await pilot.press("N")  # another order: rows move
            await step(app, pilot, 4)
            await pilot.press("down", "down")  # the cursor's rows
            await step(app, pilot, 4)
        finally:
            ChangedOnlyCompositor.render_partial_update = ours  # type: ignore[method-assign]
        assert len(frames) >= 14
        for mine, textual in frames:
            assert mine == textual
        # Each of Textual's frames rendered at least the table's title and column labels.
        assert lines_rendered["textual"] >= lines_rendered["ours"] + 2 * len(frames)

    drive(app, scenario, size=(170, 40))
