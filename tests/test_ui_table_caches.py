"""The containers table's render caches are sized from the lines it shows (issue 16, memory):
at 60 rows whose cells change every tick they hold about a screen's worth, not thousands of
stale renders; every visible row's lines are still served from the table's row cache on the
next frame; a taller terminal gets larger caches, and what is drawn is what a fresh render
draws."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable

from ctop_py import demo
from ctop_py.model import Snapshot
from ctop_py.ui.app import CtopApp
from ctop_py.ui.widgets.container_table import ContainerTable
from tests.test_ui import drive, make_app, step, table

ROWS = 60


def _moving(
    ticks: int, rows: Callable[[int], int], cpu: Callable[[int, int], float]
) -> list[Snapshot]:
    """`rows(tick)` running containers a tick, container n's CPU % `cpu(tick, n)`."""
    base = demo.snapshots(3)[-1]
    (first, *_) = [v for v in base.containers if v.raw.active]
    return [
        replace(
            base,
            containers=tuple(
                replace(
                    first,
                    raw=replace(first.raw, id=f"{first.id}{n:03d}", name=f"{first.name}-{n:03d}"),
                    usage=replace(first.usage, cpu_percent=cpu(tick, n)),
                )
                for n in range(rows(tick))
            ),
            raw=replace(base.raw, monotonic_ns=tick),
        )
        for tick in range(ticks)
    ]


def _busy(ticks: int) -> list[Snapshot]:
    """ROWS running containers, every one's CPU % different every tick."""
    return _moving(ticks, lambda tick: ROWS, lambda tick, n: 1.0 + tick + n / 100)


def _lines(t: ContainerTable) -> list[str]:
    """The lines on screen (above a horizontal scrollbar, if there is one)."""
    return [t.render_line(y).text for y in range(t.scrollable_content_region.height)]


def _cached(t: ContainerTable) -> dict[str, int]:
    return {
        "cells": len(t._cell_render_cache),
        "rows": len(t._row_render_cache),
        "renderables": len(t._row_renderable_cache),
        "lines": len(t._line_cache),
        "row lines": len(t._row_lines),
    }


def _within_a_screen(t: ContainerTable) -> None:
    height, columns = t.size.height, len(t.columns)
    cached = _cached(t)
    assert cached["cells"] <= height * (columns + 1), cached
    assert max(cached["rows"], cached["renderables"], cached["lines"]) <= height, cached
    assert cached["row lines"] <= 2 * height, cached
    # Bounded too where this path barely fills them (DataTable's cell cache: its cells are
    # rendered through the row cache here), so another path cannot fill them either.
    assert t._cell_render_cache.maxsize <= height * (columns + 1)
    assert max(t._row_render_cache.maxsize, t._line_cache.maxsize) <= height


def _served_from_row_cache(t: ContainerTable) -> None:
    """DataTable's own caches emptied: every visible row's line comes from the row cache (the
    header line, drawn once and not asked for since, may have aged out). DataTable's method,
    not ours: ours also empties the row cache (a theme or property change)."""
    DataTable._clear_caches(t)
    rendered = t.rows_rendered
    for y in range(t.header_height, t.scrollable_content_region.height):
        t.render_line(y)
    assert t.rows_rendered == rendered
    shown = _lines(t)
    t._row_lines.clear()
    t._clear_caches()
    assert shown == _lines(t)  # what a fresh render draws


def test_render_caches_follow_the_tables_height() -> None:
    app = make_app(_busy(40))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await pilot.press("N")  # by name: the rows keep their places
        await step(app, pilot, 16)
        t = table(app)
        small = t.size.height
        assert t.row_count == ROWS and small < 25
        assert len(t._row_lines) > small  # filled with the ticks' stale renders
        _within_a_screen(t)
        _served_from_row_cache(t)

        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        await step(app, pilot, 12)
        assert t.size.height > small + 20
        _within_a_screen(t)
        assert len(t._row_lines) > 2 * small  # the taller table's bound, not the first one's
        _served_from_row_cache(t)

        await pilot.resize_terminal(160, 24)
        await pilot.pause()
        await step(app, pilot, 4)
        assert t.size.height == small
        _within_a_screen(t)
        _served_from_row_cache(t)

    drive(app, scenario, size=(160, 24))


def test_a_line_painted_before_the_widths_are_measured_is_drawn_again() -> None:
    """DataTable measures a changed cell's column on idle; a line painted before that (a busy
    app paints before it is idle) was kept at the old widths: the header's labels stayed
    narrow over widened rows (test_replay_screenshot_is_written_and_stable, under load)."""
    app = make_app(demo.snapshots(3))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        t = table(app)
        name = t.get_column_index("name")
        before = t.ordered_columns[name].content_width
        key = t.ordered_rows[0].key
        t.update_cell(key, "name", Text("a-name-much-longer-than-any-before"), update_width=True)
        painted = _lines(t)  # painted before idle: the old widths
        await pilot.pause()  # idle: the name column measured again
        assert t.ordered_columns[name].content_width > before
        shown = _lines(t)
        assert shown != painted
        t._row_lines.clear()
        t._clear_caches()
        assert shown == _lines(t)  # what a fresh render draws, the header too

    drive(app, scenario, size=(160, 24))


def _shuffled(ticks: int, rows: int, gone_from: int) -> list[Snapshot]:
    """`rows` running containers whose CPU % order changes every tick (sorted by CPU, the
    rows move); from tick `gone_from` on, the last ten are gone."""
    return _moving(
        ticks,
        lambda tick: rows if tick < gone_from else rows - 10,
        lambda tick, n: 1.0 + (n * 7 + tick * 13) % rows,
    )


def test_the_cell_cache_keeps_one_draw_a_cell_when_rows_move_and_go() -> None:
    """Rows that move in the sort are drawn at new places: the cell cache replaces a cell's
    draw instead of keeping the one of each place it was at (those filled its LRU up to
    RENDERED_CELLS minutes into a run of 100 rows: a ~2 MiB step of RSS, issue 16), and a row
    that goes takes its cells' draws with it. What is drawn is what a fresh render draws."""
    rows = 40
    app = make_app(_shuffled(24, rows, gone_from=14))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        t = table(app)
        orders = set()
        for _ in range(12):
            await step(app, pilot)
            orders.add(tuple(r.key.value for r in t.ordered_rows))
        assert len(orders) >= 10  # the rows did move, tick after tick
        assert t.row_count == rows and t.size.height > rows  # every row in view
        cells = [(r.key, c.key) for r in t.ordered_rows for c in t.ordered_columns]
        assert len(t._cell_lines) == len(cells)  # one draw a cell, not one a place it was at
        assert set(t._cell_lines.keys()) == set(cells)
        for row, column in cells:  # each the draw of the cell's current value
            assert t._cell_lines[row, column][0] is t._data[row][column]

        await step(app, pilot, 4)  # ten rows gone
        assert t.row_count == rows - 10
        shown = {r.key for r in t.ordered_rows}
        cached = t._cell_lines.keys()  # an LRUCache: no iteration of its own
        assert {row for row, _ in cached} <= shown
        drawn = _lines(t)
        t._row_lines.clear()
        t._clear_caches()
        assert drawn == _lines(t)

    drive(app, scenario, size=(160, 50))


def test_the_cell_styles_of_moved_rows_age_out() -> None:
    """A cell's styles are cached by its place (its row and column go into its mouse meta),
    its row's and the cursor's styles: rows that move in the sort, the cursor row with its
    container, leave the places they were at behind. They age out of an LRU of two screens'
    cells (a dict cleared at 4,000 kept them: 40 rows, 30 ticks, ~870 and growing)."""
    app = make_app(_shuffled(30, 40, gone_from=30))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        t = table(app)
        await step(app, pilot, 30)
        cells = t.size.height * (len(t.columns) + 1)
        assert t.size.height < t.row_count
        assert len(t._cell_styles) <= 2 * cells
        assert t._cell_styles.maxsize == 2 * cells
        drawn = _lines(t)
        t._row_lines.clear()
        t._clear_caches()
        assert drawn == _lines(t)

    drive(app, scenario, size=(160, 24))
