"""Live and replay as controllers chosen once, swappable (the live ring buffer will step back
into a replay of recent samples), and the messages that coalesce."""

from __future__ import annotations

from textual.pilot import Pilot

from ctop_py.ui.app import CtopApp
from ctop_py.ui.control import LiveControl, ReplayControl
from ctop_py.ui.messages import SnapshotReady
from ctop_py.ui.replay import Frame, ManualClock, ReplayPlayer
from ctop_py.ui.source import SelfStats, StaticSource
from ctop_py.ui.widgets.header import HostHeader
from tests.test_ui import SNAPSHOTS, drive, make_app, step

OWN = SelfStats(None, None)


def header(app: CtopApp) -> str:
    return str(app.screen.query_one(HostHeader).content)


def test_a_live_app_steps_back_into_a_replay_of_its_samples_and_returns() -> None:
    app = make_app(SNAPSHOTS)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 4)
        assert app.replay is None and app.generation == 4
        live = app.controller
        recent = [s.raw for s in SNAPSHOTS[:4]]  # what a ring buffer of samples would hold
        player = ReplayPlayer(recent, title="last 4 samples", clock=ManualClock(), playing=False)
        app.use_controller(ReplayControl(player))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.replay is player and app.replay_index == 0
        assert "REPLAY last 4 samples" in header(app) and app.state.replaying
        await pilot.press("right_square_bracket")  # a replay key now works
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.replay_index == 1
        assert app.snapshot is not None and app.snapshot.raw is recent[1]
        await pilot.press("plus")  # a live key does nothing in a replay
        assert isinstance(live, LiveControl) and live.interval_s == 1.0

        app.use_controller(live)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.replay is None and not app.state.replaying
        assert "REPLAY" not in header(app)
        await pilot.press("right_square_bracket")  # inert live
        await pilot.press("plus")
        assert app.interval_s == 0.5

    drive(app, scenario)


def test_live_snapshots_coalesce_and_replay_frames_do_not() -> None:
    first, second = SNAPSHOTS[0], SNAPSHOTS[1]
    live = SnapshotReady(Frame(None, first), OWN, {})
    newer = SnapshotReady(Frame(None, second), OWN, {})
    assert live.can_replace(newer)  # the UI fell behind: the older one is skipped
    named = SnapshotReady(Frame(None, first), OWN, {1000: "app"})
    assert not named.can_replace(newer)  # it carries user names: kept
    replayed = SnapshotReady(Frame(3, first), OWN, {})
    assert not replayed.can_replace(newer) and not live.can_replace(replayed)
    assert not live.can_replace(SnapshotReady(None, OWN, {}))


def test_the_detail_request_is_part_of_the_source_protocol() -> None:
    source = StaticSource(SNAPSHOTS)
    control = LiveControl(source)
    assert control.want_detail(frozenset({"abc"})) is False  # made already: nothing to read
