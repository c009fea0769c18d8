"""What every live screen shares: the state pushed down by the app, and hooks to render it."""

from __future__ import annotations

from textual import events
from textual.screen import Screen

from ctop_py.ui import textual_caches
from ctop_py.ui.state import UiState
from ctop_py.ui.widgets.header import HostHeader


class LiveScreen(Screen[None]):
    """A screen that shows the app's latest state. The app pushes every new `UiState` to each
    live screen (`push`); only the screen on top renders it at once, one that comes back on
    top catches up in `on_screen_resume`. A screen never reads the app: it posts messages up
    (`ctop_py.ui.messages`)."""

    def __init__(self, state: UiState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self._headers: list[HostHeader] = []

    def push(self, state: UiState, render: str | None = "snapshot") -> None:
        """Take the app's new state; render it ("snapshot": all, "status": the header only)."""
        self.state = state
        if render == "snapshot":
            self.show_snapshot()
        elif render == "status":
            self.show_status()

    def show_snapshot(self) -> None:
        """Render the current state. Called on the UI thread; never does I/O."""
        self.show_status()

    def show_status(self) -> None:
        """Only the header (interval, pause, our own cost; a replay's cursor)."""
        state = self.state
        # Found once (again if removed): a DOM query each tick cost as much as making the
        # header's text.
        headers = self._headers
        if not headers or not headers[0].is_attached:
            headers = self._headers = self.query(HostHeader).nodes
        for header in headers:
            header.show(state.snapshot, state.own, state.interval_s, state.paused, state.replay)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # The screen that was above this one is gone: let go of its widgets (emptied every
        # TRIM_EVERY_S instead, the refill cost ~0.05 % of a core at 100 containers).
        textual_caches.forget_removed_widgets()
        self.show_snapshot()
