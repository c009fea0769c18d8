"""The column chooser (`c`, as in bcicen/ctop): show, hide and reorder the containers table's
columns. Enter applies, w applies and saves to the config file, esc cancels. NAME always shows
first (it is how a row is found and sorted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ctop_py.ui import columns as cols
from ctop_py.ui import fmt

FIXED = "name"


@dataclass(frozen=True)
class Chosen:
    columns: tuple[str, ...]  # the visible columns, in order
    save: bool


def normalise(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Known keys only, each once, NAME first."""
    seen: list[str] = []
    for key in keys:
        if key in cols.BY_KEY and key not in seen and key != FIXED:
            seen.append(key)
    return (FIXED, *seen)


class ColumnChooser(ModalScreen[Chosen | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("space,x", "toggle_column", "Show / hide"),
        Binding("K,shift+up,minus", "shift(-1)", "Move up", key_display="K"),
        Binding("J,shift+down,plus", "shift(1)", "Move down", key_display="J"),
        Binding("enter", "apply", "Apply"),
        Binding("w", "save", "Apply and save"),
        Binding("escape,q", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    ColumnChooser { align: center middle; }
    ColumnChooser > Vertical {
        width: 64; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, visible: tuple[str, ...], can_save: str | None = None) -> None:
        """`visible`: the shown columns in order. `can_save`: None when saving is allowed, else
        why not (read-only mode)."""
        super().__init__(id="column-chooser")
        shown = normalise(visible)
        hidden = [c.key for c in cols.COLUMNS if c.key not in shown]
        self.order: list[str] = [*shown, *hidden]
        self.shown: set[str] = set(shown)
        self.cursor = 0
        self.cannot_save = can_save

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("columns", style="bold"))
            yield Static(id="chooser-list")
            hint = "space shows/hides · K/J move · enter applies · w applies and saves · esc"
            yield Static(Text(hint, style=fmt.DIM))

    def on_mount(self) -> None:
        self._draw()

    def _draw(self) -> None:
        table = Table(box=None, show_header=False, padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, style=fmt.DIM)
        for index, key in enumerate(self.order):
            column = cols.BY_KEY[key]
            mark = "[x]" if key in self.shown else "[ ]"
            style = "reverse" if index == self.cursor else ""
            note = "always shown" if key == FIXED else column.title
            table.add_row(Text(mark, style=style), Text(column.label, style=style), Text(note))
        self.query_one("#chooser-list", Static).update(table)

    @property
    def chosen(self) -> tuple[str, ...]:
        return tuple(k for k in self.order if k in self.shown)

    def action_move(self, step: int) -> None:
        self.cursor = (self.cursor + step) % len(self.order)
        self._draw()

    def action_toggle_column(self) -> None:
        key = self.order[self.cursor]
        if key == FIXED:
            return
        self.shown ^= {key}
        self._draw()

    def action_shift(self, step: int) -> None:
        index, target = self.cursor, self.cursor + step
        if self.order[index] == FIXED or not 1 <= target < len(self.order):
            return
        self.order[index], self.order[target] = self.order[target], self.order[index]
        self.cursor = target
        self._draw()

    def action_apply(self) -> None:
        self.dismiss(Chosen(self.chosen, save=False))

    def action_save(self) -> None:
        if self.cannot_save:
            self.notify(self.cannot_save, severity="warning", markup=False)
            return
        self.dismiss(Chosen(self.chosen, save=True))

    def action_cancel(self) -> None:
        self.dismiss(None)
