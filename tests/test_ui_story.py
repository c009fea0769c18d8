"""Pilot tests of the story in the app: the diagnosis column and the container screen's first
lines, the Events tab, the host's events screen, the live scroll-back through the ring of
recent samples and saving it, and the help text. Literal samples; no host."""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from ctop_py.derive import derive
from ctop_py.model import EngineEvent, EngineStatus, Lifecycle, RawSample, Snapshot
from ctop_py.record import read_recording
from ctop_py.ring import MAX_BYTES, WINDOW_S
from ctop_py.thresholds import describe
from ctop_py.ui.app import CtopApp
from ctop_py.ui.control import LiveControl
from ctop_py.ui.history import container_key
from ctop_py.ui.screens.container import ContainerScreen
from ctop_py.ui.screens.events import EventsScreen
from ctop_py.ui.screens.help import HelpScreen
from ctop_py.ui.widgets.container_table import ContainerTable
from ctop_py.ui.widgets.events_table import EventsTable
from tests.diagfixtures import container, engine, sample, stats
from tests.test_ui import make_app

SPIN = "a" * 64
OOM = "b" * 64
SIZE = (200, 45)


def story(count: int = 6, engine_status: str = "ok") -> list[RawSample]:
    samples = []
    for i in range(count):
        spinner = container(
            stats(
                usage_ns=i * 10**8,
                periods=i * 10,
                throttled=i * 10,
                throttled_ns=i * 9 * 10**8,
                quota_us=10_000,
            ),
            cid=SPIN,
            name="spinner",
        )
        life = Lifecycle(restart_count=1, last_exit_code=137, oom_killed=True, oom_kills=1)
        oomer = container(None, cid=OOM, name="oomer", state="restarting", lifecycle=life)
        events: tuple[EngineEvent, ...] = ()
        if i == 2:
            events = (
                engine(i - 0.5, "oom", OOM, name="oomer"),
                engine(i - 0.4, "die", OOM, name="oomer", exitCode="137"),
                engine(i - 0.3, "start", OOM, name="oomer"),
            )
        s = sample(i, spinner, oomer, events=events)
        status = EngineStatus.from_text(engine_status)
        samples.append(replace(s, engine_status={"docker": status}))
    return samples


def snapshots(samples: list[RawSample]) -> list[Snapshot]:
    return [derive(samples[i - 1] if i else None, s) for i, s in enumerate(samples)]


def drive(app: CtopApp, scenario: Callable[[CtopApp, Pilot[int]], Awaitable[None]]) -> None:
    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await scenario(app, pilot)

    asyncio.run(run())


async def step(app: CtopApp, pilot: Pilot[int], times: int) -> None:
    for _ in range(times):
        await app.collect().wait()
        await pilot.pause()


async def settle(app: CtopApp, pilot: Pilot[int]) -> None:
    for _ in range(20):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.controller.pending:
            return
        if not app.workers:
            app.collect()
    raise AssertionError("did not settle")


def plain(renderable: object) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def key_of(app: CtopApp, cid: str) -> str:
    assert app.snapshot is not None
    return next(container_key(v) for v in app.snapshot.containers if v.id == cid)


def test_diagnosis_column_and_first_in_the_container_screen() -> None:
    app = make_app(snapshots(story()))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 4)
        table = app.screen.query_one(ContainerTable)
        spin_cell = table.get_cell(key_of(app, SPIN), "diagnosis").plain
        oom_cell = table.get_cell(key_of(app, OOM), "diagnosis").plain
        assert spin_cell.startswith("● CPU quota: throttled in 100 % of periods")
        # The crash-looping container keeps its row in the default view, as restarting.
        assert oom_cell.startswith("● OOM-killed 1×")
        assert table.get_cell(key_of(app, OOM), "state").plain == "restarting"
        app.open_container(key_of(app, SPIN))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        first = screen.query_one("#diagnosis", Static)
        text = plain(first.content)
        assert "critical: CPU quota: throttled in 100 % of periods" in text
        assert "needs ~1" in text
        # First: above the tabs, right under the title.
        assert first.region.y < screen.query_one(TabbedContent).region.y

    drive(app, scenario)


def test_events_tab_and_host_events_newest_first() -> None:
    app = make_app(snapshots(story()))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 4)
        app.open_container(key_of(app, OOM))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        screen.action_tab("events")
        await pilot.pause()
        events = screen.query_one("#ev-table", EventsTable)
        kinds = [events.get_cell_at(Coordinate(r, 2)).plain for r in range(events.row_count)]
        assert kinds == ["restart", "die", "oom-kill"]
        note = plain(screen.query_one("#ev-note", Static).content)
        assert "restarts 1" in note and "last exit code 137" in note
        await pilot.press("escape")
        await pilot.press("E")
        assert isinstance(app.screen, EventsScreen)
        host = app.screen.query_one(EventsTable)
        times = [host.get_cell_at(Coordinate(r, 0)).plain for r in range(host.row_count)]
        assert times == sorted(times, reverse=True) and len(times) >= 4
        rows = [host.get_cell_at(Coordinate(r, 2)).plain for r in range(host.row_count)]
        assert "throttle-start" in rows  # the kernel's, next to the engine's
        note = plain(app.screen.query_one("#events-note", Static).content)
        assert "missing" not in note

    drive(app, scenario)


def test_with_the_engine_down_the_events_say_so() -> None:
    app = make_app(snapshots(story(engine_status="unreachable (no socket)")))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 3)
        await pilot.press("E")
        note = plain(app.screen.query_one("#events-note", Static).content)
        assert "docker engine unreachable (no socket): its events are missing" in note

    drive(app, scenario)


def test_scroll_back_through_the_ring_then_live_and_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = story(8)
    app = make_app(snapshots(samples))
    monkeypatch.chdir(tmp_path)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        controller = app.controller
        assert isinstance(controller, LiveControl)
        await step(app, pilot, 8)
        assert len(controller.ring) == 8 and app.state.replay is None
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        status = app.state.replay
        assert status is not None and status.index == 6 and status.count == 8
        assert app.snapshot is not None and app.snapshot.raw.time == samples[6].time
        assert "scroll-back" in plain(app.screen.query_one("HostHeader").render())
        await pilot.press("home")
        await settle(app, pilot)
        assert app.state.replay is not None and app.state.replay.index == 0
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert app.state.replay is not None and app.state.replay.index == 1
        await pilot.press("end")  # back to live
        await settle(app, pilot)
        assert app.state.replay is None and not controller.scrolling
        await pilot.press("W")
        await app.workers.wait_for_complete()  # written in a worker thread
        await pilot.pause()
        (saved,) = tmp_path.glob("ctop-py-recent-*.ctoprec")
        assert any("saved the last" in str(n.message) for n in app._notifications)
        recording = read_recording(saved)
        assert [s.time for s in recording.samples] == [s.time for s in samples]

    drive(app, scenario)


def test_help_has_the_thresholds_and_the_ring() -> None:
    app = make_app(snapshots(story(2)))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 1)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.query_one("#help-text", Static).content)
        flat = " ".join(text.split())
        for line in describe():  # the help is two columns: each rule's start is on one line
            assert line[:40] in text, line
        assert f"last {WINDOW_S / 60:g} minutes" in flat
        assert f"{MAX_BYTES >> 20} MiB" in flat
        assert "Events" in flat and "Save last 15 min" in flat

    drive(app, scenario)


def test_the_ring_keeps_within_its_cpu_budget() -> None:
    from ctop_py.ui.control import RING_BUDGET
    from ctop_py.ui.source import StaticSource

    cost = [0.0]

    def clock() -> float:  # each append "costs" 0.25 s of CPU: 2.5× its budget of a 1 s tick
        cost[0] += 0.25
        return cost[0]

    samples = story(10)
    control = LiveControl(StaticSource(snapshots(samples)), 1.0, cost_clock=clock)
    for _ in samples:
        assert control.next_frame(frozenset()) is not None
    assert control.ring_every == 3 == math.ceil(0.25 / (RING_BUDGET * 1.0))
    kept = [s.time for s in control.ring.samples()]
    assert kept == [s.time for s in samples[::3]]


def test_live_findings_are_at_most_a_tick_old_and_an_event_shows_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Live, the findings are worked out again only when an event or a container came, or
    every DIAGNOSE_EVERY_S: at a 1 s refresh each tick's findings are those of this sample or
    of the one before (never older), the tick of an event (demo: db's OOM kill at tick 20) has
    its own, the timeline is always this tick's; and a quiet stretch is not diagnosed every
    tick."""
    import itertools
    from typing import Any

    from ctop_py import demo
    from ctop_py.diagnose import Diagnoser
    from ctop_py.ui.app import DIAGNOSE_EVERY_S, make_app
    from ctop_py.ui.replay import Frame
    from ctop_py.ui.source import StaticSource

    snapshots = demo.snapshots(40)
    assert all(b.time - a.time == pytest.approx(1.0) for a, b in itertools.pairwise(snapshots))
    assert DIAGNOSE_EVERY_S <= 2.0
    reference = Diagnoser()
    wanted = []
    for s in snapshots:
        wanted.append(reference.diagnosis(reference.observe(s.raw)))
    app = make_app(StaticSource([]))
    worked = 0
    current = Diagnoser.current

    def counting(self: Diagnoser) -> Any:
        nonlocal worked
        worked += 1
        return current(self)

    monkeypatch.setattr(Diagnoser, "current", counting)
    oom_tick = next(i for i, d in enumerate(wanted) if any(e.kind == "oom-kill" for e in d.events))
    for i, s in enumerate(snapshots):
        got = app._diagnose(Frame(None, s))
        assert got.events == wanted[i].events
        assert got.findings in (wanted[i].findings, wanted[max(0, i - 1)].findings), i
        if i == oom_tick:
            assert got.findings == wanted[i].findings
    assert any(wanted[i].findings != wanted[i - 1].findings for i in range(1, len(wanted)))
    assert worked < len(snapshots)
