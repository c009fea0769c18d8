"""The ctop-py Textual app.

One thread worker at a time asks the source for the next Snapshot (and measures our own cost,
and resolves user names), then posts one message; the UI thread assigns the Snapshot inside
`batch_update()`, feeds the bounded histories and lets the screen on top render what changed.

Built by `make_app(source, options)` only (`ctop_py.cli` runs it; the tests and screenshots
build theirs with it too, over a `StaticSource`).

Replay (`make_app(Recorded(samples, title), options)`): the source is a `ReplayPlayer`; the
same worker turns the cursor's position into a Frame (the Snapshot, and the samples the
histories need); the replay keys move the cursor on the UI thread and ask for a collection.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from ctop_py import present
from ctop_py.launch import AppOptions, Recorded
from ctop_py.model import RawSample, Snapshot
from ctop_py.ui.base import LiveScreen
from ctop_py.ui.commands import CtopCommands
from ctop_py.ui.history import Histories
from ctop_py.ui.replay import TICK_S, Clock, Frame, ReplayPlayer, ReplayStatus
from ctop_py.ui.screens.container import ContainerScreen
from ctop_py.ui.screens.containers import ContainersScreen
from ctop_py.ui.screens.help import HelpScreen
from ctop_py.ui.screens.jump import JumpScreen
from ctop_py.ui.screens.namespaces import NamespacesScreen
from ctop_py.ui.source import (
    NOWHERE,
    NamespaceLister,
    PasswdNames,
    PsutilProbe,
    SelfProbe,
    SelfStats,
    SnapshotSource,
    UserNames,
    fixed_names,
    namespaces_at,
)
from ctop_py.ui.widgets.container_table import ContainerTable
from ctop_py.ui.widgets.detail_pane import Loader

INTERVALS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

# Keys that only mean something in a replay (hidden and inert live), and the live ones that
# mean nothing in a replay (the recording sets the pace).
REPLAY_BINDINGS: list[BindingType] = [
    Binding("left_square_bracket,comma", "replay_step(-1)", "◀ Step", key_display="["),
    Binding("right_square_bracket,full_stop", "replay_step(1)", "Step ▶", key_display="]"),
    Binding("less_than_sign", "replay_slower", "Slower", key_display="<"),
    Binding("greater_than_sign", "replay_faster", "Faster", key_display=">"),
    Binding("g", "replay_jump", "Go to time"),
    # priority: a focused table or scroll view would take home/end for itself (an Input
    # still gets them: check_action lets them through). Listed in help, not in the footer.
    Binding("home", "replay_first", "First sample", priority=True, show=False),
    Binding("end", "replay_last", "Last sample", priority=True, show=False),
]
REPLAY_ACTIONS = frozenset(
    {"replay_step", "replay_slower", "replay_faster", "replay_jump", "replay_first", "replay_last"}
)
LIVE_ACTIONS = frozenset({"faster", "slower"})


def _action_name(binding: BindingType) -> str:
    return binding.action.split("(", 1)[0] if isinstance(binding, Binding) else ""


class SnapshotReady(Message):
    """Posted by the collect worker (from its thread)."""

    def __init__(
        self,
        snapshot: Snapshot | None,
        own: SelfStats,
        users: Mapping[int, str],
        frame: Frame | None = None,
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.own = own
        self.users = users
        self.frame = frame  # replay: the cursor's position and what the histories need


class CtopApp(App[int]):
    CSS_PATH = "ctop.tcss"
    TITLE = "ctop-py"
    COMMANDS = App.COMMANDS | {CtopCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("space", "toggle_pause", "Pause", show=False),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("n", "namespaces", "Namespaces"),
        *REPLAY_BINDINGS,
    ]

    def __init__(
        self,
        source: SnapshotSource,
        *,
        interval_s: float = 1.0,
        autostart: bool = True,
        show_all: bool = False,
        probe: SelfProbe | None = None,
        users: UserNames | None = None,
        loaders: Mapping[str, Loader] | None = None,
        namespaces: NamespaceLister | None = None,
    ) -> None:
        """`autostart=False`: no timer; call `collect()` to take each step (tests).
        `loaders`: functions filling the container screen's on-demand panes ("layers",
        "network", "stacks"); each runs in a worker thread with the ContainerView.
        `namespaces`: lists a sample's namespaces for the namespaces screen (worker thread);
        by default the owning user namespaces are not read (no host at hand).
        A `ReplayPlayer` source makes this a replay: its keys, its header, no live-only panes."""
        super().__init__()
        self.source = source
        self.replay: ReplayPlayer | None = source if isinstance(source, ReplayPlayer) else None
        self.replay_index: int | None = None  # the sample on screen, in a replay
        self.interval_s = interval_s
        self.autostart = autostart
        self.paused = False
        self.show_all = show_all
        self.probe: SelfProbe = probe or PsutilProbe()
        self.users: UserNames = users or PasswdNames()
        self.loaders: dict[str, Loader] = dict(loaders or {})
        self.list_namespaces: NamespaceLister = namespaces or namespaces_at(NOWHERE)
        self.snapshot: Snapshot | None = None
        self.own: SelfStats | None = None
        self.histories = Histories()
        self.user_names: dict[int, str] = {}
        self.generation = 0  # snapshots applied so far
        self._collecting = False
        self._timer: Timer | None = None
        self._errors_said: set[str] = set()
        self._detail_keys: set[str] = set()
        # container key -> pid whose Python stacks the Stacks tab shows (set from Processes)
        self.stack_targets: dict[str, int] = {}

    def get_default_screen(self) -> Screen[None]:
        return ContainersScreen(show_all=self.show_all)

    def on_mount(self) -> None:
        if self.replay is not None:
            self.paused = not self.replay.playing
        if self.autostart:
            self.collect()
            every = TICK_S if self.replay is not None else self.interval_s
            self._timer = self.set_interval(every, self.tick)

    # -- collecting --------------------------------------------------------------------------

    def tick(self) -> None:
        """The timer: start a collection unless paused or one is still running. A replay
        starts one only when its next sample is due (a cheap check on this thread)."""
        if self._collecting:
            return
        if self.replay is not None:
            if self.replay.pending:
                self.collect()
        elif not self.paused:
            self.collect()

    def collect(self) -> Worker[None]:
        """Ask the source for the next Snapshot in a worker thread."""
        self._collecting = True
        return self._collect(frozenset(self.histories.pinned))

    @work(thread=True, group="collect", exit_on_error=False)
    def _collect(self, pinned: frozenset[str]) -> None:
        frame = None
        if self.replay is not None:
            frame = self.replay.next_frame(pinned)
            snapshot = None if frame is None else frame.snapshot
        else:
            snapshot = self.source.next()
        own = self.probe()
        users: Mapping[int, str] = {}
        if snapshot is not None:
            uids = {
                p.process.uid
                for c in snapshot.containers
                for p in c.processes
                if p.process.uid is not None and p.process.uid not in self.user_names
            }
            users = self.users(uids) if uids else {}
        self.post_message(SnapshotReady(snapshot, own, users, frame))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self._collecting = False
        self.own = message.own
        screen = self.screen
        current = self.snapshot
        frame = message.frame
        same = (
            frame is None
            and current is not None
            and message.snapshot is not None
            and (message.snapshot.raw is current.raw)
        )
        if message.snapshot is None or same:
            # Nothing new (a static source ran out, a replay at its end): only our own figures.
            self._replay_settled()
            if isinstance(screen, LiveScreen):
                screen.show_status()
            return
        with self.batch_update():
            self.snapshot = message.snapshot
            self.user_names.update(message.users)
            if frame is not None:
                self.replay_index = frame.index
                if frame.histories is not None:  # the cursor went back or jumped: rebuilt
                    frame.histories.pinned = self.histories.pinned
                    self.histories = frame.histories
                for skipped in frame.backlog:
                    self.histories.feed(skipped)
            self.histories.feed(message.snapshot)
            self.generation += 1
            self._replay_settled()
            if isinstance(screen, LiveScreen):
                screen.show_snapshot()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "collect":
            return
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._collecting = False
            if self.replay is not None:  # stop playing: never retry a failing sample forever
                self.replay.pause()
                self.paused = True
        if event.state == WorkerState.ERROR:
            reason = present.safe(str(event.worker.error), 300)
            if reason not in self._errors_said:  # say each reason once, keep sampling
                self._errors_said.add(reason)
                self.notify(f"sampling failed: {reason}", severity="error", markup=False)

    # -- actions -----------------------------------------------------------------------------

    def _status_changed(self) -> None:
        screen = self.screen
        if isinstance(screen, LiveScreen):
            screen.show_status()

    def action_toggle_pause(self) -> None:
        if self.replay is not None:
            if self.replay.playing:
                self.replay.pause()
            else:
                self.replay.play()
            self._replay_moved()
            return
        self.paused = not self.paused
        self._status_changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REPLAY_ACTIONS:
            if self.replay is None or isinstance(self.screen, ModalScreen):
                return False
            # home/end still move the cursor of a focused Input (the filter)
            return not (
                action in ("replay_first", "replay_last") and isinstance(self.focused, Input)
            )
        if action in LIVE_ACTIONS:
            return self.replay is None
        return True

    # -- replay ------------------------------------------------------------------------------

    def replay_status(self) -> ReplayStatus | None:
        if self.replay is None:
            return None
        return self.replay.status(self.replay_index)

    def _replay_settled(self) -> None:
        """After a frame (or nothing new): follow the player's play state, and fetch what was
        asked for while the worker ran."""
        if self.replay is None:
            return
        self.paused = not self.replay.playing
        if self.replay.pending and not self._collecting:
            self.collect()

    def _replay_moved(self) -> None:
        """The cursor, the speed or the play state changed on this thread."""
        if self.replay is None:
            return
        self.paused = not self.replay.playing
        if not self._collecting and self.replay.pending:
            self.collect()
        self._status_changed()

    def action_replay_step(self, by: int) -> None:
        if self.replay is not None:
            self.replay.step(by)
            self._replay_moved()

    def action_replay_first(self) -> None:
        if self.replay is not None:
            self.replay.jump_to(0)
            self._replay_moved()

    def action_replay_last(self) -> None:
        if self.replay is not None:
            self.replay.jump_to(self.replay.last)
            self._replay_moved()

    def action_replay_faster(self) -> None:
        if self.replay is not None:
            self.replay.faster()
            self._replay_moved()

    def action_replay_slower(self) -> None:
        if self.replay is not None:
            self.replay.slower()
            self._replay_moved()

    def action_replay_jump(self) -> None:
        if self.replay is not None and not isinstance(self.screen, JumpScreen):
            self.push_screen(JumpScreen(self.replay), self.replay_jump_to)

    def replay_jump_to(self, when: float | None) -> None:
        """Show the sample nearest to the wall time `when` (from the jump dialog)."""
        player = self.replay
        if player is None or when is None:
            return
        index = player.index_near(when)
        slack = 1.0 + (player.samples[-1].time - player.samples[0].time) / max(1, player.last)
        if when < player.samples[0].time - slack:
            self.notify("before the recording: showing its first sample", markup=False)
        elif when > player.samples[-1].time + slack:
            self.notify("after the end of the recording: showing its last sample", markup=False)
        player.jump_to(index)
        self._replay_moved()

    def _set_interval(self, interval_s: float) -> None:
        if interval_s == self.interval_s:
            return
        self.interval_s = interval_s
        if self._timer is not None:
            self._timer.stop()
            self._timer = self.set_interval(interval_s, self.tick)
        self._status_changed()

    def action_faster(self) -> None:
        shorter = [i for i in INTERVALS if i < self.interval_s]
        self._set_interval(shorter[-1] if shorter else INTERVALS[0])

    def action_slower(self) -> None:
        longer = [i for i in INTERVALS if i > self.interval_s]
        self._set_interval(longer[0] if longer else INTERVALS[-1])

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        replay = self.replay is not None
        everywhere = [
            b
            for b in self.BINDINGS
            if _action_name(b) not in REPLAY_ACTIONS
            and not (replay and _action_name(b) in LIVE_ACTIONS)
        ]
        sections: list[tuple[str, list[BindingType]]] = [("everywhere", everywhere)]
        if replay:
            sections.append(("replay", list(REPLAY_BINDINGS)))
        table = [
            b for b in ContainerTable.BINDINGS if not (replay and _action_name(b) == "scroll_top")
        ]
        sections += [
            ("containers", [*table, *ContainersScreen.BINDINGS]),
            ("one container", list(ContainerScreen.BINDINGS)),
            ("namespaces", list(NamespacesScreen.BINDINGS)),
        ]
        self.push_screen(HelpScreen(sections, replay=replay))

    def action_namespaces(self) -> None:
        if not isinstance(self.screen, NamespacesScreen):
            self.push_screen(NamespacesScreen())

    def detail_wanted(self, key: str, wanted: bool) -> None:
        """The container screen for `key` opened or closed: a live source reads per-process
        detail only for the containers on screen."""
        if wanted:
            self._detail_keys.add(key)
        else:
            self._detail_keys.discard(key)
        if hasattr(self.source, "detail"):
            ids = frozenset(k.split(":", 1)[1] for k in self._detail_keys)
            setattr(self.source, "detail", ids)  # noqa: B010 - not every source has detail
            if wanted and self.autostart and not self.paused and not self._collecting:
                self.collect()  # fill the Processes tab now, not a tick later

    def open_container(self, key: str) -> None:
        if isinstance(self.screen, ContainerScreen) and self.screen.key == key:
            return
        self.push_screen(ContainerScreen(key))

    def containers_action(self, action: str, *args: str) -> None:
        """Run an action of the containers screen (from the command palette), showing it."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ContainersScreen):
            self.pop_screen()
        screen = self.screen
        if isinstance(screen, ContainersScreen):
            getattr(screen, f"action_{action}")(*args)


DEFAULT_OPTIONS = AppOptions()


def make_app(
    source: SnapshotSource | Recorded,
    options: AppOptions = DEFAULT_OPTIONS,
    *,
    probe: SelfProbe | None = None,
    users: UserNames | None = None,
    loaders: Mapping[str, Loader] | None = None,
    namespaces: NamespaceLister | None = None,
) -> CtopApp:
    """The one way the app is built (the CLI and the tests). A `LiveSource` gets the live
    panes (layers, network, stacks) and the host's namespaces; a `Recorded` one becomes a
    replay: nothing of this host is read for the recorded containers (no user names beyond
    root, namespaces from the recorded processes only, the live-only panes say so). Raises
    ValueError for a recording without samples, TimeError (a ValueError) for a `start_at` it
    cannot read. The caller closes the source."""
    from ctop_py.sources import LiveSource

    if isinstance(source, Recorded):
        from ctop_py.ui.replay import parse_jump

        player = ReplayPlayer(
            source.samples,
            title=source.title,
            speed=options.speed,
            playing=not options.paused and options.start_at is None,
            tz=source.tz,
            clock=source.clock,
        )
        if options.start_at is not None:
            start = player.samples[0].time
            player.jump_to(player.index_near(parse_jump(options.start_at, start, source.tz)))
        source = player
        users = users or fixed_names({0: "root"})
        namespaces = namespaces or namespaces_at(NOWHERE)
    targets: dict[str, int] = {}
    if isinstance(source, LiveSource):
        from ctop_py.ui.loaders import live_loaders
        from ctop_py.ui.source import live_namespaces_at

        root = source.collector.root
        loaders = live_loaders(root, targets) if loaders is None else loaders
        namespaces = namespaces or live_namespaces_at(root)
    app = CtopApp(
        source,
        interval_s=options.interval_s,
        autostart=options.autostart,
        show_all=options.show_all,
        probe=probe,
        users=users,
        loaders=loaders,
        namespaces=namespaces,
    )
    app.stack_targets = targets
    return app


def replay_app(
    samples: Sequence[RawSample],
    *,
    title: str,
    clock: Clock | None = None,
    speed: float = 1.0,
    playing: bool = True,
    tz: tzinfo | None = None,
    show_all: bool = False,
    autostart: bool = True,
    probe: SelfProbe | None = None,
) -> CtopApp:
    """`make_app` over a recording, with the replay's knobs as keywords (tests, screenshots)."""
    return make_app(
        Recorded(samples, title, clock or time.monotonic, tz),
        AppOptions(show_all=show_all, autostart=autostart, speed=speed, paused=not playing),
        probe=probe,
    )
