"""The replay's "go to a time" dialog (`g`): one Input; what it cannot read, it says why."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ctop_py import present
from ctop_py.sources import TimeError
from ctop_py.ui import fmt
from ctop_py.ui.replay import ReplayPlayer, parse_jump


class JumpScreen(ModalScreen[float | None]):
    """Dismissed with the wall time asked for (epoch seconds), or None (esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    JumpScreen {
        align: center middle;
    }
    JumpScreen > Vertical {
        width: 80;
        max-width: 100%;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    JumpScreen #jump-error {
        color: $error;
        height: auto;
    }
    """

    def __init__(self, player: ReplayPlayer) -> None:
        super().__init__(id="jump")
        self.player = player

    def compose(self) -> ComposeResult:
        player = self.player
        first, last = player.samples[0].time, player.samples[-1].time

        def clock(t: float) -> str:
            return datetime.fromtimestamp(t, player.tz).strftime("%H:%M:%S")

        with Vertical():
            yield Static(Text("go to a time in the recording", style="bold"))
            yield Static(
                Text(
                    f"{clock(first)} – {clock(last)}, {last - first:.0f} s, "
                    f"{player.count} samples\n"
                    "seconds from the start (30, +12.5), a clock time (18:00:30) or an ISO time "
                    "(2026-11-29T18:00:30) · enter goes · esc cancels",
                    style=fmt.DIM,
                )
            )
            yield Input(placeholder="seconds from the start, or a time", id="jump-input")
            yield Static(id="jump-error")

    def on_mount(self) -> None:
        self.query_one("#jump-error").display = False
        self.query_one(Input).focus()

    @on(Input.Submitted, "#jump-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            when = parse_jump(event.value, self.player.samples[0].time, self.player.tz)
        except TimeError as exc:
            error = self.query_one("#jump-error", Static)
            error.update(Text(present.safe(str(exc), 200)))
            error.display = True
            return
        self.dismiss(when)

    @on(Input.Changed, "#jump-input")
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#jump-error").display = False

    def action_cancel(self) -> None:
        self.dismiss(None)
