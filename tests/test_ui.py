"""The Textual app driven by Pilot with injected Snapshots: no host, no wall-clock sleeps.

Each test steps the app with `app.collect()` (one Snapshot from a StaticSource, applied by the
UI thread) instead of a timer.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from rich.text import Text
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TabbedContent, Tree
from textual.worker import WorkerFailed

from ctop_py import demo, present
from ctop_py.launch import AppOptions
from ctop_py.model import Snapshot
from ctop_py.ui import app as ui_app
from ctop_py.ui import columns as cols
from ctop_py.ui.app import CtopApp
from ctop_py.ui.columns import RowInput
from ctop_py.ui.commands import CtopCommands
from ctop_py.ui.history import container_key
from ctop_py.ui.screens.container import TABS, ContainerScreen
from ctop_py.ui.screens.containers import ContainersScreen
from ctop_py.ui.screens.help import HelpScreen
from ctop_py.ui.screens.namespaces import NamespacesScreen
from ctop_py.ui.source import SelfStats, StaticSource, fixed_names, fixed_probe
from ctop_py.ui.widgets.container_table import ContainerTable
from ctop_py.ui.widgets.detail_pane import DetailPane
from ctop_py.ui.widgets.lines_view import LinesView
from tests.conftest import refreshes_asked

SIZE = (170, 40)
TEST_OPTIONS = AppOptions(autostart=False)  # no timer: each test steps with collect()
MARKUP_NAME = "[bold red]x[/]"
ESCAPE_NAME = "evil\x1b]0;pwned\x07name"
MARKUP_IMAGE = "[link=http://example.invalid]img[/link]:1"
MARKUP_COMMAND = ("sh", "-c", "echo [blink]hi[/blink] \x1b[2J")


def make_app(snapshots: Sequence[Snapshot], **kwargs: Any) -> CtopApp:
    return ui_app.make_app(
        StaticSource(snapshots),
        TEST_OPTIONS,
        probe=fixed_probe(SelfStats(1.0, 50 * 1024 * 1024)),
        users=fixed_names({0: "root", 999: "postgres"}),
        **kwargs,
    )


Scenario = Callable[[CtopApp, Pilot[int]], Awaitable[None]]


def drive(app: CtopApp, scenario: Scenario, size: tuple[int, int] = SIZE) -> None:
    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await scenario(app, pilot)

    asyncio.run(run())


async def step(app: CtopApp, pilot: Pilot[int], times: int = 1) -> None:
    for _ in range(times):
        await app.collect().wait()
        await pilot.pause()


def table(app: CtopApp) -> ContainerTable:
    return app.screen.query_one(ContainerTable)


def keys_in_order(app: CtopApp) -> list[str]:
    return [str(row.key.value) for row in table(app).ordered_rows]


def cell(app: CtopApp, key: str, column: str) -> str:
    value = table(app).get_cell(key, column)
    assert isinstance(value, Text)
    return value.plain


def key_of(app: CtopApp, name: str) -> str:
    assert app.snapshot is not None
    return next(container_key(v) for v in app.snapshot.containers if v.name == name)


async def open_screen(
    app: CtopApp, pilot: Pilot[int], name: str, tab: str | None = None
) -> ContainerScreen:
    """The container screen of the container named `name`, on the tab of key `tab` if given."""
    app.open_container(key_of(app, name))
    await pilot.pause()
    if tab is not None:
        await pilot.press(tab)
    screen = app.screen
    assert isinstance(screen, ContainerScreen)
    return screen


def names_in_order(app: CtopApp) -> list[str]:
    assert app.snapshot is not None
    by_key = {container_key(v): v.name for v in app.snapshot.containers}
    return [by_key[k] for k in keys_in_order(app)]


def static_text(app: CtopApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    content = widget.content
    if isinstance(content, Text):
        return content.plain
    return str(content)


SNAPSHOTS = demo.snapshots(12)


def hostile_specs() -> list[demo.Spec]:
    specs = demo.default_specs()
    spinner = next(s for s in specs if s.name == "spinner")
    web = next(s for s in specs if s.name == "web")
    marked = replace(
        spinner,
        name=MARKUP_NAME,
        image=MARKUP_IMAGE,
        labels={"[b]k[/b]": "[i]v[/i]"},
        procs=[replace(spinner.procs[0], cmdline=MARKUP_COMMAND)],
    )
    escaped = replace(web, name=ESCAPE_NAME)
    return [s for s in specs if s.name not in ("spinner", "web")] + [marked, escaped]


# ---------------------------------------------------------------------------------------------


def test_rows_appear_for_injected_snapshots() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        assert table(app).row_count == 0
        await step(app, pilot, 2)
        assert isinstance(app.screen, ContainersScreen)
        assert app.snapshot is not None
        running = {container_key(v) for v in app.snapshot.containers if v.raw.pids}
        assert set(keys_in_order(app)) == running
        assert cell(app, key_of(app, "spinner"), "name") == "spinner"
        assert cell(app, key_of(app, "spinner"), "image") == "busybox:1.36"

    drive(app, scenario)


def test_unknown_is_a_dash_and_no_limit_is_infinity() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot)  # the first sample: no rates yet
        web, spinner, sandbox = (key_of(app, n) for n in ("web", "spinner", "bash[7310]"))
        assert cell(app, web, "cpu") == present.DASH
        assert cell(app, spinner, "thr") == present.DASH
        assert cell(app, web, "net") == "– / –"
        assert cell(app, web, "mem").endswith(f"/ {present.NO_LIMIT}")
        # A percentage of no limit is none ("∞" there read as a figure); the limit says ∞.
        assert cell(app, web, "memp") == present.DASH
        assert cell(app, web, "cpuq") == present.DASH
        assert cell(app, web, "pids") == f"3 / {present.NO_LIMIT}"
        # A sandbox has no cgroup of its own: its limits are unknown, not unlimited.
        assert cell(app, sandbox, "mem").endswith(f"/ {present.DASH}")
        assert cell(app, sandbox, "memp") == present.DASH
        await step(app, pilot)
        assert cell(app, web, "cpu") != present.DASH
        assert cell(app, spinner, "cpuq") == "100.0"
        assert float(cell(app, spinner, "thr")) > 50

    drive(app, scenario)


def test_sort_keys_and_the_cursor_follows_its_container() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 3)
        screen = app.screen
        assert isinstance(screen, ContainersScreen)
        cpu = [v for v in app.snapshot.containers if v.raw.pids] if app.snapshot else []
        expected = sorted(cpu, key=lambda v: -(v.usage.cpu_percent or 0))
        assert names_in_order(app)[0] == expected[0].name  # default: CPU %, largest first

        table(app).select_key(key_of(app, "spinner"))
        await pilot.press("N")  # by name
        assert screen.sort_key == "name"
        names = names_in_order(app)
        assert names == sorted(names, key=str.lower)
        assert table(app).selected_key == key_of(app, "spinner")

        await pilot.press("r")
        assert names_in_order(app) == names[::-1]
        assert table(app).selected_key == key_of(app, "spinner")

        await pilot.press("M")  # memory used, largest first
        assert names_in_order(app)[0] == "db"
        await pilot.press("s")  # cycles to the next column
        assert screen.sort_key == "memp"
        await step(app, pilot, 2)  # refreshes keep the cursor on its container too
        assert table(app).selected_key == key_of(app, "spinner")

    drive(app, scenario)


def test_filter_by_name_image_or_id() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        await pilot.press("slash", *"postgres")
        assert names_in_order(app) == ["db"]  # by image
        await pilot.press("enter")
        await step(app, pilot)
        assert names_in_order(app) == ["db"]  # the filter stays after enter
        await pilot.press("slash", *("backspace",) * 8, *"c0ffee")
        assert names_in_order(app) == ["spinner"]  # by id prefix
        await pilot.press("escape")
        assert len(names_in_order(app)) == 8

    drive(app, scenario)


def test_all_or_running_only() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        assert "nightly-report" not in names_in_order(app)
        await pilot.press("a")
        assert "nightly-report" in names_in_order(app)
        exited = key_of(app, "nightly-report")
        assert cell(app, exited, "state") == "exited"
        assert cell(app, exited, "cpu") == present.DASH

    drive(app, scenario)


def test_pause_and_refresh_interval() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot)
        await pilot.press("p")
        assert app.paused
        app.tick()  # the timer's callback does nothing while paused
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.generation == 1
        assert "PAUSED" in static_text(app, "HostHeader")
        await pilot.press("space")
        assert not app.paused
        app.tick()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.generation == 2

        await pilot.press("plus")
        assert app.interval_s == 0.5
        await pilot.press("minus", "minus", "minus")
        assert app.interval_s == 3.0

    drive(app, scenario)


def test_help_screen_lists_the_keys() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        # The help is built from the bindings: every sort letter and the main keys are there.
        texts = _help_lines(app)
        for needle in ("Sort by name", "Pause", "Namespaces", "Filter", "Reverse", "Quit"):
            assert any(needle in line for line in texts), needle
        await pilot.press("escape")
        assert isinstance(app.screen, ContainersScreen)

    drive(app, scenario)


def _help_lines(app: CtopApp) -> list[str]:
    from rich.console import Console

    widget = app.screen.query_one("#help-text", Static)
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text().splitlines()


def test_namespaces_screen_lists_every_namespace() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NamespacesScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.screen.query_one(Tree)
        types = [str(node.data) for node in tree.root.children]
        assert types == ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]
        net = tree.root.children[types.index("net")]
        shared = [n for n in net.children if "web-envoy" in str(n.label)]
        assert shared and "web" in str(shared[0].label) and "(shared)" in str(shared[0].label)
        await pilot.press("escape")
        assert isinstance(app.screen, ContainersScreen)

    drive(app, scenario)


def test_enter_opens_the_container_screen_with_its_tabs() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 3)
        first = keys_in_order(app)
        await pilot.press("j", "j")
        assert table(app).selected_key == first[2]
        await pilot.press("k")
        assert table(app).selected_key == first[1]
        table(app).select_key(key_of(app, "spinner"))
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        assert screen.key == key_of(app, "spinner")
        tabs = screen.query_one(TabbedContent)
        assert [p.id for p in tabs.query("TabPane")] == [t for t, _ in TABS]
        assert "spinner" in static_text(app, "#title")
        await pilot.press("2")
        assert tabs.active == "throttling"
        sentence = static_text(app, "#thr-sentence")
        assert sentence.startswith("throttled in ")
        assert "of its 0.10 CPU quota" in sentence
        await pilot.press("3")
        procs = screen.query_one("#procs", DataTable)
        assert procs.row_count == 1
        assert (
            procs.get_cell_at(Coordinate(0, 2)).plain == "root"
        )  # uid 0, named by the injected lookup
        await pilot.press("5")
        pane = screen.query_one("#pane-layers", DetailPane)
        assert "layers load here" in str(pane.query_one(Static).content)
        await pilot.press("escape")
        assert isinstance(app.screen, ContainersScreen)
        assert table(app).selected_key == key_of(app, "spinner")

    drive(app, scenario)


def test_container_screen_says_exited_when_the_container_vanishes() -> None:
    specs = demo.default_specs()
    before = demo.snapshots(3, specs)
    after = demo.snapshots(5, [s for s in specs if s.name != "db"])[3:]
    app = make_app([*before, *after])

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 3)
        db = key_of(app, "db")
        app.open_container(db)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        assert not screen.query_one("#exited").display
        await step(app, pilot)
        assert screen.exited
        assert screen.query_one("#exited").display
        assert "container exited" in static_text(app, "#exited")
        for tab in "12345671":  # every tab still renders the last view
            await pilot.press(tab)
        await step(app, pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, ContainersScreen)
        assert db not in keys_in_order(app)

    drive(app, scenario)


def test_vanished_rows_are_removed_and_new_ones_added() -> None:
    specs = demo.default_specs()
    first = demo.snapshots(2, [s for s in specs if s.name != "cache"])
    second = demo.snapshots(4, [s for s in specs if s.name != "api"])[2:]
    app = make_app([*first, *second])

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        assert "api" in names_in_order(app) and "cache" not in names_in_order(app)
        await step(app, pilot)
        assert "api" not in names_in_order(app) and "cache" in names_in_order(app)
        assert len(app.histories.by_key) == len(second[0].containers)  # no history kept for api

    drive(app, scenario)


def test_only_changed_cells_are_updated() -> None:
    base = demo.snapshots(3)[-1]
    # The same derived values under new raw samples: nothing on screen changes.
    same = [replace(base, raw=replace(base.raw, monotonic_ns=i)) for i in range(12)]
    views = list(base.containers)
    i = next(n for n, v in enumerate(views) if v.name == "cache")
    views[i] = replace(views[i], usage=replace(views[i].usage, cpu_percent=55.5))
    changed = replace(same[-1], containers=tuple(views), raw=replace(base.raw, monotonic_ns=99))
    app = make_app([*same, changed])

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 10)  # the sparklines are full: constant from here on
        counted = table(app).cell_updates
        await step(app, pilot, 2)
        assert table(app).cell_updates == counted
        await step(app, pilot)
        updated = table(app).cell_updates - counted
        assert 1 <= updated <= 2  # CPU % and its sparkline, nothing else
        assert cell(app, key_of(app, "cache"), "cpu") == "55.5"

    drive(app, scenario)


def test_a_changed_cell_renders_its_row_only_and_the_screen_shows_it() -> None:
    """The table renders a row again only when one of its cells changed (or the rows moved),
    and of that row only the changed cell: what it draws from its caches must be what a fresh
    render draws, the new value included, on the very next tick."""
    base = demo.snapshots(3)[-1]
    same = [replace(base, raw=replace(base.raw, monotonic_ns=i)) for i in range(13)]
    views = list(base.containers)
    i = next(n for n, v in enumerate(views) if v.name == "cache")
    # A figure the history does not keep (the sparkline's CPU would change the row anyway).
    views[i] = replace(views[i], usage=replace(views[i].usage, pids_current=4321))
    changed = replace(same[-1], containers=tuple(views), raw=replace(base.raw, monotonic_ns=99))
    app = make_app([*same, changed])

    def lines(t: ContainerTable) -> list[str]:
        return [t.render_line(y).text for y in range(t.size.height)]

    def fresh(t: ContainerTable) -> list[str]:
        t._row_lines.clear()
        t._clear_caches()
        return lines(t)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await pilot.press("N")  # by name: the new figure moves no row
        await step(app, pilot, 12)  # the sparklines are full: constant from here on
        t = table(app)
        shown = lines(t)
        assert shown == fresh(t)
        assert not any("4321" in line for line in shown)
        derived = t.rows_derived
        await step(app, pilot)  # the same inputs: no row's cells are computed again
        assert t.rows_derived == derived
        rendered, cells = t.rows_rendered, t.cells_rendered
        with refreshes_asked(t) as asked:
            await step(app, pilot)
        assert t.rows_derived - derived == 1  # the changed row's, not the table's
        # The one repaint asked of Textual is that row's line, not the table's height.
        assert asked == [(t._get_row_region(t.get_row_index(key_of(app, "cache"))),)]
        shown = lines(t)
        row = t.get_row_index(key_of(app, "cache")) + t.header_height
        assert "4321" in shown[row]
        assert t.rows_rendered - rendered == 1  # that row, not the table
        assert t.cells_rendered - cells == 1  # that cell, not its row's
        assert shown == fresh(t)

    drive(app, scenario)


def test_a_row_that_moves_is_rendered_again_and_the_rows_that_stay_are_not() -> None:
    """Sorted by CPU, a container whose CPU jumps moves to the top: the rows between its old
    and new place move down one and are rendered again, the rows below it are not; what is
    drawn is what a fresh render draws."""
    base = demo.snapshots(3)[-1]
    same = [replace(base, raw=replace(base.raw, monotonic_ns=i)) for i in range(13)]
    app = make_app(same)

    def lines(t: ContainerTable) -> list[str]:
        return [t.render_line(y).text for y in range(t.size.height)]

    def fresh(t: ContainerTable) -> list[str]:
        t._row_lines.clear()
        t._clear_caches()
        return lines(t)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 12)
        t = table(app)
        order = keys_in_order(app)
        assert len(order) >= 4
        mover = order[-2]  # not the last row: one row stays below it
        snapshot = app.snapshot
        assert snapshot is not None
        views = [
            replace(v, usage=replace(v.usage, cpu_percent=999.0))
            if container_key(v) == mover
            else v
            for v in snapshot.containers
        ]
        t.select_key(order[-1])  # the cursor on a row that does not move
        lines(t)
        rendered = t.rows_rendered
        with refreshes_asked(t) as asked:
            t.show(
                {
                    container_key(v): RowInput(v, app.histories.get(container_key(v)))
                    for v in views
                    if v.raw.active
                },
                cols.BY_KEY["cpu"],
                False,
            )
            await pilot.pause()
        assert keys_in_order(app)[0] == mover
        # Textual is asked to repaint each moved row's line (the last row's never), not the
        # whole table.
        moved = {(t._get_row_region(index),) for index in range(len(order) - 1)}
        assert asked and set(asked) <= moved, asked
        shown = lines(t)
        assert t.rows_rendered - rendered == len(order) - 1  # all but the last row moved
        assert shown == fresh(t)
        # The table's O(1) row regions (every row one line high) are DataTable's own.
        for index in range(-1, t.row_count + 1):
            assert t._get_row_region(index) == DataTable._get_row_region(t, index)

    drive(app, scenario)


def test_a_tick_that_changes_no_row_keeps_the_order_and_a_change_sorts_again() -> None:
    """A tick whose rows have the inputs of the tick before changes nothing (the sort is not
    run again); the next change of a sort value moves its row at once, to where a fresh
    sort of the same rows puts it, and a container that comes or goes shows that tick."""
    base = demo.snapshots(3)[-1]
    same = [replace(base, raw=replace(base.raw, monotonic_ns=i)) for i in range(13)]
    views = list(base.containers)
    mover = min(range(len(views)), key=lambda n: views[n].usage.cpu_percent or 0.0)
    views[mover] = replace(views[mover], usage=replace(views[mover].usage, cpu_percent=999.0))
    jumped = replace(base, containers=tuple(views), raw=replace(base.raw, monotonic_ns=99))
    fewer = replace(
        jumped,
        containers=tuple(v for i, v in enumerate(views) if i != mover),
        raw=replace(base.raw, monotonic_ns=100),
    )
    app = make_app([*same, jumped, fewer, jumped])

    def fresh_order(snapshot: Snapshot | None) -> list[str]:
        assert snapshot is not None
        rows = {
            container_key(v): RowInput(v, app.histories.get(container_key(v)))
            for v in snapshot.containers
            if v.raw.active
        }
        return cols.order(rows, cols.BY_KEY["cpu"], False)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 12)  # the sparklines are full: constant from here on
        t = table(app)
        order, unchanged = keys_in_order(app), t.rows_unchanged
        await step(app, pilot)
        assert t.rows_unchanged == unchanged + 1 and keys_in_order(app) == order
        await step(app, pilot)  # jumped: its CPU is the highest now
        moved = key_of(app, views[mover].name)
        assert keys_in_order(app)[0] == moved != order[0]
        assert keys_in_order(app) == fresh_order(app.snapshot)
        assert t.rows_unchanged == unchanged + 1
        await step(app, pilot)  # gone
        assert moved not in keys_in_order(app)
        assert keys_in_order(app) == fresh_order(app.snapshot)
        await step(app, pilot)  # back: a new row, in its place
        assert keys_in_order(app)[0] == moved
        assert cell(app, moved, "cpu") == "999.0"

    drive(app, scenario)


def test_rows_out_of_view_get_their_cells_when_they_come_into_view() -> None:
    """Of many changed rows, only those in view (and a few beyond) have their cells made;
    a row scrolled into view shows exactly its newest values, as a fresh render does."""
    base = demo.snapshots(3)[-1]
    running = [v for v in base.containers if v.raw.active]

    def many(cpu: float, at: int) -> Snapshot:
        views = tuple(
            replace(
                v,
                raw=replace(v.raw, id=f"{v.id}{n:03d}", name=f"{v.name}-{n:03d}"),
                usage=replace(v.usage, cpu_percent=cpu + n),
            )
            for n in range(60)
            for v in running[:1]
        )
        return replace(base, containers=views, raw=replace(base.raw, monotonic_ns=at))

    app = make_app([*(many(1.0, i) for i in range(13)), many(50.0, 99)])

    def lines(t: ContainerTable) -> list[str]:
        return [t.render_line(y).text for y in range(t.size.height)]

    def fresh(t: ContainerTable) -> list[str]:
        t._row_lines.clear()
        t._clear_caches()
        return lines(t)

    def expected_cpu(key: str) -> str:
        snapshot = app.snapshot
        assert snapshot is not None
        view = next(v for v in snapshot.containers if container_key(v) == key)
        return cols.BY_KEY["cpu"].cell(RowInput(view, app.histories.get(key)))[0]

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await pilot.press("N")  # by name: the new figures move no row
        await step(app, pilot, 13)
        t = table(app)
        assert t.row_count == 60 and t.size.height < 30
        derived = t.rows_derived
        await step(app, pilot)  # every row's CPU changed
        made = t.rows_derived - derived
        assert t.size.height - 1 <= made <= t.size.height + 4 < 60
        for key in keys_in_order(app)[: t.size.height - 2]:
            assert cell(app, key, "cpu") == expected_cpu(key)
        assert lines(t) == fresh(t)
        await pilot.press("G")  # the last row: the bottom of the table comes into view
        await pilot.pause()
        assert t.scroll_y > 0
        for key in keys_in_order(app)[-(t.size.height - 2) :]:
            assert cell(app, key, "cpu") == expected_cpu(key)
        shown = lines(t)
        assert shown == fresh(t)
        assert any(expected_cpu(keys_in_order(app)[-1]) in line for line in shown)

    drive(app, scenario, size=(160, 24))


def test_untrusted_strings_are_shown_literally() -> None:
    snapshots = demo.snapshots(3, hostile_specs())
    app = make_app(snapshots)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 3)
        marked, escaped = key_of(app, MARKUP_NAME), key_of(app, ESCAPE_NAME)
        assert cell(app, marked, "name") == MARKUP_NAME  # brackets kept, not parsed
        assert cell(app, marked, "image") == present.safe(MARKUP_IMAGE, 24)
        assert cell(app, escaped, "name") == "evil\\x1b]0;pwned\\x07name"
        assert "\x1b" not in cell(app, escaped, "name")

        app.open_container(marked)
        await pilot.pause()
        assert static_text(app, "#title").startswith(MARKUP_NAME)
        await pilot.press("3")
        procs = app.screen.query_one("#procs", DataTable)
        command = procs.get_cell_at(Coordinate(0, 7)).plain
        assert command == present.safe(" ".join(MARKUP_COMMAND), 240)
        assert "[blink]" in command and "\x1b" not in command

        # The command palette shows names literally too (its own highlighter parses markup).
        provider = CtopCommands(app.screen)
        hits = [hit async for hit in provider.search(f"Open {MARKUP_NAME}")]
        prompts = [str(getattr(h.prompt, "plain", h.prompt)) for h in hits]
        assert f"Open {MARKUP_NAME}" in prompts

    drive(app, scenario)


def test_mouse_click_on_a_header_sorts_and_on_a_row_selects() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        screen = app.screen
        assert isinstance(screen, ContainersScreen)
        # Inside the table's border: row 1 is the header, row 2 the first container.
        await pilot.click(ContainerTable, offset=(3, 1))
        await pilot.pause()
        assert screen.sort_key == "name"
        third = keys_in_order(app)[2]
        await pilot.click(ContainerTable, offset=(3, 4))
        await pilot.pause()
        assert table(app).selected_key == third
        await pilot.click(ContainerTable, offset=(3, 4))  # a second click opens it
        await pilot.pause()
        assert isinstance(app.screen, ContainerScreen) and app.screen.key == third

    drive(app, scenario)


def test_command_palette_offers_the_actions() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        provider = CtopCommands(app.screen)
        discovered = [hit.text async for hit in provider.discover()]
        for title in ("Pause / resume", "Namespaces", "Help", "Sort by name", "Open spinner"):
            assert title in discovered
        hits = [hit async for hit in provider.search("sort by memory used")]
        best = max(hits, key=lambda h: h.score)
        best.command()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ContainersScreen) and screen.sort_key == "mem"
        hits = [h async for h in provider.search("pause / resume")]
        max(hits, key=lambda h: h.score).command()
        assert app.paused

    drive(app, scenario)


def test_detail_pane_is_filled_by_a_loader_in_a_worker() -> None:
    calls: list[str] = []

    def layers(view: Any) -> str:
        calls.append(view.name)
        return f"layers of {view.name}\n[bold]literal[/bold]"

    app = make_app(SNAPSHOTS, loaders={"layers": layers})

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        app.open_container(key_of(app, "web"))
        await pilot.pause()
        assert calls == []  # nothing is loaded before its tab is shown
        await pilot.press("5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = app.screen.query_one("#pane-layers", DetailPane)
        shown = pane.query_one(Static).content
        assert isinstance(shown, Text)
        assert shown.plain == "layers of web\n[bold]literal[/bold]"
        await step(app, pilot)
        assert calls == ["web"]  # not reloaded on every tick

    drive(app, scenario)


def test_a_failing_source_is_reported_and_sampling_goes_on() -> None:
    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        def next(self) -> Snapshot | None:
            self.calls += 1
            if self.calls == 1:
                raise OSError("/proc/stat: [b]no[/b] access")
            return SNAPSHOTS[min(self.calls - 2, len(SNAPSHOTS) - 1)]

        def want_detail(self, ids: frozenset[str]) -> bool:
            return False

        def close(self) -> None:
            pass

    app = ui_app.make_app(Flaky(), TEST_OPTIONS, probe=fixed_probe(SelfStats(None, None)))
    said: list[str] = []
    setattr(app, "notify", lambda message, **_kw: said.append(message))  # noqa: B010

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        worker = app.collect()
        with pytest.raises(WorkerFailed):
            await worker.wait()
        await pilot.pause()
        assert app.generation == 0
        assert said == ["sampling failed: /proc/stat: [b]no[/b] access"]  # notify(markup=False)
        app.tick()  # not stuck "collecting"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.generation == 1

    drive(app, scenario)


def test_container_screen_tabs_cost_no_layout_pass_per_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In steady state (the history full) a tick redraws what changed on the shown tab and lays
    nothing out again: every Static.update() with a layout pass measured the whole screen,
    which was most of the Throttling tab's 11 % of a core (BENCHMARKS.md, the app per screen).
    """
    from textual.scrollbar import ScrollBar
    from textual.widget import Widget

    from ctop_py.ui.history import HISTORY_LENGTH

    app = make_app(demo.snapshots(HISTORY_LENGTH + 12))
    layouts: list[str] = []
    refresh = Widget.refresh

    def counting(self: Widget, *regions: Any, **kw: Any) -> Any:
        if kw.get("layout") and not isinstance(self, ScrollBar):
            layouts.append(f"{type(self).__name__}#{self.id}")
        return refresh(self, *regions, **kw)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, HISTORY_LENGTH + 2)
        table(app).select_key(key_of(app, "spinner"))
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        for tab in ("1", "2", "4", "8"):
            await pilot.press(tab)
            await step(app, pilot, 2)  # the tab's first frames may lay out
            layouts.clear()
            monkeypatch.setattr(Widget, "refresh", counting)
            await step(app, pilot, 3)
            monkeypatch.setattr(Widget, "refresh", refresh)
            assert layouts == [], (screen.active_tab, layouts)
        # …and the throttling table still shows the newest interval first.
        await pilot.press("2")
        await step(app, pilot)
        lines = app.screen.query_one("#thr-table", LinesView).plain()
        assert lines[0] == "recent intervals, newest first"
        assert lines[1].split()[0] == "AGE" and lines[2].split()[0] == "now"
        assert len(lines) == 2 + 60

    drive(app, scenario)


def test_young_throttling_tab_grows_its_table_without_a_layout_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the history fills, the Throttling table gains a row a second inside a box as tall
    as its 60 rows will be: the new interval is on screen at once, and nothing is laid out."""
    from textual.scrollbar import ScrollBar
    from textual.widget import Widget

    app = make_app(demo.snapshots(20))
    layouts: list[str] = []
    refresh = Widget.refresh

    def counting(self: Widget, *regions: Any, **kw: Any) -> Any:
        if kw.get("layout") and not isinstance(self, ScrollBar):
            layouts.append(f"{type(self).__name__}#{self.id}")
        return refresh(self, *regions, **kw)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        table(app).select_key(key_of(app, "spinner"))
        await pilot.press("enter")
        await pilot.press("2")
        await step(app, pilot, 2)
        for _ in range(3):
            rows = len(app.screen.query_one("#thr-table", LinesView).plain())
            monkeypatch.setattr(Widget, "refresh", counting)
            await step(app, pilot)
            monkeypatch.setattr(Widget, "refresh", refresh)
            assert layouts == []
            lines = app.screen.query_one("#thr-table", LinesView).plain()
            assert len(lines) == rows + 1 and lines[2].split()[0] == "now"

    drive(app, scenario)


def test_overview_tables_kept_while_their_inputs_are_the_same_and_redrawn_on_a_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The limits table is made again only when the container's cgroup or usage changed (an
    idle container's are the same objects tick to tick); a changed figure is shown on the
    next tick."""
    base = demo.snapshots(3)[-1]
    same = [replace(base, raw=replace(base.raw, monotonic_ns=i)) for i in range(8)]
    views = list(base.containers)
    i = next(n for n, v in enumerate(views) if v.name == "spinner")
    used = 123 * 1024 * 1024 + 4567
    views[i] = replace(views[i], usage=replace(views[i].usage, memory_used_bytes=used))
    changed = replace(same[-1], containers=tuple(views), raw=replace(base.raw, monotonic_ns=99))
    app = make_app([*same, changed])
    updates: list[str] = []
    update, show = Static.update, LinesView.show

    def counting(self: Static, *args: Any, **kw: Any) -> Any:
        updates.append(str(self.id))
        return update(self, *args, **kw)

    def counting_show(self: LinesView, *args: Any, **kw: Any) -> Any:
        updates.append(str(self.id))
        return show(self, *args, **kw)

    def limits_text(app: CtopApp) -> str:
        widget = app.screen.query_one("#ov-limits", LinesView)
        return "\n".join(s.text for s in widget.render_lines(widget.region.reset_offset))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        table(app).select_key(key_of(app, "spinner"))
        await pilot.press("enter")
        await step(app, pilot, 2)
        before = limits_text(app)
        assert present.size(used) not in before
        monkeypatch.setattr(Static, "update", counting)
        monkeypatch.setattr(LinesView, "show", counting_show)
        await step(app, pilot, 4)  # the rest of the unchanged samples
        assert "ov-limits" not in updates and "ov-psi" not in updates
        await step(app, pilot)  # the changed sample
        monkeypatch.setattr(Static, "update", update)
        monkeypatch.setattr(LinesView, "show", show)
        assert "ov-limits" in updates
        await pilot.pause()
        assert present.size(used) in limits_text(app)

    drive(app, scenario)
