"""The default screen: every container, one row each, live."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input

from ctop_py import present
from ctop_py.model import ContainerView
from ctop_py.ui import columns as cols
from ctop_py.ui.base import LiveScreen
from ctop_py.ui.columns import RowInput
from ctop_py.ui.history import container_key
from ctop_py.ui.messages import OpenContainer
from ctop_py.ui.state import UiState
from ctop_py.ui.widgets.container_table import ContainerTable
from ctop_py.ui.widgets.header import HostHeader

DEFAULT_SORT = "cpu"


def matches(view: ContainerView, needle: str) -> bool:
    """The filter: a case-insensitive substring of the name, image or id."""
    needle = needle.strip().lower()
    if not needle:
        return True
    haystacks = (view.name, view.raw.image or "", view.id, view.raw.runtime)
    return any(needle in h.lower() for h in haystacks)


def is_running(view: ContainerView) -> bool:
    return view.raw.active  # running, or restarting (crash-looping): keeps its row


class ContainersScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("r", "reverse_sort", "Reverse"),
        Binding("a", "toggle_all", "All/running"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        *(
            Binding(c.letter, f"sort_by('{c.key}')", f"Sort by {c.title}", show=False)
            for c in cols.SORTABLE
            if c.letter
        ),
    ]

    def __init__(self, state: UiState, show_all: bool = False) -> None:
        super().__init__(state, id="containers")
        self.show_all = show_all
        self.sort_key = DEFAULT_SORT
        self.reverse = False
        self.filter_text = ""
        self._title_plain = ""

    def compose(self) -> ComposeResult:
        yield HostHeader()
        yield ContainerTable(id="table", shadowed=self.state.shadowed)
        yield Input(
            placeholder="filter by name, image or id — enter keeps it, esc clears", id="filter"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.table.focus()

    @property
    def table(self) -> ContainerTable:
        return self.query_one(ContainerTable)

    # -- rendering ---------------------------------------------------------------------------

    def shown_containers(self) -> list[ContainerView]:
        snapshot = self.state.snapshot
        if snapshot is None:
            return []
        return [
            v
            for v in snapshot.containers
            if (self.show_all or is_running(v)) and matches(v, self.filter_text)
        ]

    def show_snapshot(self) -> None:
        self.show_status()
        histories = self.state.histories
        findings = self.state.diagnosis.findings
        rows = {
            container_key(v): RowInput(v, histories.get(container_key(v)), findings.get(v.id, ()))
            for v in self.shown_containers()
        }
        self.table.shadowed = self.state.shadowed
        self.table.show(rows, cols.BY_KEY[self.sort_key], self.reverse)
        self._title(len(rows))

    def _title(self, shown: int) -> None:
        snapshot = self.state.snapshot
        total = len(snapshot.containers) if snapshot else 0
        column = cols.BY_KEY[self.sort_key]
        arrow = "▼" if column.descending != self.reverse else "▲"
        title = Text(f" {'all' if self.show_all else 'running'} containers {shown}/{total}")
        title.append(f" · sort {column.label.strip()} {arrow}")
        if self.filter_text:
            title.append(" · filter ")
            title.append(present.safe(self.filter_text, 40), style="bold")
        title.append(" ")
        if title.plain != self._title_plain:  # setting a border title repaints the whole table
            self._title_plain = title.plain
            self.table.border_title = title

    # -- actions -------------------------------------------------------------------------------

    def action_sort_by(self, key: str) -> None:
        if key == self.sort_key:
            self.reverse = not self.reverse
        else:
            self.sort_key, self.reverse = key, False
        self.show_snapshot()

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in cols.SORTABLE]
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.reverse = False
        self.show_snapshot()

    def action_reverse_sort(self) -> None:
        self.reverse = not self.reverse
        self.show_snapshot()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.show_snapshot()

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.display = False
        self.filter_text = ""
        self.table.focus()
        self.show_snapshot()

    def action_open(self) -> None:
        key = self.table.selected_key
        if key is not None:
            self.post_message(OpenContainer(key))

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.show_snapshot()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        field = self.query_one("#filter", Input)
        field.display = False
        self.table.focus()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenContainer(event.row_key.value))

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key in cols.BY_KEY and cols.BY_KEY[key].sort is not None:
            self.action_sort_by(key)
