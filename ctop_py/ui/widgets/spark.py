"""A labelled sparkline as wide as the widget: the newest samples on the right."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widget import Widget

from ctop_py.ui import fmt

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
        self._drawn = _width, spark, summary, style = self._parts()
        text = Text(no_wrap=True, end="")
        text.append(self.label.ljust(LABEL_WIDTH), style="bold")
        text.append(spark, style=style if self.values else fmt.DIM)
        text.append("  " + summary, style=fmt.DIM)
        return text
