"""A bare Textual app that redraws LINES full-width lines once a second: the floor of what
drawing a tab that changes that much costs, for benchmarks.tabs_ab (`--probe`).

`python benchmarks/textual_lines_floor.py LINES [--static]`: one widget (the Line API, a Strip per
line, the cheapest way Textual draws text) whose LINES lines all change every second (a
counter in each), refreshed with `refresh()`; a 2-line header above it changes too (like the
app's header: its own CPU); with LINES 0 only the header changes. `--static`: the lines are a
Static's text instead (what most Textual apps use).
"""

from __future__ import annotations

import sys

from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

LINES = int(sys.argv[1]) if len(sys.argv) > 1 else 40
STATIC = "--static" in sys.argv


def line_text(y: int, tick: int) -> str:
    return f"{y:3d}  {tick:8d}  " + "interval row with columns of numbers  " * 2


class Lines(Widget):
    DEFAULT_CSS = "Lines { height: auto; }"

    def __init__(self) -> None:
        super().__init__()
        self.tick = 0

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return LINES

    def render_line(self, y: int) -> Strip:
        return Strip([Segment(line_text(y, self.tick - y), self.rich_style)])


class Floor(App[None]):
    CSS = "Static#head { height: 2; background: $panel; }"

    def compose(self) -> ComposeResult:
        yield Static(id="head")
        if STATIC:
            yield Static(id="lines")
        else:
            yield Lines()

    def on_mount(self) -> None:
        self.tick = 0
        self.set_interval(1.0, self.step)

    def step(self) -> None:
        self.tick += 1
        self.query_one("#head", Static).update(
            Text(f"header {self.tick}\nown CPU {self.tick % 7}.{self.tick % 10} %"), layout=False
        )
        if STATIC:
            text = "\n".join(line_text(y, self.tick - y) for y in range(LINES))
            self.query_one("#lines", Static).update(Text(text), layout=False)
        elif LINES:
            lines = self.query_one(Lines)
            lines.tick = self.tick
            lines.refresh()


if __name__ == "__main__":
    Floor().run()
