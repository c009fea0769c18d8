"""A container that comes or goes repaints the rows that moved, not the table, and leaves the
table as a fresh one would be.

The containers table goes through comings and goings (in the middle, above the cursor, at the
end, several in one tick, a container that goes and comes back with other figures, scrolled
down); after each, the table equals a fresh table given the same rows, line by line and style
by style: the same containers in the same order (the one `columns.order` gives), the cursor on
the same container, the same cells. Every line that changed on screen was asked to be repainted,
and a change below the view asks for no row of the view but the ones it moved.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich.style import Style
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from benchmarks.table_churn import numbered_view
from ctop_py.ui import columns as cols
from ctop_py.ui.columns import Column, RowInput
from ctop_py.ui.history import History
from ctop_py.ui.widgets.container_table import ContainerTable

SIZE = (200, 24)
SORT = cols.BY_KEY["cpu"]
Lines = list[list[tuple[str, Style | None]]]


class _Host(App[None]):
    CSS = "ContainerTable { height: 1fr; border: round $primary; }"  # as ctop.tcss: a title

    def compose(self) -> ComposeResult:
        yield ContainerTable(id="t")


def _rows(views: dict[int, float]) -> dict[str, RowInput]:
    histories: dict[int, History] = {}
    rows = {}
    for n, cpu in views.items():
        view = numbered_view(n, cpu)
        rows[view.id] = RowInput(view, histories.setdefault(n, History()))
    return rows


def _lines(t: ContainerTable) -> Lines:
    height = t.scrollable_content_region.height
    return [[(ch, s.style) for s in t.render_line(y) for ch in s.text] for y in range(height)]


@dataclass
class Shown:
    order: list[str]
    cursor: str | None
    scroll_y: float
    lines: Lines
    title: str


def _shown(t: ContainerTable) -> Shown:
    # The top border as drawn (through the widget's line cache): it shows the title.
    title = t.render_lines(Region(0, 0, t.outer_size.width, 1))[0].text
    return Shown(
        [r.key.value or "" for r in t.ordered_rows], t.selected_key, t.scroll_y, _lines(t), title
    )


async def _fresh(
    rows: dict[str, RowInput],
    cursor: str | None,
    scroll_y: float,
    sort: tuple[Column, bool] = (SORT, False),
) -> Shown:
    """A table made now, given only these rows, its cursor on `cursor`, scrolled as asked."""
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        t = app.query_one(ContainerTable)
        t.show(rows, *sort)
        t.border_title = f"{len(rows)} containers"
        await pilot.pause()
        if cursor is not None:
            t.select_key(cursor)
        await pilot.pause()
        t.scroll_to(y=scroll_y, animate=False, immediate=True)
        await pilot.pause()
        return _shown(t)


Asked = list[tuple[tuple[Region, ...], bool]]  # the regions, and whether to repaint them


@contextlib.contextmanager
def _refreshes(widget: ContainerTable) -> Iterator[Asked]:
    """The refreshes asked of Textual for `widget` in the block: () is the whole widget."""
    asked: Asked = []
    refresh = Widget.refresh

    def recorded(self: Widget, *regions: Region, **kwargs: Any) -> Any:
        if self is widget:
            asked.append((regions, kwargs.get("repaint", True)))
        return refresh(self, *regions, **kwargs)

    Widget.refresh = recorded  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        Widget.refresh = refresh  # type: ignore[method-assign]


def _whole(asked: Asked) -> bool:
    return any(not regions and repaint for regions, repaint in asked)


def _covered(y: int, asked: Asked) -> bool:
    return _whole(asked) or any(r.y <= y < r.bottom for regions, _ in asked for r in regions)


START = {n: float(n + 1) for n in range(40)}  # container number: CPU %; by CPU: 39 first


def _steps() -> list[tuple[str, dict[int, float], int | None]]:
    """Each step: what happens, the containers after it, and the container to put the cursor
    on before it (None: where it is)."""
    views = dict(START)

    def step(
        what: str, cursor_on: int | None = None, gone: tuple[int, ...] = (), come: Any = None
    ) -> tuple[str, dict[int, float], int | None]:
        for n in gone:
            del views[n]
        views.update(come or {})
        return what, dict(views), cursor_on

    return [
        step("one comes in the middle, above the cursor", 25, come={100: 30.5}),
        step("one above the cursor goes", gone=(38,)),
        step("one goes and another comes in one tick", gone=(37,), come={101: 99.0}),
        step("one goes", gone=(30,)),
        step("it comes back to its place with other figures", come={30: 31.2}),
        step("one comes at the end, below the view", come={102: 0.1}),
        step("scrolled down, one comes above the view", 3, come={103: 98.0}),
        step("scrolled down, one in the view goes", gone=(5,)),
    ]


STEPS = _steps()


def test_after_comings_and_goings_the_table_is_a_fresh_tables() -> None:
    checkpoints: list[tuple[str, dict[str, RowInput], Shown]] = []

    async def run() -> None:
        app = _Host()
        async with app.run_test(size=SIZE) as pilot:
            t = app.query_one(ContainerTable)
            rows = _rows(START)
            t.show(rows, SORT, False)
            t.border_title = f"{len(rows)} containers"
            await pilot.pause()
            for what, views, cursor_on in STEPS:
                if cursor_on is not None:
                    t.select_key(numbered_view(cursor_on, 0).id)
                    await pilot.pause()
                before = _shown(t)
                rows = _rows(views)
                rendered = t.rows_rendered
                with _refreshes(t) as asked:
                    t.show(rows, SORT, False)
                    t.border_title = f"{len(rows)} containers"
                    await pilot.pause()
                    await pilot.pause()
                after = _shown(t)
                assert after.order == cols.order(rows, SORT, False), what
                assert after.cursor == before.cursor, what  # the cursor kept its container
                assert f" {len(rows)} containers " in after.title, (what, after.title)
                changed = [
                    y
                    for y, (a, b) in enumerate(zip(before.lines, after.lines, strict=True))
                    if a != b
                ]
                if not changed:  # a change below the view: none of its lines repainted
                    height = len(after.lines)
                    asked_lines = [r for regions, _ in asked for r in regions if r.bottom > 0]
                    assert not [r for r in asked_lines if r.y < height], (what, asked)
                assert all(_covered(y, asked) for y in changed), (what, changed, asked)
                assert not _whole(asked), (what, asked)  # not every line of the table
                moved_rows = len(changed)
                assert t.rows_rendered - rendered <= moved_rows + 2, what
                checkpoints.append((what, rows, after))

    asyncio.run(run())
    assert len(checkpoints) == len(STEPS)
    for what, rows, shown in checkpoints:
        fresh = asyncio.run(_fresh(rows, shown.cursor, shown.scroll_y))
        assert shown.order == fresh.order, what
        assert shown.cursor == fresh.cursor, what
        assert shown.scroll_y == fresh.scroll_y, what
        for y, (a, b) in enumerate(zip(shown.lines, fresh.lines, strict=True)):
            assert a == b, (what, y, "".join(c for c, _ in a), "".join(c for c, _ in b))


def test_a_new_sort_draws_its_header_and_rows_as_a_fresh_table() -> None:
    """Another column, then the other direction: the header's arrows (labels move no update
    counter) and the rows, as a fresh table sorted so draws them."""
    rows = _rows(START)
    sorts = [(cols.BY_KEY["name"], False), (cols.BY_KEY["name"], True), (SORT, True)]
    shown: list[Shown] = []

    async def run() -> None:
        app = _Host()
        async with app.run_test(size=SIZE) as pilot:
            t = app.query_one(ContainerTable)
            t.show(rows, SORT, False)
            t.border_title = f"{len(rows)} containers"
            await pilot.pause()
            for column, reverse in sorts:
                t.show(rows, column, reverse)
                await pilot.pause()
                await pilot.pause()
                shown.append(_shown(t))

    asyncio.run(run())
    for (column, reverse), table in zip(sorts, shown, strict=True):
        fresh = asyncio.run(_fresh(rows, table.cursor, table.scroll_y, (column, reverse)))
        assert table.order == fresh.order == cols.order(rows, column, reverse)
        assert table.lines[0] == fresh.lines[0], "".join(c for c, _ in table.lines[0])
        assert table.lines == fresh.lines, (column.key, reverse)
