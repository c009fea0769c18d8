"""A labelled sparkline as wide as the widget: the newest samples on the right.

One line of three runs, drawn as a Strip of three segments (the Line API): a Text went
through Textual's Content (parsed, wrapped, styled) each time the line changed, which for a
busy container is every tick."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ctop_py.ui import fmt
from ctop_py.ui.widgets.lines_view import PlainLines, plain_box

LABEL_WIDTH = 14
SUMMARY_WIDTH = 30


class HistorySpark(Widget):
    DEFAULT_CSS = """
    HistorySpark {
        height: 1;
    }
    """

    def __init__(self, label: str, style: str = "cyan", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self.style = style
        self.values: Sequence[float | None] = ()
        self.top: float | None = None
        self.summary: Callable[[Sequence[float | None]], str] = lambda _v: ""
        self._drawn: tuple[int, str, str, str] | None = None  # width, spark, summary, style
        self._strip: tuple[tuple[int, str, str, str], Style, Strip] | None = None
        self._plain = PlainLines()  # the line as drawn (padded, filtered)

    def show(
        self,
        values: Sequence[float | None],
        top: float | None,
        summary: Callable[[Sequence[float | None]], str],
        style: str | None = None,
    ) -> None:
        self.values, self.top, self.summary = values, top, summary
        if style is not None:
            self.style = style
        if self._parts() != self._drawn:  # an idle container's line stays as it is
            self.refresh()

    def _width(self) -> int:
        return max(1, self.size.width - LABEL_WIDTH - SUMMARY_WIDTH - 2)

    def _parts(self) -> tuple[int, str, str, str]:
        width = self._width()
        spark = fmt.spark(self.values, width, self.top) if self.values else " " * width
        return width, spark, self.summary(self.values)[:SUMMARY_WIDTH], self.style

    def render(self) -> Text:
        """The line as a Text (for a screen capture; the widget draws render_line's strip)."""
        _width, spark, summary, style = self._parts()
        text = Text(no_wrap=True, end="")
        text.append(self.label.ljust(LABEL_WIDTH), style="bold")
        text.append(spark, style=style if self.values else fmt.DIM)
        text.append("  " + summary, style=fmt.DIM)
        return text

    def render_lines(self, crop: Region) -> list[Strip]:
        """The line drawn as the styles cache would draw it (see PlainLines), kept while
        its parts are the same; the styles cache draws it when the widget has a box."""
        if not self._plain_box():
            return super().render_lines(crop)
        parts = self._drawn = self._parts()
        self._plain.keep([parts])
        return self._plain.render(
            self, crop, self.rich_style, lambda y: None if y else parts, self.render_line
        )

    def _plain_box(self) -> bool:
        return plain_box(self)

    def render_line(self, y: int) -> Strip:
        base = self.rich_style
        if y:
            return Strip.blank(self.size.width, base)
        parts = self._drawn = self._parts()
        known = self._strip
        if known is not None and known[0] == parts and known[1] == base:
            return known[2]
        _width, spark, summary, style = parts
        strip = Strip(
            [
                Segment(self.label.ljust(LABEL_WIDTH), base + Style.parse("bold")),
                Segment(spark, base + Style.parse(style if self.values else fmt.DIM)),
                Segment("  " + summary, base + Style.parse(fmt.DIM)),
            ]
        )
        self._strip = (parts, base, strip)
        return strip
