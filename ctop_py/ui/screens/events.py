"""The host's events, newest first: the engines' merged with the kernel counters' changes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ctop_py.diagnose import EVENTS_SHOWN
from ctop_py.ui import fmt
from ctop_py.ui.base import LiveScreen
from ctop_py.ui.state import UiState
from ctop_py.ui.widgets.events_table import ROWS, EventsTable, engine_note
from ctop_py.ui.widgets.footer import Footer
from ctop_py.ui.widgets.header import HostHeader


class EventsScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("backspace", "back", "Back", show=False),
    ]

    def __init__(self, state: UiState) -> None:
        super().__init__(state, id="events")

    def compose(self) -> ComposeResult:
        yield HostHeader()
        yield Static(id="events-note")
        yield EventsTable(id="events-table")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(EventsTable).focus()
        self.show_snapshot()

    def show_snapshot(self) -> None:
        self.show_status()
        snapshot = self.state.snapshot
        table = self.query_one(EventsTable)
        count = table.show(self.state.diagnosis.events)
        note = Text(
            f" host events, newest first: {count} shown (the newest {ROWS} of the last "
            f"{EVENTS_SHOWN:,}) ",
            style="bold",
        )
        missing = engine_note(snapshot.raw.engine_status) if snapshot else ""
        if missing:
            note.append("\n" + missing, style=fmt.WARN)
        self.query_one("#events-note", Static).update(note)

    def action_back(self) -> None:
        self.dismiss(None)
