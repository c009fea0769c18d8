"""The default screen: every container, one row each, live."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from ctop_py import present
from ctop_py.model import ContainerView
from ctop_py.ui import columns as cols
from ctop_py.ui.base import LiveScreen
from ctop_py.ui.columns import RowInput
from ctop_py.ui.compositor import compositor
from ctop_py.ui.history import container_key
from ctop_py.ui.messages import ActOn, OpenContainer, SaveColumns, ShellIn
from ctop_py.ui.state import UiState
from ctop_py.ui.widgets.container_table import ContainerTable
from ctop_py.ui.widgets.footer import Footer
from ctop_py.ui.widgets.header import HostHeader

DEFAULT_SORT = "cpu"
READ_ONLY_SAVE = "read-only mode: ctop-py writes nothing, not even its config file"


def matches(view: ContainerView, needle: str) -> bool:
    """The filter: a case-insensitive substring of the name, image or id."""
    needle = needle.strip().lower()
    if not needle:
        return True
    haystacks = (view.name, view.raw.image or "", view.id, view.raw.runtime)
    return any(needle in h.lower() for h in haystacks)


def is_running(view: ContainerView) -> bool:
    return view.raw.active  # running, or restarting (crash-looping): keeps its row


def why_not(view: ContainerView) -> str | None:
    """Why logs and actions cannot reach this container, or None."""
    if view.raw.runtime != "docker":
        return (
            f"actions and logs go through the Docker engine; this is a "
            f"{present.safe(view.raw.runtime, 20)} container"
        )
    return None


ACTING_BINDINGS: list[BindingType] = [
    Binding("x", "actions_menu", "Actions"),
    Binding("e", "shell", "Shell", show=False),
]
# In read-only mode (or a replay) x and e are hidden and only say why they do nothing.
REFUSING_BINDINGS: list[BindingType] = [
    Binding("x", "refuse", "Actions (off)", show=False),
    Binding("e", "refuse", "Shell (off)", show=False),
]


class ActingScreen(LiveScreen):
    """A screen with both sets of x / e bindings: the live ones when the app may act, the ones
    that only say why not otherwise (read-only, a replay)."""

    @classmethod
    def bindings_for_help(cls, acting: bool) -> list[BindingType]:
        refusing = {id(b) for b in (REFUSING_BINDINGS if acting else ACTING_BINDINGS)}
        return [b for b in cls.BINDINGS if id(b) not in refusing]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("actions_menu", "shell"):
            return self.state.acting
        if action == "refuse":
            return not self.state.acting
        return True


EMPTY_HOST = (
    "No containers on this host. Start one (docker run …), or see ctop-py on a recorded host: "
    "ctop-py --demo"
)


class ContainersScreen(ActingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *ACTING_BINDINGS,
        *REFUSING_BINDINGS,
        Binding("c", "choose_columns", "Columns"),
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

    def __init__(
        self,
        state: UiState,
        show_all: bool = False,
        sort: str = DEFAULT_SORT,
        reverse: bool = False,
        columns: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(state, id="containers")
        # A tick changes the header and a few rows: Textual's partial update rendered every
        # widget under their bounding box (the table's every line between them, the footer's
        # keys when a low row changed); this renders the widgets under what changed only.
        self._compositor = compositor()
        self.show_all = show_all
        self.sort_key = sort if sort in cols.BY_KEY and cols.BY_KEY[sort].sort else DEFAULT_SORT
        self.reverse = reverse
        self.columns = columns
        self.filter_text = ""
        self._title_plain = ""
        self._empty = ""

    def compose(self) -> ComposeResult:
        yield HostHeader()
        yield Static(id="empty")
        yield ContainerTable(columns=self.columns, id="table", shadowed=self.state.shadowed)
        yield Input(
            placeholder="filter by name, image or id — enter keeps it, esc clears", id="filter"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#empty", Static).display = False
        self.table.focus()

    @property
    def table(self) -> ContainerTable:
        return self.query_one(ContainerTable)

    # -- rendering ---------------------------------------------------------------------------

    def shown_containers(self) -> list[ContainerView]:
        snapshot = self.state.snapshot
        if snapshot is None:
            return []
        show_all = self.show_all
        if not self.filter_text.strip():  # no filter: every container matches
            return [v for v in snapshot.containers if show_all or is_running(v)]
        return [
            v
            for v in snapshot.containers
            if (show_all or is_running(v)) and matches(v, self.filter_text)
        ]

    def show_snapshot(self) -> None:
        self.show_status()
        histories = self.state.histories
        findings = self.state.diagnosis.findings
        rows = {}
        for v in self.shown_containers():
            key = container_key(v)
            rows[key] = RowInput(v, histories.get(key), findings.get(v.id, ()))
        self.table.shadowed = self.state.shadowed
        self.table.show(rows, cols.BY_KEY[self.sort_key], self.reverse)
        self._title(len(rows))
        self._say_empty(len(rows))

    def _say_empty(self, shown: int) -> None:
        snapshot = self.state.snapshot
        message = ""
        if snapshot is not None and not shown:
            total = len(snapshot.containers)
            if not total:
                message = EMPTY_HOST
            elif self.filter_text:
                message = f"No container matches the filter {present.safe(self.filter_text, 40)!r}."
            elif not self.show_all:
                message = f"No running containers ({total} stopped: a shows them)."
        if message != self._empty:
            self._empty = message
            empty = self.query_one("#empty", Static)
            empty.update(Text(message))
            empty.display = bool(message)

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

    def selected_view(self) -> ContainerView | None:
        key = self.table.selected_key
        for view in self.shown_containers():
            if container_key(view) == key:
                return view
        return None

    def action_actions_menu(self) -> None:
        view = self.selected_view()
        if view is not None:
            self.post_message(ActOn(view))

    def action_shell(self) -> None:
        view = self.selected_view()
        if view is not None:
            self.post_message(ShellIn(view))

    def action_refuse(self) -> None:
        view = self.selected_view()
        if view is not None:
            self.post_message(ActOn(view))  # the app says why nothing happens

    def action_choose_columns(self) -> None:
        from ctop_py.ui.screens.column_chooser import Chosen, ColumnChooser

        cannot = READ_ONLY_SAVE if self.state.read_only else None
        shown = tuple(c.key for c in self.table.shown_columns)

        def chosen(result: Chosen | None) -> None:
            if result is None:
                return
            self.columns = result.columns
            self.table.set_columns(result.columns)
            self.show_snapshot()
            if result.save:
                self.post_message(SaveColumns(result.columns))

        self.app.push_screen(ColumnChooser(shown, cannot), chosen)

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
