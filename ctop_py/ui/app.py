"""The ctop-py Textual app.

One thread worker at a time asks the source for the next Snapshot (and measures our own cost,
and resolves user names), then posts one message; the UI thread assigns the Snapshot inside
`batch_update()`, feeds the bounded histories and lets the screen on top render what changed.

Launch: `run_app(root, args)` (from `ctop_py.cli`), or `CtopApp(source, ...)` with any
`SnapshotSource` (tests and screenshots use `StaticSource`).

Replay (`run_replay(samples, args, title=...)`): the source is a `ReplayPlayer`; the same worker
turns the cursor's position into a Frame (the Snapshot, and the samples the histories need);
the replay keys move the cursor on the UI thread and ask for a collection.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from ctop_py import config as cfg
from ctop_py import present
from ctop_py.actions import Actions
from ctop_py.host import HostRoot
from ctop_py.logs import LogOpener
from ctop_py.model import RawSample, Snapshot
from ctop_py.ui.acting import ActingMixin, ShellRunner
from ctop_py.ui.base import LiveScreen
from ctop_py.ui.commands import CtopCommands
from ctop_py.ui.history import Histories
from ctop_py.ui.replay import TICK_S, Clock, Frame, ReplayPlayer, ReplayStatus
from ctop_py.ui.screens.actions import MENU_BINDINGS
from ctop_py.ui.screens.column_chooser import ColumnChooser
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
from ctop_py.ui.widgets.logs_view import LogsView

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


class CtopApp(ActingMixin, App[int]):
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
        acting: Actions | None = None,
        open_logs: LogOpener | None = None,
        prefs: cfg.Config = cfg.DEFAULT,
        config_path: Path | None = None,
        read_only: bool = False,
        shell_runner: ShellRunner | None = None,
    ) -> None:
        """`acting`: runs the actions menu's actions (None: no actions, as in a replay);
        `open_logs`: opens a container's log stream for the Logs tab (None: no logs);
        `prefs`: the config file as read (columns, sort, shell, log_lines; "save" writes it
        back to `config_path`); `read_only`: no actions, no shell, no config file written;
        `shell_runner`: runs the shell for `e` (default: the app suspended, the shell on this
        terminal).
        `autostart=False`: no timer; call `collect()` to take each step (tests).
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
        self.acting = acting
        self.open_logs = open_logs
        self.prefs = prefs
        self.config_path = config_path
        self.read_only_mode = read_only or (acting is not None and acting.read_only)
        self.shell_runner = shell_runner
        self.last_outcome: str | None = None

    def get_default_screen(self) -> Screen[None]:
        return ContainersScreen(
            show_all=self.show_all,
            sort=self.prefs.sort,
            reverse=self.prefs.reverse,
            columns=self.prefs.columns,
        )

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
        acting = self.can_act()
        sections += [
            ("containers", [*table, *ContainersScreen.bindings_for_help(acting)]),
            ("one container", ContainerScreen.bindings_for_help(acting)),
            ("namespaces", list(NamespacesScreen.BINDINGS)),
            ("logs (the Logs tab)", list(LogsView.BINDINGS)),
            ("columns (c)", list(ColumnChooser.BINDINGS)),
        ]
        if acting:
            sections.append(("actions (x): each change asks, y confirms", list(MENU_BINDINGS)))
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


def run_app(root: HostRoot, args: argparse.Namespace) -> int:
    """`ctop-py` with no subcommand. Options read from `args` when present: interval (seconds),
    all (show stopped containers)."""
    from ctop_py.engine import connect
    from ctop_py.logs import engine_logs
    from ctop_py.sources import LiveSource
    from ctop_py.ui.loaders import live_loaders
    from ctop_py.ui.source import live_namespaces_at

    source = LiveSource(root)
    targets: dict[str, int] = {}
    prefs = getattr(args, "config", None)
    prefs = prefs if isinstance(prefs, cfg.Config) else cfg.DEFAULT
    read_only = bool(getattr(args, "read_only", False))
    acting = Actions(lambda: connect(root, what="actions"), read_only=read_only)
    try:
        app = CtopApp(
            source,
            interval_s=float(getattr(args, "interval", None) or 1.0),
            show_all=bool(getattr(args, "all", False)),
            loaders=live_loaders(source.collector.root, targets),
            namespaces=live_namespaces_at(source.collector.root),
            acting=acting,
            open_logs=engine_logs(root),
            prefs=prefs,
            config_path=getattr(args, "config_path", None),
            read_only=read_only,
        )
        app.stack_targets = targets
        result = app.run()
    finally:
        acting.close()
        source.close()
    return result if isinstance(result, int) else 0


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
    """The app over a recording. Nothing of this host is read for the recorded containers:
    no user names beyond root (the recorded host's /etc/passwd is not recorded), namespaces
    from the recorded processes only, and the live-only panes say so."""
    player = ReplayPlayer(
        samples,
        title=title,
        speed=speed,
        playing=playing,
        tz=tz,
        clock=clock or time.monotonic,
    )
    return CtopApp(
        player,
        autostart=autostart,
        show_all=show_all,
        probe=probe,
        users=fixed_names({0: "root"}),
        namespaces=namespaces_at(NOWHERE),
    )


def run_replay(samples: Sequence[RawSample], args: argparse.Namespace, *, title: str) -> int:
    """`ctop-py replay FILE` and `ctop-py --demo`: the app over recorded samples, playing at
    the recorded pace. Options read from `args` when present: speed (0.25–16, the nearest
    step), at (where to start: seconds from the start or a time; then paused there), all
    (show stopped containers). Raises ValueError without samples, TimeError (a ValueError)
    for an `at` it cannot read."""
    from ctop_py.ui.replay import parse_jump

    at = getattr(args, "at", None)
    app = replay_app(
        samples,
        title=title,
        speed=float(getattr(args, "speed", None) or 1.0),
        playing=at is None,
        show_all=bool(getattr(args, "all", False)),
    )
    if at is not None:
        player = app.replay
        assert player is not None
        player.jump_to(player.index_near(parse_jump(str(at), player.samples[0].time)))
    result = app.run()
    return result if isinstance(result, int) else 0
