"""Repaint the changed rows of a DataTable, not the whole widget.

DataTable.update_cell() (and sort()) ask for a whole-widget refresh: every line of the table's
height is rendered again. The containers list and the Processes tab set their cells with that
refresh held back, then repaint the rows they changed; the compositor keeps the other lines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Self

from textual.geometry import Region

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    # A plain class at run time: a Widget base ahead of DataTable would take the table's
    # place in Textual's CSS inheritance (DOMNode._css_bases follows the first DOM base).
    _Base = object


class RowRepaint(_Base):
    """Mixin, put before DataTable in the bases. While `_row_only` is set, a refresh of the
    whole widget is dropped; the caller repaints the rows it changed (refresh_row)."""

    _row_only = False  # a class default: Widget.__init__ may refresh before ours runs
    # With `_row_only`, a whole-widget refresh that asks for a layout is dropped too: for a
    # widget whose size its rows do not set (a height in fr); a new virtual size asks for its
    # own layout when it is measured.
    _layout_held = False

    @contextmanager
    def rows_only(self) -> Iterator[None]:
        self._row_only = True
        try:
            yield
        finally:
            self._row_only = False

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if self._row_only and not (regions or recompose) and (self._layout_held or not layout):
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
