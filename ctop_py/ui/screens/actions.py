"""The actions menu (`x`) on one container, and the confirmation every state change asks for.

The menu returns the user's choice; the app asks for confirmation (`y` confirms, any other key
cancels), runs the action in a worker, shows progress and the outcome. Nothing here talks to
the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ctop_py import present
from ctop_py.actions import APPLIES, Action
from ctop_py.ui import fmt


@dataclass(frozen=True)
class Choice:
    action: Action
    force: bool = False

    def question(self, name: str) -> str:
        what = {
            Action.STOP: "Stop",
            Action.START: "Start",
            Action.RESTART: "Restart",
            Action.PAUSE: "Pause",
            Action.UNPAUSE: "Unpause",
            Action.REMOVE: "Force-remove (docker rm -f, kills it if running)"
            if self.force
            else "Remove",
            Action.EXEC: "Open a shell in",
        }[self.action]
        return f"{what} container {name}?"

    @property
    def progress(self) -> str:
        return {
            Action.STOP: "stopping",
            Action.START: "starting",
            Action.RESTART: "restarting",
            Action.PAUSE: "pausing",
            Action.UNPAUSE: "unpausing",
            Action.REMOVE: "removing",
            Action.EXEC: "opening a shell in",
        }[self.action]


# key, label, the choice (p becomes pause or unpause by the container's state)
MENU: tuple[tuple[str, str, Choice], ...] = (
    ("s", "stop", Choice(Action.STOP)),
    ("S", "start", Choice(Action.START)),
    ("r", "restart", Choice(Action.RESTART)),
    ("p", "pause / unpause", Choice(Action.PAUSE)),
    ("d", "remove", Choice(Action.REMOVE)),
    ("D", "remove, forced (-f)", Choice(Action.REMOVE, force=True)),
    ("e", "exec a shell", Choice(Action.EXEC)),
)


def choice_for(key: str, state: str) -> Choice | None:
    for menu_key, _, choice in MENU:
        if menu_key == key:
            if choice.action is Action.PAUSE and state == "paused":
                return Choice(Action.UNPAUSE)
            return choice
    return None


def applies(choice: Choice, state: str) -> bool:
    return state in APPLIES[choice.action] or state not in _KNOWN_STATES


_KNOWN_STATES = frozenset(s for states in APPLIES.values() for s in states)


class ActionsMenu(ModalScreen[Choice | None]):
    """One key picks an action; esc (or any key that is not in the menu) closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"choose('{key}')", label) for key, label, _ in MENU),
        Binding("escape", "dismiss_menu", "Close"),
    ]
    DEFAULT_CSS = """
    ActionsMenu { align: center middle; }
    ActionsMenu > Vertical {
        width: 60; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, name: str, state: str, shell: str) -> None:
        super().__init__(id="actions-menu")
        self.container_name = name
        self.state = state
        self.shell = shell

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, label, choice in MENU:
            if choice.action is Action.PAUSE:
                label = "unpause" if self.state == "paused" else "pause"
            if choice.action is Action.EXEC:
                label = f"exec a shell ({present.safe(self.shell, 30)})"
            real = choice_for(key, self.state) or choice
            style = "" if applies(real, self.state) else fmt.DIM
            table.add_row(Text(key), Text(label, style=style))
        title = Text("actions on ", style="bold")
        title.append(present.safe(self.container_name, 40), style="bold")
        title.append(f" ({present.safe(self.state, 12)})", style=fmt.DIM)
        hint = Text("each change asks to confirm · esc closes", style=fmt.DIM)
        with Vertical():
            yield Static(title)
            yield Static(table, id="actions-keys")
            yield Static(hint)

    def action_choose(self, key: str) -> None:
        self.dismiss(choice_for(key, self.state))

    def action_dismiss_menu(self) -> None:
        self.dismiss(None)

    def on_key(self, event: events.Key) -> None:
        if event.key not in {key for key, _, _ in MENU} and event.key != "escape":
            event.stop()
            self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """`y` confirms; any other key cancels."""

    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical {
        width: 70; height: auto; border: thick $warning; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, question: str) -> None:
        super().__init__(id="confirm")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question, style="bold"), id="confirm-question")
            yield Static(Text("y confirms · any other key cancels", style=fmt.DIM))

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(event.key == "y")


MENU_BINDINGS: tuple[BindingType, ...] = tuple(ActionsMenu.BINDINGS)
