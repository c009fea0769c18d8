"""The containers table: rows keyed by container, only changed cells sent to the DataTable."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, ClassVar, Self

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist, RowKey

from ctop_py.ui import columns as cols
from ctop_py.ui.columns import Cell, Column, RowInput
from ctop_py.ui.widgets.row_repaint import RowRepaint

# DataTable's rendering of one line of a row: its fixed cells' and its scrollable cells' lines.
RowLines = tuple[list[list[Segment]], list[list[Segment]]]
# DataTable's rendering of one cell: its lines.
CellLines = list[list[Segment]]


def screen_cells(lines: CellLines) -> list[list[tuple[str, Style | None]]]:
    """Each line as (character, style) pairs: what the terminal shows, however split."""
    return [[(ch, seg.style) for seg in line for ch in seg.text] for line in lines]


_TEXTUALS_TITLE = vars(Widget).get("border_title")


class _TitleLinesOnly:
    """Widget's `border_title` descriptor, but while it sets the title a refresh of the whole
    widget asks for the lines above the rows only (`ContainerTable.refresh`)."""

    def __init__(self, textuals: Any) -> None:
        self.textuals = textuals

    def __get__(self, table: Any, owner: Any = None) -> Any:
        return self.textuals.__get__(table, owner)

    def __set__(self, table: ContainerTable, title: Any) -> None:
        table._title_only = True
        try:
            self.textuals.__set__(table, title)
        finally:
            table._title_only = False


class KeyedText(Text):
    """A Text that knows its row: DataTable.sort() hands the sort key only the cell values."""

    def __init__(self, text: str, style: str, row_key: str, justify: bool) -> None:
        super().__init__(text, style=style, justify="right" if justify else "left", end="")
        self.no_wrap = True
        self.row_key = row_key


def _text(cell: Cell, right: bool) -> Text:
    text, style = cell
    return Text(text, style=style, justify="right" if right else "left", no_wrap=True, end="")


RENDERED_CELLS = 2000  # a 200x50 terminal shows at most ~50 rows of ~15 cells
RENDERED_LINES = 300
# Until the first resize gives the table's height; then sized from it (`_bound_caches`).
STALE_MARGIN = 2  # rows beyond the view whose cells are kept current too
# What `_render_plain_cell` reads of DataTable beyond its documented API (Textual 8.2): its
# methods and reactives, and what its __init__ sets. The pyproject lets another Textual 8 be
# installed: where one of these is missing, or the first cell of each kind drawn both ways
# differs, DataTable's own path draws every cell.
PLAIN_CELL_CLASS_INTERNALS = (
    "_get_styles_to_render_cell",
    "cell_padding",
    "fixed_rows",
    "fixed_columns",
    "show_cursor",
)
PLAIN_CELL_INSTANCE_INTERNALS = (
    "_row_locations",
    "_column_locations",
    "_show_hover_cursor",
    "cursor_foreground_priority",
    "cursor_background_priority",
)
# Raised by a Textual whose internals of those names take or give something else.
INTERNALS_CHANGED = (AttributeError, TypeError, ValueError, KeyError, IndexError)


class ContainerTable(RowRepaint, DataTable[Text]):
    """One row per container. `show()` diffs against what is on screen."""

    _sizing = False  # in DataTable's `_update_dimensions` (a class default: see RowRepaint)
    _title_only = False  # a new border title being set

    # Textual's border title repaints the whole widget when set: a come or go (a new count in
    # the title) drew every row again. Here only the lines above the rows (`refresh`), where
    # Textual's title is the descriptor this wraps (else Textual's, and its whole repaint).
    if hasattr(_TEXTUALS_TITLE, "__set__"):
        border_title = _TitleLinesOnly(_TEXTUALS_TITLE)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", show=True),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "First row", show=False),
        Binding("G", "scroll_bottom", "Last row", show=False),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.shadowed:
            return False  # its key belongs to the app here (g: a replay's "go to a time")
        return super().check_action(action, parameters)

    def __init__(
        self,
        *,
        columns: tuple[str, ...] | None = None,
        id: str | None = None,
        shadowed: frozenset[str] = frozenset(),
    ) -> None:
        """`columns`: the keys of the columns shown, in order (default: all); NAME is always
        shown first (rows are sorted through its cells)."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        # Textual keeps 10,000 rendered cells and 1,000 rows and lines, keyed by an update
        # count that every changed cell moves: at 100 containers the stale entries filled
        # ~16 MiB over 4 minutes (tracemalloc, issue 16). A few screens' worth is enough.
        self._cell_render_cache.maxsize = RENDERED_CELLS
        self._row_render_cache.maxsize = RENDERED_LINES
        self._line_cache.maxsize = RENDERED_LINES
        self.shadowed = shadowed  # actions whose keys the app's controller takes
        self.shown_columns: tuple[Column, ...] = self._resolve(columns)
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._inputs: dict[str, tuple[object, ...]] = {}  # RowInput.inputs() of each row shown
        # Rows whose inputs changed while out of view: their cells are made when they come in.
        self._stale: dict[str, RowInput] = {}
        self._sort_label: tuple[str, bool] | None = None
        self.cell_updates = 0  # cumulative count of update_cell calls (tests, measurements)
        # update_cell() bumps DataTable's update counter, which keys all of its render caches,
        # and the compositor renders every line of a widget any of whose lines is dirty: so
        # one changed cell rendered every cell of every visible row again. Rows are cached
        # here by their own version and place instead: a cell update bumps its row's
        # version only, a row added, removed or sorted moves the rows after it only (their
        # places are in the key); anything else that bumps the counter (widths, labels, a
        # resize) is a new `_epoch`, and every row is rendered again. A version is never
        # given twice: a container that goes and comes back is not drawn from its old lines.
        self._row_versions: dict[RowKey, int] = {}
        self._versions = itertools.count(1)
        self._measured_widths: list[int] = []  # the columns' widths at the last measure
        self._own_bumps = 0
        # Only the visible rows' current versions are ever hit again: a few hundred lines of
        # Segments, not 4,096 (which filled with stale versions at 100 busy rows).
        self._row_lines: LRUCache[tuple[object, ...], RowLines] = LRUCache(RENDERED_LINES)
        # A changed row was rendered again cell by cell (DataTable keys each cell by the
        # update counter): ~0.08 ms a cell, 14 cells for the one that changed. Cells are
        # cached here by the value they show instead (a changed cell is a new Text object).
        # One entry a cell (row and column), replaced when it is drawn otherwise (its place,
        # width, style): keyed by all of that, the stale draws of rows that moved in a sort
        # stayed until the LRU was full, a one-off ~2 MiB step at 100 rows, minutes in.
        self._cell_lines: LRUCache[tuple[RowKey, ColumnKey], tuple[object, object, CellLines]]
        self._cell_lines = LRUCache(RENDERED_CELLS)
        self.cells_rendered = 0  # cumulative count of body cells rendered (tests, measurements)
        # A cell's styles by its place, its row's and cursor's styles and its text's: the
        # place a container's row is drawn at changes with the sort (the cursor's with it),
        # so the places it was at age out here (an LRU sized from the view, `_bound_caches`).
        self._cell_styles: LRUCache[tuple[object, ...], tuple[Style, Style]]
        self._cell_styles = LRUCache(2 * RENDERED_CELLS)
        # The direct drawing: None until its internals are looked for; False: DataTable's
        # path. Each kind of cell (justified left or right, under the cursor or not, under
        # the hover or not, the hover shown or not) is drawn both ways the first time and
        # compared (`_checked_plain_cell`).
        self._plain_cells: bool | None = None
        self._plain_kinds_checked: set[tuple[str, bool, bool, bool]] = set()
        self.cells_drawn_plain = 0  # cumulative count of cells drawn directly (tests)
        self.rows_rendered = 0  # cumulative count of row lines rendered (tests, measurements)
        self.rows_derived = 0  # cumulative count of rows whose cells were computed
        self.rows_unchanged = 0  # cumulative count of show() calls that changed no row
        # Each row's order key (`cols.order_key`) under the sort `_order_label`, as last
        # sorted or kept: a tick whose changed rows keep their places sorts nothing.
        self._order_keys: dict[str, cols.OrderKey] = {}
        self._order_label: tuple[str, bool] | None = None
        self.orders_kept = 0  # cumulative count of show() calls whose order needed no sort

    @staticmethod
    def _resolve(keys: tuple[str, ...] | None) -> tuple[Column, ...]:
        if keys is None:
            return cols.COLUMNS
        rest = [cols.BY_KEY[k] for k in dict.fromkeys(keys) if k in cols.BY_KEY and k != "name"]
        return (cols.BY_KEY["name"], *rest)

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for column in self.shown_columns:
            width = None if column.width is None else max(column.width, len(column.label) + 2)
            self.add_column(self._label(column, None), width=width, key=column.key)

    def set_columns(self, keys: tuple[str, ...]) -> None:
        """Show these columns (in this order) from the next `show()` on."""
        visible = self._resolve(keys)
        if visible == self.shown_columns:
            return
        self.shown_columns = visible
        self.clear(columns=True)
        self._cells.clear()
        self._inputs.clear()
        self._stale.clear()
        self._row_versions.clear()
        self._sort_label = self._order_label = None
        self._order_keys = {}
        self._add_columns()
        self._bound_caches()

    # -- repaint only what changed ---------------------------------------------------------------
    # DataTable.update_cell() repaints the whole table (refresh() without a region), and its
    # render caches are keyed by an update counter, so every visible cell is rendered again:
    # at 32 rows that is most of a Textual table's CPU. Here an update repaints only the row of
    # the changed cell; the compositor leaves the other lines as they are on screen.

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Text,
        *,
        update_width: bool = False,
    ) -> None:
        self._row_only = True
        try:
            super().update_cell(row_key, column_key, value, update_width=update_width)
        finally:
            self._row_only = False
        if update_width:
            self.refresh()
        else:
            key = row_key if isinstance(row_key, RowKey) else RowKey(row_key)
            self._own_bumps += 1  # the counter moved for this row only
            self._row_versions[key] = next(self._versions)
            self.refresh_row(self.get_row_index(row_key))

    def _get_row_region(self, row_index: int) -> Region:
        """DataTable's sums the heights of the rows above, from a list of every row that it
        builds again after each cell update: O(rows) per changed cell (at 500 busy rows,
        most of a tick). Every row here is one line high (`show` adds them so)."""
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        return self._row_region(row_index, self._rows_width())

    def _get_offsets(self, y: int) -> tuple[RowKey, int]:
        """The row at line `y` and the line in it. DataTable's indexes a list of every line of
        every row, built again after each cell update (it is keyed by the update counter):
        O(rows) for the first line drawn each tick. Every row here is one line high."""
        if self.show_header:
            header_height = self.header_height
            if y < header_height:
                return self._header_row_key, y
            y -= header_height
        if y < 0:
            return super()._get_offsets(y)  # never drawn; DataTable's answer (from the end)
        row_key = self._row_locations.get_key(y)
        if row_key is None:
            raise LookupError(f"Y coord {y!r} is greater than total height")
        return row_key, 0

    @property
    def _total_row_height(self) -> int:
        """The height of the rows (DataTable's counts that list: measured after each update)."""
        return self.row_count

    def _rows_width(self) -> int:
        """The width of a row's region (the same for every row)."""
        width = sum(c.get_render_width(self) for c in self.columns.values())
        return max(self.size.width, width + self._row_label_column_width)

    def _row_region(self, row_index: int, width: int) -> Region:
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, width, 1)

    def _refresh_rows(self, indices: list[int]) -> None:
        """`refresh_row` for each of these rows in one repaint request: the row width summed
        once, the widget's refresh (its offsets, its dirty regions) asked once, not once a
        changed row (most of a busy row's cost outside its cells). An index past the last row
        is the line a removed row left empty."""
        if not indices:
            return
        width = self._rows_width()
        window, offset = self.window_region, self.scroll_offset
        regions = [self._row_region(index, width) for index in indices]
        visible = [r.translate(-offset) for r in regions if window.overlaps(r)]
        if visible:
            self.refresh(*visible)

    @property
    def _epoch(self) -> int:
        """DataTable's update counter less the bumps of single-row cell updates."""
        return self._update_count - self._own_bumps

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> RowLines:
        index = self._row_locations.get(row_key)
        if self.cursor_type == "row":
            # A row line shows whether the cursor (the hover) is on its row, not where: a
            # cursor that moves (or follows its container when a row comes above it)
            # draws its old and new rows again, not every row.
            place = -1 if index is None else index
            cursor: object = cursor_location.row == place
            hovered: object = hover_location.row == place
        else:
            cursor, hovered = cursor_location, hover_location
        key = (
            row_key,
            line_no,
            base_style,
            cursor,
            hovered,
            self.cursor_type,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
            index,
            self._row_versions.get(row_key, 0),
            self._epoch,
        )
        cached = self._row_lines.get(key)
        if cached is not None:
            return cached
        self.rows_rendered += 1
        lines = super()._render_line_in_row(
            row_key, line_no, base_style, cursor_location, hover_location
        )
        self._row_lines[key] = lines
        return lines

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> CellLines:
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # the header row (its labels), row labels
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data.get(row_key, {}).get(column_key)
        drawn = (
            row_index,  # the lines carry it (mouse meta)
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        cached = self._cell_lines.get((row_key, column_key))
        # the same cell value (not a new one), drawn the same way
        if cached is not None and cached[0] is value and cached[1] == drawn:
            return cached[2]
        self.cells_rendered += 1
        lines = self._plain_cell(row_index, column_index, value, base_style, width, cursor, hover)
        if lines is None:
            lines = self._datatable_cell(
                row_key, column_key, row_index, column_index, base_style, width, cursor, hover
            )
        if cached is not None:
            self._cell_lines.discard((row_key, column_key))  # LRUCache.set keeps a key's value
        self._cell_lines[(row_key, column_key)] = (value, drawn, lines)
        return lines

    def _datatable_cell(
        self,
        row_key: RowKey,
        column_key: ColumnKey,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> CellLines:
        """DataTable's own drawing of a body cell, through Rich's render pipeline."""
        # DataTable's own entry is keyed by its update counter (not by the width): never hit
        # again, and one of another width must not be taken for this one.
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        self._cell_render_cache.discard(cache_key)
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._cell_render_cache.discard(cache_key)
        return lines

    def _plain_cell(
        self,
        row_index: int,
        column_index: int,
        value: object,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> CellLines | None:
        """The cell drawn directly where the Textual installed allows it, else None (the
        caller draws it through DataTable's path)."""
        if self._plain_cells is None:
            self._plain_cells = all(
                hasattr(DataTable, name) for name in PLAIN_CELL_CLASS_INTERNALS
            ) and all(hasattr(self, name) for name in PLAIN_CELL_INSTANCE_INTERNALS)
        if not self._plain_cells:
            return None
        if isinstance(value, Text):
            kind = (str(value.justify), cursor, hover, self._show_hover_cursor)
            if kind not in self._plain_kinds_checked:
                return self._checked_plain_cell(
                    kind, row_index, column_index, value, base_style, width, cursor, hover
                )
        lines = self._render_plain_cell(
            row_index, column_index, value, base_style, width, cursor, hover
        )
        if lines is not None:
            self.cells_drawn_plain += 1
        return lines

    def _checked_plain_cell(
        self,
        kind: tuple[str, bool, bool, bool],
        row_index: int,
        column_index: int,
        value: Text,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> CellLines | None:
        """The first cell of its kind drawn both ways: the direct drawing is kept only if it
        draws what DataTable draws, character by character and style by style; if it does not
        (or fails), DataTable's path draws every cell from now on."""
        try:
            lines = self._render_plain_cell(
                row_index, column_index, value, base_style, width, cursor, hover
            )
        except INTERNALS_CHANGED:
            self._stop_plain_cells()
            return None
        if lines is None:
            return None
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        assert row_key is not None and column_key is not None  # a body cell (the caller's)
        expected = self._datatable_cell(
            row_key, column_key, row_index, column_index, base_style, width, cursor, hover
        )
        if screen_cells(lines) != screen_cells(expected):
            self._stop_plain_cells()
            return expected
        self._plain_kinds_checked.add(kind)
        self.cells_drawn_plain += 1
        return lines

    def _stop_plain_cells(self) -> None:
        """DataTable's path for every cell from now on: the cells and rows drawn directly
        so far are drawn again (a new epoch) on the next frame."""
        self._plain_cells = False
        self._cell_lines.clear()
        self._row_lines.clear()
        self._update_count += 1
        self.call_later(self.refresh)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """DataTable measures the columns on idle, after the cells changed, and without
        moving its update counter: a line painted before that (a busy app paints before it
        is idle) stayed cached at the old widths. The header, whose version never moves, kept
        its narrow labels over widened rows (test_replay_screenshot_is_written_and_stable,
        once in ~10 runs under load). New widths are a new epoch."""
        self._sizing = True
        try:
            super()._update_dimensions(new_rows)
        finally:
            self._sizing = False
        # Measured since the last call: here, and by _update_column_widths just before.
        widths = [c.content_width for c in self.columns.values()]
        if widths != self._measured_widths:
            self._measured_widths = widths
            self._update_count += 1
            self.refresh()

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if self._title_only and not (regions or layout or recompose):
            # A new border title (the count of containers): the lines above the rows, not
            # every line of the table drawn again.
            x, y = self.content_offset
            if not y:
                return self  # no border above the rows: no title drawn
            regions = (Region(-x, -y, self.outer_size.width, y),)
        if self._sizing and layout and not regions:
            # A new virtual size (a row came or went): a layout, for the scrollbars, not
            # every line drawn again. The lines that changed are asked for by `show`; a new
            # size repaints the whole table (ScrollView._size_updated), new widths are a new
            # epoch (`_update_dimensions`).
            repaint = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _render_plain_cell(
        self,
        row_index: int,
        column_index: int,
        value: object,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> CellLines | None:
        """A body cell of one line of one style (every cell `show` makes), drawn as
        DataTable draws it without Rich's render pipeline (Padding in Styled, Text.wrap,
        Lines.justify, split_and_crop_lines: ~0.08 ms a cell, most of a changed row's cost):
        the padding in the cell's style, the text cut or padded to the room left, justified,
        in its style over it. None for anything else (DataTable's path draws it); the tests
        compare the two cell by cell."""
        if not isinstance(value, Text) or value.spans or value.overflow not in (None, "fold"):
            return None
        plain = value.plain
        pad = self.cell_padding
        room = width - 2 * pad
        if (
            value.no_wrap is not True
            or value.justify not in ("left", "right")
            or room < 1
            or "\n" in plain
            or "\t" in plain
            or row_index < self.fixed_rows
            or column_index < self.fixed_columns
        ):
            return None
        row_key = self._row_locations.get_key(row_index)
        row = self.rows.get(row_key) if row_key is not None else None
        if row is None or row.height != 1:
            return None
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        style = value.style
        # The padding's and the text's styles, the same for a cell tick after tick: made once
        # (Rich's own cache of style sums is thrashed by the row and column in every cell's).
        key = (row_index, column_index, base_style, component_style, post_style, style)
        styles = self._cell_styles.get(key)
        if styles is None:
            pre = base_style + Style.from_meta({"row": row_index, "column": column_index})
            pre += component_style
            text_style = self.app.console.get_style(style) if isinstance(style, str) else style
            styles = (pre + post_style, pre + text_style + post_style)
            self._cell_styles[key] = styles
        if value.justify == "right":
            plain = plain.rstrip()
            size = cell_len(plain)
            plain = set_cell_size(plain, room) if size > room else " " * (room - size) + plain
        else:
            plain = set_cell_size(plain, room)
        edge = Segment(" " * pad, styles[0]) if pad else None
        body = Segment(plain, styles[1])
        return [[edge, body, edge] if edge is not None else [body]]

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._row_lines.clear()
        self._cell_lines.clear()
        self._cell_styles.clear()

    def notify_style_update(self) -> None:
        """A theme or CSS change: the colours of every cell (DataTable clears its caches)."""
        self._row_lines.clear()
        self._cell_lines.clear()
        self._cell_styles.clear()
        super().notify_style_update()

    @staticmethod
    def _label(column: Column, arrow: str | None) -> Text:
        label = f"{column.label} {arrow or ' '}"
        return Text(label, justify="right" if column.right else "left", end="")

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        row = self.cursor_coordinate.row
        if not 0 <= row < self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return key

    def select_key(self, key: str) -> bool:
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:
            return False
        if index != self.cursor_coordinate.row:
            self.move_cursor(row=index, animate=False)
        return True

    def show(self, rows: dict[str, RowInput], column: Column, reverse: bool) -> None:
        """Make the table show exactly `rows`, sorted; keep the cursor on its container."""
        selected = self.selected_key
        changed = False  # a row came, went or has other inputs
        rows_before = self.row_count
        moved_from: int | None = None  # rows from here on came, went or moved up
        # A row added or removed moves DataTable's update counter (every row drawn again) and
        # removing one asks for a layout and the whole table repainted: here only the rows
        # after it are (their places are in their lines' keys). The table's height is set by
        # its CSS, not its rows; the new virtual size asks for its own layout on idle.
        counter = self._update_count
        came_or_went = False
        changed_rows: list[str] = []  # rows on screen before whose inputs changed
        self._row_only = self._layout_held = True
        try:
            for key in [k for k in self._cells if k not in rows]:
                changed = came_or_went = True
                index = self.get_row_index(key)
                moved_from = index if moved_from is None else min(moved_from, index)
                self.remove_row(key)
                for shown in self.shown_columns:
                    self._cell_lines.discard((RowKey(key), ColumnKey(shown.key)))
                del self._cells[key]
                self._inputs.pop(key, None)
                self._stale.pop(key, None)
                self._row_versions.pop(RowKey(key), None)
            for key, row in rows.items():
                inputs = row.inputs()
                if self._inputs.get(key) == inputs and key in self._cells:
                    continue  # the same inputs make the same cells
                changed = True
                self._inputs[key] = inputs
                if key in self._cells:
                    changed_rows.append(key)
                    self._stale[key] = row  # its cells are made when it is in view (below)
                    continue
                came_or_went = True
                self.rows_derived += 1
                new = tuple(c.cell(row) for c in self.shown_columns)
                added = self.row_count
                moved_from = added if moved_from is None else min(moved_from, added)
                row_key = self.add_row(*self._row_texts(key, new), key=key)
                self._row_versions[row_key] = next(self._versions)
                self._cells[key] = new
        finally:
            self._row_only = self._layout_held = False
            self._own_bumps += self._update_count - counter
        label = (column.key, reverse)
        if not changed and self._sort_label == label:
            self.rows_unchanged += 1
            return  # a sort reads only a row's inputs: the order is the one on screen
        if (
            not came_or_went
            and self._sort_label == label
            and self._order_kept(rows, changed_rows, column, reverse)
        ):
            # The rows whose inputs changed still sort between their neighbours: the order
            # `cols.order` gives is the one on screen (no row moves, the cursor's row stays).
            self.orders_kept += 1
            self._show_stale()
            return
        keys = {key: cols.order_key(row, column) for key, row in rows.items()}
        self._order_keys, self._order_label = keys, label
        self._sort(cols.order_of(keys, column, reverse), column, reverse)
        if moved_from is not None:
            # The sort repaints the rows it moved; these moved before it (up after a removal,
            # a line left empty at the end, a row added at the end).
            self._refresh_rows(list(range(moved_from, max(rows_before, self.row_count))))
        if selected is not None:
            self.select_key(selected)
        self._show_stale()

    def _order_kept(
        self, rows: dict[str, RowInput], changed: list[str], column: Column, reverse: bool
    ) -> bool:
        """Whether the order on screen is still the sorted one, the same rows shown and only
        the `changed` rows' inputs new: a list is sorted when each row is in order with the
        next, and only the pairs with a changed row can have changed. Their new order keys
        are kept if so; if not, the caller sorts every row again."""
        if self._order_label != (column.key, reverse):
            return False
        known = self._order_keys
        new = {key: cols.order_key(rows[key], column) for key in changed}
        if any(isinstance(value, float) and value != value for value, _ in new.values()):
            return False  # NaN: where `sorted` puts it depends on the rows around it
        if all(new[key] == known.get(key) for key in changed):
            return True  # the same values: the same places
        locations = self._row_locations
        count = self.row_count

        def at(index: int) -> tuple[str, cols.OrderKey]:
            row_key = locations.get_key(index)
            assert row_key is not None and row_key.value is not None  # 0 <= index < count
            key = row_key.value
            return key, new[key] if key in new else known[key]

        for key in changed:
            index = locations.get(RowKey(key))
            if index is None:
                return False
            row = at(index)
            if index > 0 and not cols.in_order(at(index - 1), row, column, reverse):
                return False
            if index + 1 < count and not cols.in_order(row, at(index + 1), column, reverse):
                return False
        known.update(new)
        return True

    def _show_stale(self) -> None:
        """Make the cells of the changed rows in view (and a few beyond): a row out of view
        keeps its newest inputs until a scroll, a resize or the sort brings it in."""
        stale = getattr(self, "_stale", None)  # a scroll may come before __init__ ends
        if not stale:
            return
        first = max(0, int(self.scroll_y) - STALE_MARGIN)
        last = int(self.scroll_y) + self.size.height + STALE_MARGIN
        locations = self._row_locations
        changed: list[int] = []
        for index in range(first, min(last, self.row_count)):
            row_key = locations.get_key(index)
            key = None if row_key is None else row_key.value
            if key is not None and key in stale and self._set_cells(key, stale.pop(key)):
                changed.append(index)
        self._refresh_rows(changed)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._show_stale()

    def on_resize(self) -> None:
        self._bound_caches()
        self._show_stale()

    def _bound_caches(self) -> None:
        """Size the render caches from the lines in view. DataTable's caches are all keyed by
        its update counter, which every changed cell moves: here they are hit only within one
        frame, so one screen's worth is enough (a 200x50 terminal: ~50 lines, ~750 cells,
        against the 2,000 cells and 300 lines above, which 100 busy rows fill). Rows are
        hit again tick to tick through `_row_lines` (by row version): two screens' worth
        keeps every visible row's current lines while the stale ones age out; so do a cell's
        styles by its place (`_cell_styles`), the places a moved row was at. A resize moves
        DataTable's counter, so nothing cached is of use after it: the caches are emptied
        (LRUCache keeps its size once full, whatever its new bound)."""
        lines = max(self.size.height, 1)
        cells = lines * max(len(self.columns) + 1, 1)  # + the row label's
        bounds = (
            (self._cell_render_cache, min(cells, RENDERED_CELLS)),
            (self._row_render_cache, min(lines, RENDERED_LINES)),
            (self._row_renderable_cache, min(lines, RENDERED_LINES)),
            (self._line_cache, min(lines, RENDERED_LINES)),
            (self._row_lines, min(2 * lines, RENDERED_LINES)),
            (self._cell_styles, min(2 * cells, 2 * RENDERED_CELLS)),
        )
        for cache, bound in bounds:
            if cache.maxsize != bound:
                cache.maxsize = bound
                cache.clear()

    def _set_cells(self, key: str, row: RowInput) -> bool:
        """A shown row's cells from its inputs: only the changed ones sent to DataTable.
        True: the row is to be repainted (the caller asks for it, with the others')."""
        self.rows_derived += 1
        new = tuple(c.cell(row) for c in self.shown_columns)
        old = self._cells[key]
        self._cells[key] = new
        if old == new:
            return False
        sized = False
        self._row_only = True  # the row is repainted once below, not once a cell
        try:
            for index, (before, after) in enumerate(zip(old, new, strict=True)):
                if before != after:
                    spec = self.shown_columns[index]
                    value = self._cell_text(key, index, after, spec)
                    # A name or image is rarely changed; when it is, its column grows.
                    sized |= spec.width is None
                    super().update_cell(key, spec.key, value, update_width=spec.width is None)
                    self._own_bumps += 1  # the counter moved for this row only
                    self.cell_updates += 1
        finally:
            self._row_only = False
        self._row_versions[RowKey(key)] = next(self._versions)
        if sized:
            self.refresh()  # every row: the column's width changed
        return not sized

    def _row_texts(self, key: str, cells: tuple[Cell, ...]) -> list[Text]:
        return [
            self._cell_text(key, i, cell, self.shown_columns[i]) for i, cell in enumerate(cells)
        ]

    @staticmethod
    def _cell_text(key: str, index: int, cell: Cell, spec: Column) -> Text:
        if index == 0:
            return KeyedText(cell[0], cell[1], key, spec.right)
        return _text(cell, spec.right)

    def _sort(self, order: list[str], column: Column, reverse: bool) -> None:
        if self._sort_label != (column.key, reverse):
            previous = self._sort_label
            self._sort_label = (column.key, reverse)
            if previous is not None and ColumnKey(previous[0]) in self.columns:
                old = cols.BY_KEY[previous[0]]
                self.columns[ColumnKey(old.key)].label = self._label(old, None)
            arrow = "▼" if column.descending != reverse else "▲"
            if ColumnKey(column.key) in self.columns:  # it may sort by a hidden column
                self.columns[ColumnKey(column.key)].label = self._label(column, arrow)
            # New labels move no counter: the header's line is drawn again by a new version.
            self._row_versions[self._header_row_key] = next(self._versions)
            self.refresh()
        before = [row.key.value for row in self.ordered_rows]
        if order == before:
            return
        position = {key: i for i, key in enumerate(order)}

        def by_position(cell: Text) -> int:
            return position[cell.row_key] if isinstance(cell, KeyedText) else 0

        self._row_only = True  # repaint the rows that moved, not the whole table
        counter = self._update_count
        try:
            self.sort("name", key=by_position)
        finally:
            self._row_only = False
            # A row's render is keyed by its position too: only the rows that moved are
            # rendered again, not a new epoch for all.
            self._own_bumps += self._update_count - counter
        for index, (was, now) in enumerate(zip(before, order, strict=True)):
            if was != now:
                self.refresh_row(index)
