"""Replay in the app, over the recording shipped in ctop_py/data/demo.rec (real containers).

The replay clock is a ManualClock: a test advances it and calls `app.tick()` (the timer's
callback) instead of sleeping; every move of the cursor is one collect worker, awaited.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, Static, Tree

from ctop_py.derive import derive
from ctop_py.model import RawSample
from ctop_py.record import read_recording
from ctop_py.sources import TimeError
from ctop_py.ui import fmt
from ctop_py.ui.app import CtopApp, replay_app
from ctop_py.ui.commands import CtopCommands
from ctop_py.ui.history import HISTORY_LENGTH
from ctop_py.ui.replay import MAX_WAIT_S, ManualClock, ReplayPlayer, parse_jump
from ctop_py.ui.screens.container import ContainerScreen
from ctop_py.ui.screens.containers import ContainersScreen
from ctop_py.ui.screens.help import HelpScreen
from ctop_py.ui.screens.jump import JumpScreen
from ctop_py.ui.screens.namespaces import NamespacesScreen
from ctop_py.ui.source import SelfStats, fixed_probe
from ctop_py.ui.widgets.detail_pane import DetailPane
from tests.test_ui import SNAPSHOTS, cell, drive, key_of, make_app, static_text

SIZE = (170, 40)


def _demo() -> tuple[RawSample, ...]:
    resource = importlib.resources.files("ctop_py").joinpath("data", "demo.rec")
    with importlib.resources.as_file(resource) as path:
        recording = read_recording(path)
    assert not recording.truncated
    return recording.samples


SAMPLES = _demo()
START = SAMPLES[0].time
TOTAL = round(SAMPLES[-1].time - START)
API = "demo-api"  # --cpus 0.25, throttled: its CPU % differs from sample to sample


def make_replay(clock: ManualClock | None = None, **kwargs: Any) -> CtopApp:
    return replay_app(
        SAMPLES,
        title="demo.rec",
        clock=clock or ManualClock(),
        tz=UTC,
        autostart=False,
        probe=fixed_probe(SelfStats(1.0, 50 * 1024 * 1024)),
        **kwargs,
    )


def player(app: CtopApp) -> ReplayPlayer:
    assert app.replay is not None
    return app.replay


async def settle(app: CtopApp, pilot: Pilot[int]) -> None:
    """Wait until the frame asked for is on screen."""
    for _ in range(20):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.replay_index == player(app).index and not player(app).pending:
            return
        if not app.workers:
            app.collect()
    raise AssertionError("the replay did not settle")


async def start(app: CtopApp, pilot: Pilot[int]) -> None:
    await app.collect().wait()
    await pilot.pause()
    assert app.replay_index == 0


async def play_for(app: CtopApp, pilot: Pilot[int], clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    app.tick()
    await settle(app, pilot)


def header(app: CtopApp) -> str:
    return static_text(app, "HostHeader")


def position(index: int) -> str:
    offset = round(SAMPLES[index].time - START)
    return f"+{offset} s of {TOTAL} s ({index + 1}/{len(SAMPLES)})"


def cpu_text(index: int, name: str = API) -> str:
    snapshot = derive(SAMPLES[index - 1] if index else None, SAMPLES[index])
    view = next(v for v in snapshot.containers if v.name == name)
    return fmt.pct(view.usage.cpu_percent)


def history_times(app: CtopApp, name: str = API) -> list[float]:
    return [p.time for p in app.histories.get(key_of(app, name)).points]


def times(first: int, last: int) -> list[float]:
    return [s.time for s in SAMPLES[first : last + 1]]


# ---------------------------------------------------------------------------------------------


def test_the_demo_recording_is_long_enough_for_these_tests() -> None:
    assert len(SAMPLES) >= 40
    assert TOTAL >= 35
    names = {c.name for c in SAMPLES[-1].containers}
    assert {API, "demo-worker", "demo-web", "demo-sidecar"} <= names
    # The api's CPU changes between neighbouring samples: the step test can tell them apart.
    assert len({cpu_text(i) for i in range(1, 6)}) > 1


def test_header_says_replay_where_and_how_fast() -> None:
    app = make_replay()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        text = header(app)
        assert "REPLAY demo.rec" in text
        assert "recorded on " + SAMPLES[0].host.hostname in text
        clock = datetime.fromtimestamp(SAMPLES[0].time, UTC).strftime("%H:%M:%S")
        assert clock in text
        assert position(0) in text
        assert "1×" in text and "▶ playing" in text
        assert "ctop-py itself: CPU 1.0%" in text  # our own cost is still shown
        assert "every 1 s" not in text  # the recording sets the pace, not the interval
        assert not app.paused

    drive(app, scenario)


def test_step_forward_and_back_rederives_rates() -> None:
    app = make_replay()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        api = key_of(app, API)
        assert cell(app, api, "cpu") == "–"  # the first sample: no rates, never a fake 0
        for index in range(1, 6):
            await pilot.press("right_square_bracket")
            await settle(app, pilot)
            assert app.replay_index == index
            assert cell(app, api, "cpu") == cpu_text(index)
        assert app.paused and "PAUSED" in header(app)  # a step pauses
        assert position(5) in header(app)
        for index in (4, 3):
            await pilot.press("left_square_bracket")
            await settle(app, pilot)
            assert app.replay_index == index
            assert cell(app, api, "cpu") == cpu_text(index)  # from sample index-1, as recorded
        # The sparklines show the recording's past up to the cursor, not the keys pressed.
        assert history_times(app) == times(0, 3)
        await pilot.press("full_stop", "full_stop")  # . and , step too
        await settle(app, pilot)
        assert app.replay_index == 5
        assert history_times(app) == times(0, 5)
        await pilot.press("comma")
        await settle(app, pilot)
        assert app.replay_index == 4 and cell(app, api, "cpu") == cpu_text(4)

    drive(app, scenario)


def test_g_jumps_to_a_time_and_says_why_it_cannot() -> None:
    app = make_replay()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        await pilot.press("g")
        assert isinstance(app.screen, JumpScreen)
        for bad, why in (("abc", "not a time"), ("nan", "not a time"), ("25:00", "clock time")):
            field = app.screen.query_one(Input)
            field.value = bad
            await pilot.press("enter")
            assert isinstance(app.screen, JumpScreen)  # still open, no crash
            error = app.screen.query_one("#jump-error", Static)
            assert error.display and why in str(error.content)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"30", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ContainersScreen)
        index = min(range(len(SAMPLES)), key=lambda i: abs(SAMPLES[i].time - (START + 30)))
        assert app.replay_index == index
        assert f"+30 s of {TOTAL} s ({index + 1}/" in header(app)
        assert cell(app, key_of(app, API), "cpu") == cpu_text(index)
        assert history_times(app) == times(0, index)  # rebuilt from the recording
        assert not app.paused  # a jump keeps playing

        # Back to the start, and by clock time (UTC here): the history is rebuilt again.
        await pilot.press("g", *"+2", "enter")
        await settle(app, pilot)
        assert app.replay_index == 2 and history_times(app) == times(0, 2)
        clock = datetime.fromtimestamp(SAMPLES[10].time, UTC).strftime("%H:%M:%S")
        await pilot.press("g", *clock, "enter")
        await settle(app, pilot)
        assert abs(SAMPLES[app.replay_index or 0].time - SAMPLES[10].time) < 1
        await pilot.press("g", "escape")  # esc cancels
        assert isinstance(app.screen, ContainersScreen)

    drive(app, scenario)


def test_speed_keys_change_the_speed_within_limits() -> None:
    app = make_replay()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        await pilot.press("greater_than_sign")
        assert player(app).speed == 2.0 and " 2× " in header(app)
        await pilot.press(*["greater_than_sign"] * 6)
        assert player(app).speed == 16.0 and " 16× " in header(app)
        await pilot.press(*["less_than_sign"] * 9)
        assert player(app).speed == 0.25 and " 0.25× " in header(app)
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert " 1× " in header(app)

    drive(app, scenario)


def test_plays_at_the_recorded_pace_and_pauses_at_the_end() -> None:
    clock = ManualClock()
    app = make_replay(clock)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        gap = SAMPLES[1].time - SAMPLES[0].time
        await play_for(app, pilot, clock, gap * 0.5)
        assert app.replay_index == 0 and app.generation == 1  # not due yet: nothing collected
        await play_for(app, pilot, clock, gap * 0.5 + 1e-6)
        assert app.replay_index == 1

        await pilot.press("p")  # paused: the clock moves, the cursor does not
        assert app.paused and "PAUSED" in header(app)
        await play_for(app, pilot, clock, 30)
        assert app.replay_index == 1
        await pilot.press("space")
        assert not app.paused

        # 4×: about four samples a second; the skipped ones still go into the histories.
        await pilot.press("greater_than_sign", "greater_than_sign")
        await play_for(app, pilot, clock, 1.0)
        index = app.replay_index or 0
        expected = max(i for i, s in enumerate(SAMPLES) if s.time - SAMPLES[1].time <= 4.0)
        assert index == expected
        assert history_times(app) == times(0, index)

        await play_for(app, pilot, clock, 3600)  # long past the end
        assert app.replay_index == len(SAMPLES) - 1
        assert app.paused and not player(app).playing
        assert "end of recording" in header(app)
        assert history_times(app) == times(max(0, len(SAMPLES) - HISTORY_LENGTH), len(SAMPLES) - 1)
        generation = app.generation
        await play_for(app, pilot, clock, 10)
        assert app.generation == generation  # stays at the end

        await pilot.press("p")  # plays again from the start
        await settle(app, pilot)
        assert app.replay_index == 0 and not app.paused
        assert history_times(app) == times(0, 0)

    drive(app, scenario)


def test_home_and_end_go_to_the_first_and_last_sample() -> None:
    app = make_replay(playing=False)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        assert app.paused and "PAUSED" in header(app)
        await pilot.press("end")  # the focused table does not take it
        await settle(app, pilot)
        assert app.replay_index == len(SAMPLES) - 1
        assert "end of recording" in header(app)
        await pilot.press("home")
        await settle(app, pilot)
        assert app.replay_index == 0
        # In the filter, home and end move its cursor; g is typed.
        await pilot.press("slash", *"demo-g", "home")
        await pilot.pause()
        assert app.replay_index == 0 and not player(app).pending
        field = app.screen.query_one("#filter", Input)
        assert field.value == "demo-g" and field.cursor_position == 0
        assert not isinstance(app.screen, JumpScreen)

    drive(app, scenario)


def test_live_only_panes_say_so_and_read_nothing() -> None:
    app = make_replay()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        app.open_container(key_of(app, "demo-web"))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        for key, tab in (("5", "layers"), ("6", "network"), ("7", "stacks")):
            await pilot.press(key)
            await pilot.pause()
            pane = screen.query_one(f"#pane-{tab}", DetailPane)
            assert pane.loader is None  # nothing runs that could read this host
            content = pane.query_one(Static).content
            assert isinstance(content, Text) and content.plain.startswith("not recorded: live only")
        await pilot.press("4")  # the recorded namespaces of the container still show
        table = _plain(screen.query_one("#ns-table", Static).content)
        assert "shared with demo-sidecar" in table  # from the recorded sample
        await pilot.press("1")
        assert "REPLAY" in header(app)

    drive(app, scenario)


def test_namespaces_screen_shows_the_recorded_sample() -> None:
    app = make_replay(playing=False)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NamespacesScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one("#ns-note").display
        assert "recorded containers' processes only" in static_text(app, "#ns-note")
        tree = app.screen.query_one(Tree)
        types = [str(node.data) for node in tree.root.children]
        net = tree.root.children[types.index("net")]
        shared = [n for n in net.children if "demo-sidecar" in str(n.label)]
        assert shared and "demo-web" in str(shared[0].label) and "(shared)" in str(shared[0].label)
        recorded = {p.pid for p in SAMPLES[0].processes}
        pids = {int(str(leaf.data)) for n in net.children for leaf in n.children if leaf.data}
        assert pids and pids <= recorded
        await pilot.press("right_square_bracket")  # the screen follows the cursor
        await settle(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NamespacesScreen)
        assert screen._requested is SAMPLES[1]

    drive(app, scenario)


def test_keys_are_in_the_footer_help_and_palette_only_in_a_replay() -> None:
    def footer_keys(app: CtopApp) -> set[str]:
        return {k for k, b in app.screen.active_bindings.items() if b.binding.show}

    replay = make_replay()

    async def in_replay(app: CtopApp, pilot: Pilot[int]) -> None:
        await start(app, pilot)
        keys = footer_keys(app)
        for key in ("left_square_bracket", "right_square_bracket", "less_than_sign", "g", "p"):
            assert key in keys, key
        assert "plus" not in keys and "minus" not in keys  # the live refresh interval
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = _help_plain(app)
        for needle in ("replay", "◀ Step", "Step ▶", "Go to time", "First sample", "[ ,", "home"):
            assert needle in help_text, needle
        assert "First row" not in help_text  # g is the jump in a replay
        await pilot.press("escape")
        provider = CtopCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        for title in ("Replay: step back", "Replay: go to a time", "Replay: faster"):
            assert title in titles
        assert "Refresh faster" not in titles
        hits = [h async for h in provider.search("replay: last sample")]
        max(hits, key=lambda h: h.score).command()
        await settle(app, pilot)
        assert app.replay_index == len(SAMPLES) - 1

    drive(replay, in_replay)

    live = make_app(SNAPSHOTS)

    async def in_live(app: CtopApp, pilot: Pilot[int]) -> None:
        await app.collect().wait()
        await pilot.pause()
        keys = footer_keys(app)
        assert "plus" in keys and "left_square_bracket" not in keys
        generation = app.generation
        await pilot.press("right_square_bracket", "end", "less_than_sign")
        assert app.generation == generation  # inert live
        await pilot.press("question_mark")
        # The live app scrolls back through its ring of recent samples with the replay's
        # cursor keys (not its speeds).
        help_text = _help_plain(app)
        assert "Go to time" in help_text and "◀ Step" in help_text
        await pilot.press("escape")
        titles = [hit.text async for hit in CtopCommands(app.screen).discover()]
        assert not [t for t in titles if t and t.startswith("Replay")]

    drive(live, in_live)


def _plain(renderable: object, width: int = 160) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def _help_plain(app: CtopApp) -> str:
    return _plain(app.screen.query_one("#help-text", Static).content)


# ---------------------------------------------------------------------------------------------
# The player and the jump grammar, without the app.


def test_parse_jump_accepts_offsets_clock_and_iso_times() -> None:
    start = datetime(2026, 11, 29, 18, 0, 13, 500000, UTC).timestamp()
    assert parse_jump("30", start) == start + 30
    assert parse_jump(" +12.5 ", start) == start + 12.5
    assert parse_jump("18:00:43", start, UTC) == start + 29.5
    assert parse_jump("18:01", start, UTC) == start + 46.5
    assert parse_jump("2026-11-29T18:00:20+00:00", start) == start + 6.5
    assert parse_jump(
        "00:00:05", datetime(2026, 11, 29, 23, 59, 50, tzinfo=UTC).timestamp(), UTC
    ) == (datetime(2026, 11, 30, 0, 0, 5, tzinfo=UTC).timestamp())  # past midnight: the next day
    for bad in ("", "abc", "inf", "nan", "24:00", "12:61:00", "+"):
        with pytest.raises(TimeError):
            parse_jump(bad, start)


def test_player_caps_long_gaps_and_steps_within_the_recording() -> None:
    from dataclasses import replace

    gap = [*SAMPLES[:3], *(replace(s, time=s.time + 86400) for s in SAMPLES[3:6])]
    clock = ManualClock()
    player = ReplayPlayer(gap, title="t", clock=clock)
    assert player.next_frame() is not None and player.index == 0
    assert player.next_frame() is None  # nothing due yet
    clock.advance(2.5)
    frame = player.next_frame()
    assert frame is not None and frame.index == 2 and len(frame.backlog) == 1
    clock.advance(MAX_WAIT_S)  # a day's gap plays as MAX_WAIT_S
    frame = player.next_frame()
    assert frame is not None and frame.index == 3
    player.step(-10)
    frame = player.next_frame()
    assert frame is not None and frame.index == 0 and frame.histories is not None
    assert not player.playing
    player.step(+99)
    assert player.next_frame() is not None and player.index == len(gap) - 1
    assert player.next() is None  # the SnapshotSource protocol: nothing new
    with pytest.raises(ValueError):
        ReplayPlayer([], title="empty")


def test_replay_screenshot_is_written_and_stable(tmp_path: Path) -> None:
    from ctop_py.ui import screenshots

    first = asyncio.run(screenshots.render_replay(tmp_path / "a"))
    second = asyncio.run(screenshots.render_replay(tmp_path / "b"))
    assert [p.name for p in first] == ["replay.svg"]
    text = first[0].read_text(encoding="utf-8")
    assert "REPLAY" in text and "demo.rec" in text
    assert text == second[0].read_text(encoding="utf-8")


def test_replay_command_reads_its_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ctop-py replay FILE --speed --at -a` starts the app (through the CLI's one factory)
    paused where --at says, at that speed, showing stopped containers."""
    from ctop_py import cli

    seen: list[CtopApp] = []

    def run(self: CtopApp) -> int:
        seen.append(self)
        return 0

    monkeypatch.setattr(CtopApp, "run", run)
    resource = importlib.resources.files("ctop_py").joinpath("data", "demo.rec")
    with importlib.resources.as_file(resource) as path:
        assert cli.main(["replay", str(path), "--speed", "4", "--at", "+20", "-a"]) == 0
        player = seen[0].replay
        assert player is not None and player.title == "demo.rec"
        assert player.speed == 4.0 and not player.playing and seen[0].show_all
        frame = player.next_frame()  # it starts paused where `at` says
        assert frame is not None and frame.index is not None
        assert round(SAMPLES[frame.index].time - START) == 20
        assert cli.main(["replay", str(path)]) == 0
        assert seen[1].replay is not None and seen[1].replay.playing
        assert cli.main(["replay", str(path), "--at", "soon"]) == 2
    assert "not a time: 'soon'" in capsys.readouterr().err
