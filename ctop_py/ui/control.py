"""How the app paces what it shows: chosen once by `make_app`, behind one interface.

`LiveControl` samples a source on an interval timer (pause, faster, slower). `ReplayControl`
(`ctop_py.ui.replay`) moves a cursor over recorded samples (step, jump, speed). The app forwards
its timer, its collect worker and the `control(...)` key actions to the one it was given, and
has no `if replay` of its own. The bindings of both are declared here so the app can list them
once; `check_action` lets through only those of the controller in use.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from textual.app import App
from textual.binding import Binding, BindingType

from ctop_py.model import Snapshot
from ctop_py.ring import SampleRing
from ctop_py.ui.messages import ControlMoved
from ctop_py.ui.replay import TICK_S, Frame, ReplayPlayer, ReplayStatus
from ctop_py.ui.screens.jump import JumpScreen
from ctop_py.ui.source import SnapshotSource

INTERVALS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

LIVE_BINDINGS: list[BindingType] = [
    Binding("plus,equals_sign", "control('faster')", "Faster", key_display="+"),
    Binding("minus", "control('slower')", "Slower", key_display="-"),
]
# priority on home/end: a focused table or scroll view would take them for itself (an Input
# still gets them: ReplayControl.allowed lets them through). Listed in help, not in the footer.
REPLAY_BINDINGS: list[BindingType] = [
    Binding("left_square_bracket,comma", "control('step', -1)", "◀ Step", key_display="["),
    Binding("right_square_bracket,full_stop", "control('step', 1)", "Step ▶", key_display="]"),
    Binding("less_than_sign", "control('slow_down')", "Slower", key_display="<"),
    Binding("greater_than_sign", "control('speed_up')", "Faster", key_display=">"),
    Binding("g", "control('jump')", "Go to time"),
    Binding("home", "control('first')", "First sample", priority=True, show=False),
    Binding("end", "control('last')", "Last sample", priority=True, show=False),
]

# A palette command: title, help text, the control action and its arguments.
ControlCommand = tuple[str, str, tuple[Any, ...]]


class Controller(Protocol):
    """What the app asks of its pace-keeper. Methods without a note run on the UI thread."""

    bindings: list[BindingType]  # its keys (all also in CtopApp.BINDINGS)
    replaying: bool  # what it shows is recorded, not this host now
    help_section: str | None  # its own section in the help screen; None: with the app's keys
    reads_host: bool  # the live-only panes (layers, network, stacks) can read this host
    shadowed: frozenset[str]  # table actions whose keys it takes (g: go to a time)

    @property
    def tick_s(self) -> float:
        """How often the app's timer calls `due()`."""

    @property
    def paused(self) -> bool: ...

    @property
    def pending(self) -> bool:
        """A collection is wanted now (a move not delivered yet, a sample due)."""

    def due(self) -> bool:
        """The timer fired: start a collection?"""

    def next_frame(self, pinned: frozenset[str]) -> Frame | None:
        """The worker thread: the next Snapshot to show and what the histories need, or None
        when there is nothing new. `pinned`: history keys kept when their container is gone."""

    def want_detail(self, ids: frozenset[str]) -> bool:
        """Per-process detail is wanted for these container ids; True when the next
        collection reads something new for them."""

    def toggle_pause(self) -> None: ...

    def allowed(self, action: str, modal: bool, input_focused: bool) -> bool:
        """May the control action run now (the footer hides what may not)?"""

    def control(self, app: App[Any], action: str, *args: Any) -> None:
        """Run a control action (a key, the palette); the app then collects if `pending`."""

    def status(self, index: int | None) -> ReplayStatus | None:
        """The header's cursor line (None live)."""

    def commands(self) -> list[ControlCommand]:
        """Its entries in the command palette."""

    def failed(self) -> None:
        """A collection failed: stop whatever would retry it on its own."""


def _action(binding: BindingType) -> str:
    return binding.action if isinstance(binding, Binding) else ""


def control_name(binding: BindingType) -> str | None:
    """'step' for a binding to control('step', -1); None for the app's other bindings."""
    action = _action(binding)
    if not action.startswith("control("):
        return None
    return action[len("control(") :].split(",", 1)[0].strip("')\" ")


# The replay keys that also step back through the live app's ring of recent samples.
SCROLLBACK_ACTIONS = ("step", "first", "last", "jump")
SCROLLBACK_BINDINGS: list[BindingType] = [
    b for b in REPLAY_BINDINGS if control_name(b) in SCROLLBACK_ACTIONS
]
LIVE_AND_SCROLLBACK: list[BindingType] = [*LIVE_BINDINGS, *SCROLLBACK_BINDINGS]


class LiveControl:
    """A source sampled every `interval_s` (one of INTERVALS after + or -), unless paused.

    Every sample also goes into a `SampleRing` (the last 15 minutes, compressed, bounded in
    bytes). The replay keys step back through it: `[` or Home (or `g`, go to a time) stop
    sampling and show the ring with a time cursor (scroll-back; the ring is decoded in the
    worker), `]` steps forward, End or `p` return to live. `W` (the app) saves the ring as a
    recording."""

    bindings: list[BindingType] = LIVE_AND_SCROLLBACK
    replaying = False
    help_section: str | None = None
    reads_host = True
    # g is "go to a time" in the ring (ctrl+home still goes up)
    shadowed: frozenset[str] = frozenset({"scroll_top"})

    def __init__(
        self,
        source: SnapshotSource,
        interval_s: float = 1.0,
        ring: SampleRing | None = None,
        cost_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.source = source
        self.interval_s = interval_s
        self.ring = SampleRing() if ring is None else ring
        # The ring costs at most RING_BUDGET of the interval in CPU: when one append costs
        # more (a host with many containers), only every `ring_every`-th sample is kept.
        self.cost_clock = cost_clock
        self.ring_every = 1
        self._ring_skip = 0
        self._ring_lock = threading.Lock()  # the worker appends, the UI thread saves
        self._paused = False
        self.scrollback: ReplayPlayer | None = None
        self._entry: tuple[str, tuple[Any, ...], App[Any] | None] | None = None
        self._leave = False

    @property
    def tick_s(self) -> float:
        return TICK_S if self.scrolling else self.interval_s

    @property
    def scrolling(self) -> bool:
        """Showing the ring (or about to), not this host now."""
        return self.scrollback is not None or self._entry is not None

    @property
    def paused(self) -> bool:
        return self._paused or self.scrolling

    @property
    def pending(self) -> bool:
        if self._entry is not None or self._leave:
            return True
        return self.scrollback is not None and self.scrollback.pending

    def due(self) -> bool:
        if self.scrolling or self._leave:
            return self.pending
        return not self._paused

    def next_frame(self, pinned: frozenset[str]) -> Frame | None:
        entry, self._entry = self._entry, None
        if entry is not None:
            return self._enter(entry, pinned)
        if self._leave:
            return self._back_to_live(pinned)
        if self.scrollback is not None:
            return self.scrollback.next_frame(pinned)
        snapshot = self.source.next()
        if snapshot is None:
            return None
        self._keep(snapshot)
        return Frame(None, snapshot)

    def _keep(self, snapshot: Snapshot) -> None:
        """The worker: into the ring, within its CPU budget."""
        if self._ring_skip > 0:
            self._ring_skip -= 1
            return
        started = self.cost_clock()
        with self._ring_lock:
            self.ring.append(snapshot.raw)
        cost = self.cost_clock() - started
        self.ring_every = max(1, math.ceil(cost / (RING_BUDGET * self.interval_s)))
        self._ring_skip = self.ring_every - 1

    def _enter(
        self, entry: tuple[str, tuple[Any, ...], App[Any] | None], pinned: frozenset[str]
    ) -> Frame | None:
        """The worker: decode the ring into a player at its newest sample, then move."""
        action, args, app = entry
        with self._ring_lock:
            kept = self.ring.copy()
        samples = kept.samples()
        if not samples:
            return None
        player = ReplayPlayer(samples, title=SCROLLBACK_TITLE, playing=False)
        player.jump_to(player.last)
        player.next_frame(pinned)  # the newest is "shown": a step goes from there
        if action == "step":
            player.step(int(args[0]))
        elif action == "first":
            player.jump_to(0)
        self.scrollback = player
        if action == "jump" and app is not None:
            app.call_from_thread(self._open_jump, app, player)
        return player.next_frame(pinned) or player._frame(None, player.last, pinned)

    def _open_jump(self, app: App[Any], player: ReplayPlayer) -> None:
        if not isinstance(app.screen, JumpScreen):
            app.push_screen(JumpScreen(player), partial(self._jumped, app, player))

    def _jumped(self, app: App[Any], player: ReplayPlayer, when: float | None) -> None:
        if when is not None and self.scrollback is player:
            player.jump_to(player.index_near(when))
            app.post_message(ControlMoved())

    def _back_to_live(self, pinned: frozenset[str]) -> Frame | None:
        """The worker: the next live sample, with the histories rebuilt from the ring so the
        sparklines run on from where the ring ends."""
        self._leave = False
        player, self.scrollback = self.scrollback, None
        snapshot = self.source.next()
        if snapshot is None:
            return None
        self._keep(snapshot)
        histories = None
        if player is not None:
            rebuilt = player._frame(None, player.last, pinned)
            histories = rebuilt.histories
            if histories is not None:
                histories.feed(rebuilt.snapshot)
        return Frame(None, snapshot, histories=histories)

    def want_detail(self, ids: frozenset[str]) -> bool:
        return self.source.want_detail(ids) and not self.scrolling

    def toggle_pause(self) -> None:
        if self.scrolling:
            self._leave = self.scrollback is not None
            self._entry = None
            self._paused = False
            return
        self._paused = not self._paused

    def allowed(self, action: str, modal: bool, input_focused: bool) -> bool:
        if action in ("faster", "slower"):
            return not self.scrolling
        if action not in SCROLLBACK_ACTIONS or modal:
            return False
        if action in ("first", "last") and input_focused:
            return False  # home/end still move the cursor of a focused Input (the filter)
        if self.scrolling:
            return True
        return action != "last" and len(self.ring) > 1

    def control(self, app: App[Any], action: str, *args: Any) -> None:
        if action == "faster":
            shorter = [i for i in INTERVALS if i < self.interval_s]
            self.interval_s = shorter[-1] if shorter else INTERVALS[0]
        elif action == "slower":
            longer = [i for i in INTERVALS if i > self.interval_s]
            self.interval_s = longer[0] if longer else INTERVALS[-1]
        elif self.scrollback is not None:
            player = self.scrollback
            if action == "step":
                player.step(int(args[0]))
            elif action == "first":
                player.jump_to(0)
            elif action == "last":
                self._leave = True  # End: back to live
            elif action == "jump":
                self._open_jump(app, player)
        elif self._entry is None and action in ("step", "first", "jump"):
            if action == "step" and int(args[0]) > 0:
                return  # already at the newest
            self._entry = (action, args, app)

    def save_ring(self, path: str) -> tuple[int, int]:
        """Write the ring as a recording (`ctop-py replay PATH`); (samples, bytes)."""
        with self._ring_lock:
            kept = self.ring.copy()
        # Writing re-encodes every sample (about a second for a full ring): not under the lock
        # the sampler appends with.
        return kept.save(path), kept.nbytes

    def status(self, index: int | None) -> ReplayStatus | None:
        player = self.scrollback
        return None if player is None else player.status(index)

    def commands(self) -> list[ControlCommand]:
        return [
            ("Pause / resume", "stop or restart sampling (p, space)", ("pause",)),
            ("Refresh faster", "shorter refresh interval (+)", ("faster",)),
            ("Refresh slower", "longer refresh interval (-)", ("slower",)),
            ("Step back", "scroll back through the last 15 minutes ([)", ("step", -1)),
            ("Back to live", "leave the scroll-back (End)", ("last",)),
        ]

    def failed(self) -> None:
        pass


SCROLLBACK_TITLE = "scroll-back (live paused; End or p: live)"
RING_BUDGET = 0.1  # of the refresh interval, in CPU time, for appending to the ring


class ReplayControl:
    """A `ReplayPlayer` (a cursor over recorded samples) behind the Controller interface.

    The samples are any sequence of RawSamples: a recording file, the demo, or (later) the
    live ring buffer of recent samples."""

    bindings: list[BindingType] = REPLAY_BINDINGS
    replaying = True
    help_section: str | None = "replay"
    reads_host = False
    shadowed: frozenset[str] = frozenset(
        {"scroll_top"}
    )  # g is "go to a time" (ctrl+home still goes up)
    tick_s: float = TICK_S  # a cheap check on the UI thread: no worker unless a sample is due

    def __init__(self, player: ReplayPlayer) -> None:
        self.player = player

    @property
    def paused(self) -> bool:
        return not self.player.playing

    @property
    def pending(self) -> bool:
        return self.player.pending

    def due(self) -> bool:
        return self.player.pending

    def next_frame(self, pinned: frozenset[str]) -> Frame | None:
        return self.player.next_frame(pinned)

    def want_detail(self, ids: frozenset[str]) -> bool:
        return False  # recorded: nothing more to read

    def toggle_pause(self) -> None:
        if self.player.playing:
            self.player.pause()
        else:
            self.player.play()

    def allowed(self, action: str, modal: bool, input_focused: bool) -> bool:
        if action not in ("step", "first", "last", "jump", "speed_up", "slow_down") or modal:
            return False
        # home/end still move the cursor of a focused Input (the filter)
        return not (action in ("first", "last") and input_focused)

    def control(self, app: App[Any], action: str, *args: Any) -> None:
        player = self.player
        if action == "step":
            player.step(int(args[0]))
        elif action == "first":
            player.jump_to(0)
        elif action == "last":
            player.jump_to(player.last)
        elif action == "speed_up":
            player.faster()
        elif action == "slow_down":
            player.slower()
        elif action == "jump" and not isinstance(app.screen, JumpScreen):
            app.push_screen(JumpScreen(player), partial(self.jump_to, app))

    def jump_to(self, app: App[Any], when: float | None) -> None:
        """Show the sample nearest to the wall time `when` (the jump dialog's answer)."""
        player = self.player
        if when is None:
            return
        index = player.index_near(when)
        slack = 1.0 + (player.samples[-1].time - player.samples[0].time) / max(1, player.last)
        if when < player.samples[0].time - slack:
            app.notify("before the recording: showing its first sample", markup=False)
        elif when > player.samples[-1].time + slack:
            app.notify("after the end of the recording: showing its last sample", markup=False)
        player.jump_to(index)
        app.post_message(ControlMoved())

    def status(self, index: int | None) -> ReplayStatus | None:
        return self.player.status(index)

    def commands(self) -> list[ControlCommand]:
        return [
            ("Pause / resume", "pause or play the replay (p, space)", ("pause",)),
            ("Replay: step back", "one sample back, paused ([ ,)", ("step", -1)),
            ("Replay: step forward", "one sample forward, paused (] .)", ("step", 1)),
            ("Replay: slower", "half the speed, down to 0.25× (<)", ("slow_down",)),
            ("Replay: faster", "double the speed, up to 16× (>)", ("speed_up",)),
            ("Replay: go to a time", "seconds from the start or a time (g)", ("jump",)),
            ("Replay: first sample", "(home)", ("first",)),
            ("Replay: last sample", "(end)", ("last",)),
        ]

    def failed(self) -> None:
        self.player.pause()  # stop playing: never retry a failing sample for ever
