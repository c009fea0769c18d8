"""Lines of text that change a few at a time (the Throttling tab's intervals): a line's Strip
is made once for its text and kept while the line is shown, and only the lines that differ
from what is on screen are repainted.

A Static made its whole Content again on every update (wrapped, styled, cut into strips:
most of the Throttling tab's cost at 60 rows a second), even where a line had only moved."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

# One line: its runs of (text, style); a style is a Rich style string, "" for none.
Line = tuple[tuple[str, str], ...]


class LinesView(Widget):
    """Shows `show(lines)`: one Line per row, never wrapped. Its height is the CSS's (set it to
    the most lines it will show: a changed count of lines is then no layout pass), or the
    number of lines when the CSS says `auto`."""

    DEFAULT_CSS = """
    LinesView {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lines: tuple[Line, ...] = ()
        self._strips: dict[Line, Strip] = {}  # the lines shown, each made once
        self._base: Style | None = None  # the widget's style the strips were made with
        self._pass_style: Style | None = None  # the widget's style during render_lines
        self.lines_made = 0  # cumulative count of lines made into strips (tests, measurements)

    def show(self, lines: Sequence[Line]) -> None:
        new = tuple(lines)
        old = self.lines
        if new == old:
            return
        self.lines = new
        kept = self._strips
        self._strips = {line: kept[line] for line in new if line in kept}
        if len(new) != len(old) and self.styles.height is not None and self.styles.height.is_auto:
            self.refresh(layout=True)
            return
        width = self.size.width
        changed = [y for y in range(max(len(new), len(old))) if y >= len(old) or y >= len(new)
                   or new[y] != old[y]]  # fmt: skip
        if not self.is_mounted or not width or len(changed) > len(new) // 2:
            self.refresh()
            return
        start = previous = changed[0]
        for y in [*changed[1:], -1]:  # contiguous runs of changed lines, one region each
            if y != previous + 1:
                self.refresh(Region(0, start, width, previous - start + 1))
                start = y
            previous = y

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines)

    def plain(self) -> list[str]:
        """The text of the lines shown (tests)."""
        return ["".join(text for text, _ in line) for line in self.lines]

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass_style = self.rich_style  # once per pass, not per line: it walks the DOM
        try:
            return super().render_lines(crop)
        finally:
            self._pass_style = None

    def render_line(self, y: int) -> Strip:
        base = self._pass_style or self.rich_style
        if y >= len(self.lines):
            return Strip.blank(self.size.width, base)
        if base != self._base:  # a new theme or state: every line is made again
            self._base = base
            self._strips.clear()
        line = self.lines[y]
        strip = self._strips.get(line)
        if strip is None:
            self.lines_made += 1
            strip = self._strips[line] = make_strip(line, base)
        return strip


def make_strip(line: Line, base: Style) -> Strip:
    """A line's runs as segments over the widget's style."""
    return Strip(
        [Segment(text, base + Style.parse(style) if style else base) for text, style in line]
    )
