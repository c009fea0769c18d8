"""The containers table finds the row under a line without DataTable's list of every line of
every row (built again after each cell update: O(rows) on the first line drawn each tick);
it finds the same row and line as DataTable for every line, above, in and past the rows."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable

from ctop_py.ui.app import CtopApp
from ctop_py.ui.widgets.container_table import ContainerTable
from tests.test_ui import drive, make_app, step, table
from tests.test_ui_table_caches import _moving

ROWS = 60


def _datatables(t: ContainerTable, y: int) -> object:
    try:
        return DataTable._get_offsets(t, y)
    except LookupError:
        return LookupError


def _ours(t: ContainerTable, y: int) -> object:
    try:
        return t._get_offsets(y)
    except LookupError:
        return LookupError


def test_the_row_under_each_line_is_datatables_without_its_line_list() -> None:
    # Every row's CPU changes every tick; the order (by CPU) too: cells updated, rows moved.
    app = make_app(_moving(12, lambda tick: ROWS - tick % 3, lambda tick, n: (n * 7 + tick) % 50))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 4)
        t = table(app)
        for _ in range(4):
            t._offset_cache.clear()
            await step(app, pilot)  # a tick: cells changed, rows moved, its lines drawn
            assert t.rows_rendered  # lines were drawn this tick
            assert not t._offset_cache  # ... without DataTable's list of every line
            for y in range(-1, t.row_count + t.header_height + 3):
                assert _ours(t, y) == _datatables(t, y)
            assert t._offset_cache  # DataTable's (the comparison) built it
            # The height its virtual size is measured from: DataTable's count of that list.
            assert t._total_row_height == len(t._offset_cache[t._update_count]) == t.row_count
        t.show_header = False
        await pilot.pause()
        for y in range(-1, t.row_count + 3):
            assert _ours(t, y) == _datatables(t, y)

    drive(app, scenario)
