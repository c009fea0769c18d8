"""The help screen (`?`): every key of every screen, read from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "plus": "+",
    "minus": "-",
    "equals_sign": "=",
    "escape": "esc",
    "space": "space",
    "enter": "enter",
    "backspace": "backspace",
    "left": "←",
    "right": "→",
    "up": "↑",
    "down": "↓",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "comma": ",",
    "full_stop": ".",
    "less_than_sign": "<",
    "greater_than_sign": ">",
}

LEGEND = (
    "–  unknown, or not measured yet (never shown as 0)\n"
    "∞  no limit configured\n"
    "CPU %: 100 = one core · %CPU/Q: of the CPU quota · THR %: periods throttled\n"
    "MEM: used (as docker stats counts it) / memory.max · NET and IO: bytes per second\n"
    "red: throttled ≥ 25 % of periods, memory ≥ 95 % of its limit, an OOM kill in the "
    "last 5 min, pids ≥ 90 % of pids.max · yellow: throttled, memory ≥ 80 %"
)


REPLAY_NOTE = (
    "A replay shows a recording, not this host: each sample's rates are derived again from "
    "the sample before it, also after a step back or a jump; the sparklines show the "
    "recording's past up to the cursor. p at the end plays again from the start. Layers, "
    "network and stacks are not recorded: live only."
)


def diagnosis_note() -> str:
    """The diagnosis column's rules (ctop_py.thresholds) and what the live app keeps."""
    from ctop_py.ring import MAX_BYTES, WINDOW_S
    from ctop_py.thresholds import describe

    rules = "\n".join(f"· {line}" for line in describe())
    return (
        "DIAGNOSIS names each container's bottleneck (● critical, ▲ warning; the container "
        "screen lists every finding first, with its numbers); E shows the host's events, the "
        "container screen's Events tab its own. Rules:\n"
        f"{rules}\n"
        f"The live app keeps the last {WINDOW_S / 60:g} minutes of samples in memory (at most "
        f"{MAX_BYTES >> 20} MiB, compressed): [ or Home steps back into them, ] forward, g goes "
        "to a time, End or p returns to live; W saves them as a recording (ctop-py replay FILE)."
    )


def key_label(binding: Binding) -> str:
    names = [KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(",")]
    if binding.key_display:
        names[0] = binding.key_display
    # "[ ," reads better than "[, ," for keys that are one character each.
    separator = " " if all(len(n) == 1 for n in names) else ", "
    return separator.join(names)


def bindings_table(title: str, bindings: Iterable[BindingType]) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=False, title=title, title_justify="left")
    table.title_style = "bold"
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    seen: set[str] = set()
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        label = key_label(binding)
        line = f"{label}\0{binding.description}"
        if line in seen:
            continue
        seen.add(line)
        table.add_row(Text(label), Text(binding.description))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?"),
        Binding("q", "close", "Close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 124;
        max-width: 100%;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, sections: list[tuple[str, list[BindingType]]], replay: bool = False) -> None:
        super().__init__(id="help")
        self.sections = sections
        self.replay = replay

    def compose(self) -> ComposeResult:
        tables = [bindings_table(title, bindings) for title, bindings in self.sections]
        half = (len(tables) + 1) // 2
        replay_notes = [Text("about a replay", style="bold"), Text(REPLAY_NOTE), Text("")]
        notes = Group(
            *(replay_notes if self.replay else []),
            Text("legend", style="bold"),
            Text(LEGEND),
            Text(""),
            Text("diagnosis, events, scroll-back", style="bold"),
            Text(diagnosis_note()),
            Text(""),
            Text(
                "ctrl+p opens the command palette with the same actions. The mouse works: "
                "click a row to select it, again to open it; click a column header to sort.",
                style="dim",
            ),
        )
        grid = Table.grid(padding=(0, 4), expand=True)
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        left = Group(*(part for t in tables[:half] for part in (t, Text(""))))
        right = Group(*(part for t in tables[half:] for part in (t, Text(""))), notes)
        grid.add_row(left, right)
        with VerticalScroll():
            yield Static(
                Group(Text("ctop-py keys", style="bold underline"), Text(""), grid), id="help-text"
            )

    def action_close(self) -> None:
        self.dismiss(None)
