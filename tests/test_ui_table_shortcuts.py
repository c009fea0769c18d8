"""The containers table's shortcuts, each against the full computation on the same input.

It draws its one-line cells without Rich's render pipeline
(`ContainerTable._render_plain_cell`): for every kind of cell the table makes (left and right
justified, each style the columns use, text longer than its column, wide characters, trailing
spaces, empty) and for the cursor and hover states, what it draws equals, cell by cell and
style by style, what DataTable's own `_render_cell` draws from a copy of the same value; and
values it does not handle go to DataTable's path. Where the Textual installed lacks an internal
it reads, or draws a cell otherwise, or the drawing fails, DataTable's path draws every cell
and the table shows what that path shows. It asks for the changed rows' repaint in one
request: the regions asked for are the ones `refresh_row` asks for, row by row, scrolled or
not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import DataTable

from ctop_py.ui import fmt
from ctop_py.ui.widgets import container_table
from ctop_py.ui.widgets.container_table import ContainerTable

VALUES = [
    ("web-1", fmt.DANGER, False),
    ("12.5 %", "", True),
    ("12.5 %  ", fmt.WARN, True),  # trailing spaces: a right-justified cell strips them
    ("a-container-name-far-longer-than-its-column", fmt.DIM, False),
    ("1234567890123456", "", True),  # longer than its column, right-justified
    ("日本語のコンテナ名前", "", False),  # wide characters, cut mid-character
    ("", "", True),
    ("●  crash", "bold red", False),
]
WIDTHS = (3, 8, 12, 30)


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield ContainerTable(columns=("name", "cpu"), id="t")


def _cells(lines: list[list[Segment]]) -> list[list[tuple[str, Style | None]]]:
    """Each line as (character, style) pairs: what the terminal shows, however split."""
    return [[(ch, seg.style) for seg in line for ch in seg.text] for line in lines]


def _run(
    scenario: Callable[[ContainerTable, Pilot[None]], Awaitable[None]], rows: int = 20
) -> None:
    async def run() -> None:
        app = _Host()
        async with app.run_test(size=(120, rows)) as pilot:
            await scenario(app.query_one(ContainerTable), pilot)

    asyncio.run(run())


def test_plain_cells_draw_what_datatable_draws() -> None:
    async def scenario(t: ContainerTable, pilot: Pilot[None]) -> None:
        for n, (text, style, right) in enumerate(VALUES):
            cells = [
                Text(text, style=style, justify="right" if right else "left", no_wrap=True, end="")
                for _ in t.columns
            ]
            t.add_row(*cells, key=f"r{n}")
        await pilot.pause()
        base = Style.parse("on #101010")
        compared = 0
        for row in range(len(VALUES)):
            row_key = t._row_locations.get_key(row)
            for column in range(len(t.columns)):
                column_key = t._column_locations.get_key(column)
                assert row_key is not None and column_key is not None
                value = t._data[row_key][column_key]
                for width in WIDTHS:
                    for cursor, hover in ((False, False), (True, False), (False, True)):
                        fast = t._render_plain_cell(
                            row, column, value.copy(), base, width, cursor, hover
                        )
                        assert fast is not None, (row, column, width)
                        t._cell_render_cache.clear()  # DataTable's: its key has no width
                        slow = DataTable._render_cell(t, row, column, base, width, cursor, hover)
                        assert _cells(fast) == _cells(slow), (VALUES[row], width, cursor, hover)
                        assert sum(s.cell_length for s in fast[0]) == width
                        compared += 1
        assert compared == len(VALUES) * len(t.columns) * len(WIDTHS) * 3

    _run(scenario)


def test_other_values_go_to_datatables_path() -> None:
    async def scenario(t: ContainerTable, pilot: Pilot[None]) -> None:
        spans = Text("ab", no_wrap=True, justify="left", end="")
        spans.stylize("bold", 0, 1)
        others = [
            spans,  # more than one style
            Text("a\tb", no_wrap=True, justify="left", end=""),  # a tab: expanded by Rich
            Text("ab", no_wrap=True, justify="center", end=""),
            Text("ab", no_wrap=True, justify="left", overflow="ellipsis", end=""),
            Text("ab", justify="left", end=""),  # may wrap
        ]
        t.add_row(Text("x", no_wrap=True, justify="left", end=""), Text("1"), key="r")
        await pilot.pause()
        for value in others:
            assert t._render_plain_cell(0, 0, value, Style(), 12, False, False) is None
        assert t._render_plain_cell(0, 0, "text", Style(), 12, False, False) is None
        # No room inside the padding: DataTable's path.
        assert t._render_plain_cell(0, 0, others[2].copy(), Style(), 2, False, False) is None

    _run(scenario)


def test_one_repaint_request_asks_for_the_rows_refresh_row_asks_for() -> None:
    async def scenario(t: ContainerTable, pilot: Pilot[None]) -> None:
        for n in range(60):
            cells = [Text(f"row {n}", no_wrap=True, justify="left", end="") for _ in t.columns]
            t.add_row(*cells, key=f"r{n}")
        await pilot.pause()
        asked: list[Region] = []

        def spy(*regions: Region, **_: object) -> ContainerTable:
            asked.extend(regions)
            return t

        for scroll in (0, 17):
            t.scroll_to(y=scroll, animate=False, immediate=True)
            await pilot.pause()
            assert int(t.scroll_y) == scroll
            indices = [0, 1, 5, 16, 18, 30, 45, 59]  # in view, near it and far out of it
            t.refresh = spy  # type: ignore[method-assign]
            try:
                asked.clear()
                t._refresh_rows(indices)
                batched = list(asked)
                asked.clear()
                for index in indices:
                    DataTable.refresh_row(t, index)
                one_by_one = list(asked)
            finally:
                del t.refresh
            assert batched == one_by_one and batched, scroll
            assert len(batched) < len(indices)  # rows out of the window are not asked for

    _run(scenario, rows=24)


def test_the_unfiltered_list_is_the_filtered_one_with_every_container_matching() -> None:
    """With no filter the list skips `matches` (which matches every container then): the same
    containers, in the same order, as asking `matches` of each."""
    from ctop_py import demo
    from ctop_py.ui.screens.containers import ContainersScreen, is_running, matches
    from ctop_py.ui.state import UiState

    snapshot = demo.snapshots(3)[-1]
    assert any(not is_running(v) for v in snapshot.containers)  # both kinds to choose from
    screen = ContainersScreen(UiState(snapshot=snapshot))
    for show_all in (False, True):
        for needle in ("", "  "):
            screen.show_all, screen.filter_text = show_all, needle
            slow = [
                v for v in snapshot.containers if (show_all or is_running(v)) and matches(v, needle)
            ]
            assert screen.shown_containers() == slow and slow


# -- the fallback to DataTable's path -------------------------------------------------------------

Screen = list[list[tuple[str, Style | None]]]


def _screen(t: ContainerTable) -> Screen:
    return [[(ch, seg.style) for seg in t.render_line(y) for ch in seg.text] for y in range(8)]


def _datatable_screen(t: ContainerTable) -> Screen:
    """The same table drawn by DataTable's path alone, from empty caches."""
    kept = t._plain_cells
    t._plain_cells = False
    t._clear_caches()
    try:
        return _screen(t)
    finally:
        t._plain_cells = kept
        t._clear_caches()


def _fill(t: ContainerTable) -> None:
    for n, (text, style, right) in enumerate(VALUES):
        cells = [
            Text(text, style=style, justify="right" if right else "left", no_wrap=True, end="")
            for _ in t.columns
        ]
        t.add_row(*cells, key=f"r{n}")


def _shows_datatables_drawing(plain: bool, hover: bool = False) -> None:
    """The table filled, drawn by the app, and (after a hover if asked) compared with
    DataTable's path; `plain`: whether the direct drawing is expected to be on."""

    async def scenario(t: ContainerTable, pilot: Pilot[None]) -> None:
        _fill(t)
        await pilot.pause()
        await pilot.pause()  # a fallback asks for a repaint: drawn by then
        if hover:
            assert t._plain_cells and t.cells_drawn_plain > 0  # the kinds seen so far agreed
            t._set_hover_cursor(True)
            t.hover_coordinate = Coordinate(2, 1)
            await pilot.pause()
            _screen(t)  # the hovered row drawn: its first hover cell drawn both ways
            await pilot.pause()
        shown = _screen(t)
        drawn = t.cells_drawn_plain
        assert shown == _datatable_screen(t)
        assert t._plain_cells is plain
        if not hover:
            assert (drawn > 0) is plain
        assert any(ch == "w" for line in shown for ch, _ in line)  # the rows are drawn

    _run(scenario)


def test_with_textuals_internals_as_expected_cells_are_drawn_directly() -> None:
    """The control: the checks below pass here, so the triggers are what turns it off."""
    _shows_datatables_drawing(plain=True)


def test_a_missing_internal_falls_back_to_datatables_path(monkeypatch: Any) -> None:
    """A Textual whose DataTable has no `_get_styles_to_render_cell` (its own drawing still
    finds it, here on the subclass, as a renamed one would be found under its new name)."""
    styles = DataTable._get_styles_to_render_cell
    monkeypatch.delattr(DataTable, "_get_styles_to_render_cell")
    monkeypatch.setattr(ContainerTable, "_get_styles_to_render_cell", styles, raising=False)
    _shows_datatables_drawing(plain=False)


@pytest.mark.parametrize("hover", [False, True], ids=["first-cell", "later-hover-cell"])
def test_datatable_drawing_otherwise_falls_back_to_its_path(monkeypatch: Any, hover: bool) -> None:
    """A Textual whose DataTable draws a cell otherwise than the copy of its arithmetic (here:
    italic), found on the first cell drawn, or on the first hovered one after every other
    kind agreed (the cells drawn directly before are drawn again)."""
    render = DataTable._render_cell

    def other_drawing(self: DataTable[Any], *args: Any, **kwargs: Any) -> Any:
        lines = render(self, *args, **kwargs)
        hovered = kwargs.get("hover") or (len(args) > 5 and args[5])
        if hover and not (hovered and self._show_hover_cursor):
            return lines
        italic = Style(italic=True)
        return [[Segment(s.text, (s.style or Style()) + italic) for s in line] for line in lines]

    monkeypatch.setattr(DataTable, "_render_cell", other_drawing)
    _shows_datatables_drawing(plain=False, hover=hover)


def test_a_failing_direct_drawing_falls_back_to_datatables_path(monkeypatch: Any) -> None:
    """A Rich whose `set_cell_size` takes other arguments (the direct drawing raises)."""

    def changed(*_: object) -> str:
        raise TypeError("set_cell_size() takes other arguments")

    monkeypatch.setattr(container_table, "set_cell_size", changed)
    _shows_datatables_drawing(plain=False)
