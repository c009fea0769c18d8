"""The ctop-py Textual app.

One thread worker at a time asks the source for the next Snapshot (and measures our own cost,
and resolves user names), then posts one message; the UI thread assigns the Snapshot inside
`batch_update()`, feeds the bounded histories and lets the screen on top render what changed.

Launch: `run_app(root, args)` (from `ctop_py.cli`), or `CtopApp(source, ...)` with any
`SnapshotSource` (tests and screenshots use `StaticSource`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from ctop_py import present
from ctop_py.host import HostRoot
from ctop_py.model import Snapshot
from ctop_py.ui.base import LiveScreen
from ctop_py.ui.commands import CtopCommands
from ctop_py.ui.history import Histories
from ctop_py.ui.screens.container import ContainerScreen
from ctop_py.ui.screens.containers import ContainersScreen
from ctop_py.ui.screens.help import HelpScreen
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
    namespaces_at,
)
from ctop_py.ui.widgets.container_table import ContainerTable
from ctop_py.ui.widgets.detail_pane import Loader

INTERVALS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)


class SnapshotReady(Message):
    """Posted by the collect worker (from its thread)."""

    def __init__(self, snapshot: Snapshot | None, own: SelfStats, users: Mapping[int, str]) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.own = own
        self.users = users


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
        by default the owning user namespaces are not read (no host at hand)."""
        super().__init__()
        self.source = source
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

    def get_default_screen(self) -> Screen[None]:
        return ContainersScreen(show_all=self.show_all)

    def on_mount(self) -> None:
        if self.autostart:
            self.collect()
            self._timer = self.set_interval(self.interval_s, self.tick)

    # -- collecting --------------------------------------------------------------------------

    def tick(self) -> None:
        """The timer: start a collection unless paused or one is still running."""
        if not self.paused and not self._collecting:
            self.collect()

    def collect(self) -> Worker[None]:
        """Ask the source for the next Snapshot in a worker thread."""
        self._collecting = True
        return self._collect()

    @work(thread=True, group="collect", exit_on_error=False)
    def _collect(self) -> None:
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
        self.post_message(SnapshotReady(snapshot, own, users))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self._collecting = False
        self.own = message.own
        screen = self.screen
        current = self.snapshot
        same = (
            current is not None
            and message.snapshot is not None
            and (message.snapshot.raw is current.raw)
        )
        if message.snapshot is None or same:
            # Nothing new (a static source ran out, a replay at its end): only our own figures.
            if isinstance(screen, LiveScreen):
                screen.show_status()
            return
        with self.batch_update():
            self.snapshot = message.snapshot
            self.user_names.update(message.users)
            self.histories.feed(message.snapshot)
            self.generation += 1
            if isinstance(screen, LiveScreen):
                screen.show_snapshot()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "collect":
            return
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._collecting = False
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
        self.paused = not self.paused
        self._status_changed()

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
        self.push_screen(
            HelpScreen(
                [
                    ("everywhere", list(self.BINDINGS)),
                    ("containers", [*ContainerTable.BINDINGS, *ContainersScreen.BINDINGS]),
                    ("one container", list(ContainerScreen.BINDINGS)),
                    ("namespaces", list(NamespacesScreen.BINDINGS)),
                ]
            )
        )

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
    from ctop_py.sources import LiveSource
    from ctop_py.ui.loaders import live_loaders
    from ctop_py.ui.source import live_namespaces_at

    source = LiveSource(root)
    try:
        app = CtopApp(
            source,
            interval_s=float(getattr(args, "interval", None) or 1.0),
            show_all=bool(getattr(args, "all", False)),
            loaders=live_loaders(source.collector.root),
            namespaces=live_namespaces_at(source.collector.root),
        )
        result = app.run()
    finally:
        source.close()
    return result if isinstance(result, int) else 0
