"""The Processes tab's table: a DataTable whose changed rows are drawn again, not all of it.

DataTable.update_cell() repaints the whole widget, every line of its height (blank lines too,
each one walking the DOM for its style): on a container whose one busy process changes every
second, most of the tab's cost. Here a row's cells are set together and only that row's
region is repainted; what a line draws is DataTable's own rendering, unchanged."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable

from ctop_py.ui.widgets.row_repaint import RowRepaint


class ProcessTable(RowRepaint, DataTable[Text]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")

    def set_row_cells(self, row_key: str, cells: Mapping[str, Text]) -> None:
        """Set these cells (column key -> value) of one row; repaint that row only. The
        columns keep their widths (as update_cell does by default)."""
        if not cells:
            return
        with self.rows_only():
            for column_key, value in cells.items():
                self.update_cell(row_key, column_key, value)
        self.refresh_row(self.get_row_index(row_key))
