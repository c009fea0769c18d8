"""The container screen's line tables draw what rich's Table draws (the Overview's limits were a
rich Table, measured again each tick), character for character and style for style."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll

from ctop_py import demo
from ctop_py.model import ContainerView
from ctop_py.ui import detail


def _cells(runs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(character, style) of each cell of a line."""
    return [(ch, style) for text, style in runs for ch in text]


def _rich(view: ContainerView) -> list[list[tuple[str, str]]]:
    table = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold")
    for header, right in zip(detail.LIMITS_HEADERS, detail.LIMITS_RIGHT, strict=True):
        table.add_column(header, justify="right" if right else "left")
    for row in detail.limits_rows(view):
        table.add_row(*(Text(text, style=style) for text, style in row))
    console = Console(width=200)
    return [
        _cells([(s.text, str(s.style) if s.style else "") for s in line])
        for line in console.render_lines(table, console.options, pad=False)
    ]


def test_limits_lines_are_what_a_rich_table_draws() -> None:
    views = [v for v in demo.snapshots(5)[-1].containers if v.raw.cgroup is not None]
    assert len(views) >= 3
    # and a cpuset, a weight, protected memory and a µ-wide CPU cell: every optional row
    first = views[0]
    assert first.raw.cgroup is not None
    limits = replace(
        first.limits,
        cpu_weight=100,
        cpu_shares=1024,
        cpuset_cpus="0-1",
        cpuset_mems="0",
        memory_low_bytes=64 << 20,
    )
    cgroup = replace(first.raw.cgroup, limits=limits)
    views.append(replace(first, raw=replace(first.raw, cgroup=cgroup)))
    for view in views:
        lines = detail.limits_lines(view)
        assert [text for text, _ in lines[0]] == [
            f"cgroup v{view.raw.cgroup.version} " if view.raw.cgroup else "",
            view.raw.cgroup.path if view.raw.cgroup else "",
        ]
        assert [_cells(list(line)) for line in lines[2:]] == _rich(view), view.name


def test_psi_lines_are_what_a_rich_table_draws() -> None:
    """The Overview's pressure table (it changes every tick under load) is laid out as the
    rich Table it was (padding 1) draws the same cells, styles included."""
    views = [v for v in demo.snapshots(8)[-1].containers if v.raw.cgroup and v.raw.cgroup.psi]
    assert len(views) >= 3
    styled = 0
    for view in views:
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
        for header, right in zip(detail.PSI_HEADERS, detail.PSI_RIGHT, strict=True):
            table.add_column(header, justify="right" if right else "left")
        rows = detail.psi_rows(view)
        for row in rows:
            table.add_row(*(Text(text, style=style) for text, style in row))
        styled += sum(1 for row in rows for _, style in row if style)
        console = Console(width=200)
        expected = [
            _cells([(s.text, str(s.style) if s.style else "") for s in line])
            for line in console.render_lines(table, console.options, pad=False)
        ]
        assert [_cells(list(line)) for line in detail.psi_lines(view)] == expected, view.name
    assert styled  # a warning or danger cell among them: its style spans its column's width


def test_limits_without_a_cgroup_say_so() -> None:
    view = demo.snapshots(3)[-1].containers[0]
    view = replace(view, raw=replace(view.raw, cgroup=None))
    text = " ".join(text for line in detail.limits_lines(view) for text, _ in line)
    assert text == " ".join(detail.NO_CGROUP_LIMITS) and "not known" in text


def test_no_block_glyph_left_at_the_right_edge_of_a_growing_throttling_tab() -> None:
    """The issue's "▆▆" / "▁▁" at the right edge of the Throttling tab: as its table grows a
    row a tick, no frame has a block glyph in the screen's last two columns (the vertical
    scrollbar's thumb is drawn in whole cells)."""
    from ctop_py.ui.app import CtopApp
    from tests.test_ui import drive, make_app, open_screen, step

    blocks = set("▁▂▃▄▅▆▇█▉▊▋▌▍▎▏")
    app = make_app(demo.snapshots(24))

    async def scenario(app: CtopApp, pilot: Any) -> None:
        await step(app, pilot, 2)
        screen = await open_screen(app, pilot, "spinner", "2")
        scrolled = False
        for _ in range(20):
            await step(app, pilot)
            strips = screen._compositor.render_strips()
            edge = "".join(strip.text[-2:] for strip in strips)
            assert not blocks & set(edge), edge
            pane = screen.query_one("#throttling").query_one(VerticalScroll)
            scrolled |= pane.show_vertical_scrollbar
        assert scrolled  # the tab was taller than the screen: its scrollbar was drawn

    drive(app, scenario, size=(120, 40))


def test_line_views_draw_what_textuals_styles_cache_draws() -> None:
    """LinesView and HistorySpark draw their lines themselves (padded, filtered, kept per
    line) instead of through Textual's styles cache: tick after tick the Throttling tab's
    whole screen, composed as it is drawn, is cell for cell and style for style the screen
    composed through the styles cache (their own path switched off), and so is a cropped
    part of its table."""
    from textual.geometry import Region

    from ctop_py.ui.app import CtopApp
    from ctop_py.ui.screens.container import ContainerScreen
    from ctop_py.ui.widgets.lines_view import LinesView
    from ctop_py.ui.widgets.spark import HistorySpark
    from tests.test_ui import drive, make_app, open_screen, step

    app = make_app(demo.snapshots(30))

    def segments(strips: list[Any]) -> list[list[Any]]:
        return [[(s.text, s.style) for s in strip] for strip in strips]

    def through_styles_cache(screen: ContainerScreen) -> list[list[Any]]:
        views: list[Any] = [*screen.query(LinesView), *screen.query(HistorySpark)]
        for view in views:
            view._styles_cache.clear()
            view._plain_box = lambda: False
        try:
            return segments(screen._compositor.render_strips())
        finally:
            for view in views:
                del view._plain_box

    async def scenario(app: CtopApp, pilot: Any) -> None:
        await step(app, pilot, 2)
        screen = await open_screen(app, pilot, "spinner", "2")
        table = screen.query_one("#thr-table", LinesView)
        for tick in range(8):
            await step(app, pilot)
            drawn = segments(screen._compositor.render_strips())
            assert table._plain.drawn, "the table was not drawn by its own path"
            assert screen.query_one("#thr-cpu", HistorySpark)._plain.drawn
            assert drawn == through_styles_cache(screen), f"tick {tick}"
            crop = Region(3, 1, 20, 5)  # a part of it, as a partial update asks for
            mine = segments(table.render_lines(crop))
            table._styles_cache.clear()
            assert mine == segments(table._styles_cache.render_widget(table, crop))
        await pilot.press("1")  # the Overview's limits: a LinesView too
        await step(app, pilot)
        assert screen.query_one("#ov-limits", LinesView)._plain.drawn
        assert screen.query_one("#ov-mem", HistorySpark)._plain.drawn
        assert segments(screen._compositor.render_strips()) == through_styles_cache(screen)
        # The lines kept are the ones shown, and drawn again when the widget's text style
        # (its background the same) or its width changes.
        assert len(table._plain.drawn) <= len(table.lines)
        limits = screen.query_one("#ov-limits", LinesView)
        limits.styles.color = "red"
        await pilot.pause()
        assert segments(screen._compositor.render_strips()) == through_styles_cache(screen)
        await pilot.resize_terminal(100, 40)
        await step(app, pilot)
        assert segments(screen._compositor.render_strips()) == through_styles_cache(screen)

    drive(app, scenario, size=(120, 40))
