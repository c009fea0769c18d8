"""The Processes tab's table: a DataTable whose changed rows are drawn again, not all of it.

DataTable.update_cell() repaints the whole widget, every line of its height (blank lines too,
each one walking the DOM for its style): on a container whose one busy process changes every
second, most of the tab's cost. Here a row's cells are set together and only that row's
region is repainted; what a line draws is DataTable's own rendering, unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from rich.text import Text
from textual.geometry import Region
from textual.widgets import DataTable


class ProcessTable(DataTable[Text]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._row_only = False

    def set_row_cells(self, row_key: str, cells: Mapping[str, Text]) -> None:
        """Set these cells (column key -> value) of one row; repaint that row only. The
        columns keep their widths (as update_cell does by default)."""
        if not cells:
            return
        self._row_only = True
        try:
            for column_key, value in cells.items():
                self.update_cell(row_key, column_key, value)
        finally:
            self._row_only = False
        self.refresh_row(self.get_row_index(row_key))

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if getattr(self, "_row_only", False) and not (regions or layout or recompose):
            return self  # update_cell() asks for the whole widget: set_row_cells asks for a row
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
