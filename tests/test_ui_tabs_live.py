"""The container screen's tabs redraw only what changed, and what they draw is the kernel's
count: a throttled busy loop on the real engine, its cgroup's files read beside the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.strip import Strip

from ctop_py.host import HostRoot
from ctop_py.sources import LiveSource
from ctop_py.ui.app import CtopApp, make_app
from ctop_py.ui.screens.container import ContainerScreen
from ctop_py.ui.source import SelfStats, fixed_probe
from ctop_py.ui.widgets.lines_view import LinesView, make_strip
from ctop_py.ui.widgets.process_table import ProcessTable
from tests.conftest import BASE_IMAGE, SPIN, RunContainer, refreshes_asked
from tests.groundtruth import KernelCpu, kernel_cgroup_dir, kernel_cpu
from tests.test_ui import TEST_OPTIONS, drive, key_of, open_screen, step

pytestmark = pytest.mark.docker


def drawn(view: LinesView) -> list[Strip]:
    """What the widget draws for each of its lines (from its strip cache where it has one)."""
    return [view.render_line(y) for y in range(len(view.lines))]


def fresh(view: LinesView) -> list[Strip]:
    """The same lines made anew."""
    return [make_strip(line, view.rich_style) for line in view.lines]


def same(a: list[Strip], b: list[Strip]) -> bool:
    return [list(s) for s in a] == [list(s) for s in b]


def _throttled_app(run_container: RunContainer) -> tuple[Any, int, LiveSource, CtopApp]:
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, network_mode="none")
    pid = int(ctr.attrs["State"]["Pid"])
    source = LiveSource(HostRoot())
    app = make_app(source, TEST_OPTIONS, probe=fixed_probe(SelfStats(1.0, 1 << 20)))
    return ctr, pid, source, app


def test_throttling_rows_are_made_once_and_are_the_kernels_counts(
    run_container: RunContainer,
) -> None:
    """Each tick works out the cells of the new interval only (the others move down a row,
    unchanged); the newest row's PERIODS and THROTTLED are the deltas of the cgroup's
    cpu.stat between the two samples (bracketed by reads of the file just before and after
    each sample); what the table draws is what a fresh render draws; the Overview, not
    shown, is not updated."""
    ctr, pid, source, app = _throttled_app(run_container)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        app.open_container(key_of(app, ctr.name))
        await pilot.pause()
        await pilot.press("2")
        before: tuple[KernelCpu, KernelCpu] | None = None  # around the previous sample
        newest: list[str] | None = None
        await step(app, pilot)
        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        table = screen.query_one("#thr-table", LinesView)
        limits = screen.query_one("#ov-limits", LinesView).lines
        first = kernel_cpu(pid)
        for _ in range(5):
            made = screen.intervals.rows_made
            pre = kernel_cpu(pid)
            await step(app, pilot)
            post = kernel_cpu(pid)
            assert screen.intervals.rows_made - made == 1  # the new interval's row only
            lines = table.plain()
            assert lines[0] == "recent intervals, newest first"
            assert lines[1].split()[:3] == ["AGE", "PERIODS", "THROTTLED"]
            row = lines[2].split()
            assert row[0] == "now"
            if newest is not None:
                # the row of the tick before, one line down, the same but its age
                assert lines[3].split()[-7:] == newest[-7:]
            if before is not None:
                periods, throttled = int(row[1]), int(row[2])
                prev_pre, prev_post = before
                assert pre.nr_periods - prev_post.nr_periods <= periods
                assert periods <= post.nr_periods - prev_pre.nr_periods
                assert pre.nr_throttled - prev_post.nr_throttled <= throttled
                assert throttled <= post.nr_throttled - prev_pre.nr_throttled
            before, newest = (pre, post), row
            assert same(drawn(table), fresh(table))
        # It ran over the five ticks (within one step a throttled spinner may not run at all):
        # a shown Overview would have changed.
        assert post.usage_ns > first.usage_ns
        assert screen.query_one("#ov-limits", LinesView).lines is limits

    try:
        drive(app, scenario)
    finally:
        source.close()


def test_overview_limits_repaint_their_changed_lines_only(run_container: RunContainer) -> None:
    """The limits table shows the cgroup's quota and pids as the kernel's files say; a tick
    makes again only the lines whose text changed, and draws what a fresh render draws."""
    ctr, pid, source, app = _throttled_app(run_container)
    cpu_dir = kernel_cgroup_dir(pid, "cpu")
    v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        screen = await open_screen(app, pilot, ctr.name)
        await step(app, pilot)
        limits = screen.query_one("#ov-limits", LinesView)
        for _ in range(4):
            old, made = limits.lines, limits.lines_made
            await step(app, pilot)
            drawn(limits)  # as the compositor would, whether or not it is on screen
            new = set(limits.lines) - set(old)
            assert limits.lines_made - made == len(new)
            assert same(drawn(limits), fresh(limits))
        if v2:
            quota_s, period_s = (cpu_dir / "cpu.max").read_text().split()
            quota, period = int(quota_s), int(period_s)
        else:
            quota = int((cpu_dir / "cpu.cfs_quota_us").read_text())
            period = int((cpu_dir / "cpu.cfs_period_us").read_text())
        text = limits.plain()
        cpu = next(line for line in text if line.split()[:1] == ["CPU"])
        assert f"{quota / period:.2f} CPU ({quota} µs / {period} µs)" in cpu
        pids_dir = kernel_cgroup_dir(pid, "pids")
        pids = int((pids_dir / "pids.current").read_text())
        row = next(line for line in text if line.split()[:1] == ["pids"])
        assert row.split()[1] == str(pids)

    try:
        drive(app, scenario)
    finally:
        source.close()


def test_processes_tab_repaints_the_changed_row_only(run_container: RunContainer) -> None:
    """The Processes tab shows the container's busy process with the kernel's pid (host and
    in-container, from /proc/<pid>/status); a tick that changes its cells repaints that row's
    line only (DataTable's update_cell repainted every line of the table), and what the
    table draws after those partial repaints is what a render from scratch draws."""
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=500_000_000, network_mode="none")
    pid = int(ctr.attrs["State"]["Pid"])
    nspid = next(
        line.split()[-1]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("NSpid:")
    )
    source = LiveSource(HostRoot())
    app = make_app(source, TEST_OPTIONS, probe=fixed_probe(SelfStats(1.0, 1 << 20)))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        screen = await open_screen(app, pilot, ctr.name, "3")
        await step(app, pilot, 2)
        table = screen.query_one("#procs", ProcessTable)
        row = [table.get_cell_at(Coordinate(0, c)).plain for c in range(2)]
        assert row == [str(pid), nspid]
        with refreshes_asked(table) as asked:  # the repaints the table asked Textual for
            for _ in range(6):
                await step(app, pilot)
        # The spinner's CPU % moved at least once in six ticks; each repaint was its row.
        assert asked
        row_region = table._get_row_region(0)
        assert all(regions == (row_region,) for regions in asked), asked
        drawn = screen._compositor.render_strips()
        table._clear_caches()
        table.refresh()
        fresh = screen._compositor.render_strips()
        assert [list(s) for s in drawn] == [list(s) for s in fresh]

    try:
        drive(app, scenario)
    finally:
        source.close()
