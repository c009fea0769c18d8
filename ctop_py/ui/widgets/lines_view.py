"""Lines of text that change a few at a time (the Throttling tab's intervals): a line's Strip
is made once for its text and kept while the line is shown, and only the lines that differ
from what is on screen are repainted.

A Static made its whole Content again on every update (wrapped, styled, cut into strips:
most of the Throttling tab's cost at 60 rows a second), even where a line had only moved.

A line is drawn as Textual's styles cache would draw it (padded to the width with the
background, the app's line filters applied), made once per line and kept: Textual's own path
made four strips of each line again each time the line was painted, and on the Throttling
tab every visible line is painted every second (a new interval row moves them all down)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style as TextualStyle
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
        self._plain = PlainLines()  # the lines as drawn (padded, filtered)

    def show(self, lines: Sequence[Line]) -> None:
        new = tuple(lines)
        old = self.lines
        if new == old:
            return
        self.lines = new
        kept = self._strips
        self._strips = {line: kept[line] for line in new if line in kept}
        self._plain.keep(new)
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
            if not self._plain_box():
                return super().render_lines(crop)  # Textual's styles cache draws the box
            return self._render_plain(crop, self._pass_style)
        finally:
            self._pass_style = None

    def _plain_box(self) -> bool:
        return plain_box(self)

    def _render_plain(self, crop: Region, base: Style) -> list[Strip]:
        lines = self.lines
        return self._plain.render(
            self, crop, base, lambda y: lines[y] if y < len(lines) else None, self.render_line
        )

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


def plain_box(widget: Widget) -> bool:
    """No border, outline, padding, tint, hatch, opacity: a line is drawn as its content
    strip padded to the width (what the styles cache does then, see PlainLines)."""
    styles = widget.styles
    return (
        not any(edge for edge, _color in styles.border)
        and not any(edge for edge, _color in styles.outline)
        and not any(styles.padding)
        and not styles.tint.a
        and styles.text_opacity == 1.0
        and not (styles.has_rule("hatch") and styles.hatch != "none")
        and widget.opacity == 1.0
    )


class PlainLines:
    """A widget's lines drawn as StylesCache.render_widget draws a widget without a box (the
    content line adjusted to the width with the background style, the line filters applied
    with the widget's background, cropped to the columns asked for), each kept by its key
    while the widget's width, style, background and filters stay the same."""

    def __init__(self) -> None:
        self.drawn: dict[Hashable, Strip] = {}
        self._drawn_with: tuple[object, ...] | None = None

    def keep(self, keys: Iterable[Hashable]) -> None:
        """Forget the lines but these."""
        drawn = self.drawn
        self.drawn = {key: drawn[key] for key in keys if key in drawn}

    def render(
        self,
        widget: Widget,
        crop: Region,
        base: Style,
        key: Callable[[int], Hashable | None],
        content: Callable[[int], Strip],
    ) -> list[Strip]:
        """`key(y)`: what line y shows (None: not kept); `content(y)`: its content strip."""
        width = widget.size.width
        base_background, background = widget.background_colors
        filters = tuple(widget.get_line_filters())
        drawn_with = (width, base, base_background, background, filters)
        if drawn_with != self._drawn_with:
            self._drawn_with = drawn_with
            self.drawn.clear()
        pad = _inner_style(base_background, background)
        drawn = self.drawn
        strips: list[Strip] = []
        for y in crop.line_range:
            line = key(y)
            strip = drawn.get(line) if line is not None else None
            if strip is None:
                strip = content(y).adjust_cell_length(width, pad)
                strip = _filtered(strip, filters, background)
                if line is not None:
                    drawn[line] = strip
            strips.append(strip)
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips


def _inner_style(base_background: Color, background: Color) -> Style:
    """The style the styles cache pads a content line with."""
    return TextualStyle(background=base_background + background).rich_style


def _filtered(strip: Strip, filters: tuple[LineFilter, ...], background: Color) -> Strip:
    for line_filter in filters:
        strip = strip.apply_filter(line_filter, background)
    return strip


def make_strip(line: Line, base: Style) -> Strip:
    """A line's runs as segments over the widget's style."""
    return Strip(
        [Segment(text, base + Style.parse(style) if style else base) for text, style in line]
    )
