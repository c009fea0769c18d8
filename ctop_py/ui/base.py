"""What every live screen shares: access to the app's state and a hook called on each Snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import events
from textual.screen import Screen

from ctop_py.ui.widgets.header import HostHeader

if TYPE_CHECKING:
    from ctop_py.ui.app import CtopApp


class LiveScreen(Screen[None]):
    """A screen that shows the app's latest Snapshot. Only the screen on top is updated each
    tick; a screen that comes back on top catches up in `on_screen_resume`."""

    @property
    def ctop(self) -> CtopApp:
        return cast("CtopApp", self.app)

    def show_snapshot(self) -> None:
        """Render the app's current state. Called on the UI thread; never does I/O."""
        self.show_status()

    def show_status(self) -> None:
        """Only the header (interval, pause, our own cost; a replay's cursor)."""
        app = self.ctop
        replay = app.replay_status()
        for header in self.query(HostHeader):
            header.show(app.snapshot, app.own, app.interval_s, app.paused, replay)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        self.show_snapshot()
