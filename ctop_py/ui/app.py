"""The ctop-py Textual app: composition only.

One thread worker at a time asks the controller for the next frame (and measures our own cost,
and resolves user names), then posts one message; the UI thread builds the next frozen
`UiState` and pushes it down to the screens inside `batch_update()`, feeding the bounded
histories; the screen on top renders what changed. Screens and widgets post messages up
(`ctop_py.ui.messages`); they never import this module.

Built by `make_app(source, options)` only (`ctop_py.cli` runs it; the tests and screenshots
build theirs with it too). What paces it is chosen there, once: a `LiveControl` over a source,
or for a recording (`Recorded`) a `ReplayControl`, whose cursor keys, header line and palette
entries come with it (`ctop_py.ui.control`).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.screen import ModalScreen, Screen
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from ctop_py import config as cfg
from ctop_py import malloc, present
from ctop_py.actions import Actions
from ctop_py.diagnose import Diagnoser, Diagnosis, Finding
from ctop_py.host import HostError
from ctop_py.launch import AppOptions, Recorded
from ctop_py.model import RawSample, Snapshot
from ctop_py.ui.acting import ActingMixin, ShellRunner
from ctop_py.ui.base import LiveScreen
from ctop_py.ui.commands import CtopCommands
from ctop_py.ui.control import (
    LIVE_BINDINGS,
    REPLAY_BINDINGS,
    Controller,
    LiveControl,
    ReplayControl,
    control_name,
)
from ctop_py.ui.history import Histories, container_key
from ctop_py.ui.messages import (
    ControlMoved,
    DetailWanted,
    OpenContainer,
    OpenImageLayers,
    SnapshotReady,
    StackTargetPicked,
)
from ctop_py.ui.replay import Clock, Frame, ReplayPlayer
from ctop_py.ui.screens.containers import ContainersScreen
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
from ctop_py.ui.state import UiState
from ctop_py.ui.widgets.container_table import ContainerTable

if TYPE_CHECKING:
    # Imported where they are first used: the containers list, all that most runs show,
    # needs none of them (with the loaders' renderers, 2.2 MiB of heap: 21.5 -> 19.3 MiB).
    from ctop_py.host import HostRoot
    from ctop_py.layers.explore import ExploreSource
    from ctop_py.layers.image import ImageRef
    from ctop_py.logs import Lines, LogOpener, LogOptions
    from ctop_py.ui.widgets.detail_pane import Loader

# The cyclic collector's youngest generation runs once this many more container objects
# were made than freed (Python's default: 700). Each tick makes and frees thousands (the
# samples' records, the frame's strips); the count only climbs between passes (frees do not
# take it below 0), by ~200 a tick at 300 containers, so at 700 a pass ran every 2-3 ticks
# and moved that tick's live records on to the older generations, whose passes cost more.
# What the passes find is ~50 objects of cyclic garbage a tick (Textual's worker, a header
# cache). The middle generation then runs every 2nd youngest pass (default: 10th), so what
# a pass moves there is looked at again after about as many objects made as by default
# (10,000 against 7,000): cyclic garbage is not kept minutes longer.
GC_GEN0_THRESHOLD = 5000
GC_GEN1_THRESHOLD = 2
DIAGNOSE_EVERY_S = 2.0  # live: the findings at most this old, unless an event or a container came
TRIM_EVERY_S = 10.0  # malloc.trim (~0.5-0.9 ms, on the UI thread): pages freed go back soon


def _action(binding: BindingType) -> str:
    return binding.action.split("(", 1)[0] if isinstance(binding, Binding) else ""


class WholeCellScrollBar(ScrollBarRender):
    """A scrollbar thumb of whole cells. Textual draws the thumb's ends with eighth-cell
    blocks (▁ … ▇, two cells wide on a vertical bar); on a tab whose content grows by a row a
    second (the Throttling intervals, the explorer's list) the thumb's end moved every frame,
    and outside a colour terminal (a screen capture, a screen reader, `tmux capture-pane`)
    those cells read as "▆▆", "▁▁" left over at the right edge of the screen."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * 8
    HORIZONTAL_BARS: ClassVar[list[str]] = [" "] * 8


ScrollBar.renderer = WholeCellScrollBar


class CtopApp(ActingMixin, App[int]):
    CSS_PATH = "ctop.tcss"
    TITLE = "ctop-py"
    COMMANDS = App.COMMANDS | {CtopCommands}
    # Every controller's keys are listed; check_action lets through the ones of the controller
    # in use (the footer hides the others).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("space", "toggle_pause", "Pause", show=False),
        *LIVE_BINDINGS,
        Binding("n", "namespaces", "Namespaces"),
        Binding("E", "events", "Events"),
        Binding("W", "save_recent", "Save last 15 min", show=False),
        *REPLAY_BINDINGS,
    ]

    def __init__(
        self,
        controller: Controller,
        *,
        autostart: bool = True,
        show_all: bool = False,
        probe: SelfProbe | None = None,
        users: UserNames | None = None,
        loaders: Mapping[str, Loader] | None = None,
        namespaces: NamespaceLister | None = None,
        stack_targets: dict[str, int] | None = None,
        explore: ExploreSource | None = None,
        explore_root: HostRoot | None = None,
        acting: Actions | None = None,
        open_logs: LogOpener | None = None,
        prefs: cfg.Config = cfg.DEFAULT,
        config_path: Path | None = None,
        read_only: bool = False,
        shell_runner: ShellRunner | None = None,
    ) -> None:
        """Use `make_app`. `autostart=False`: no timer; call `collect()` to take each step
        (tests). `loaders`: functions filling the container screen's on-demand panes
        ("layers", "network", "stacks"); each runs in a worker thread with the ContainerView.
        `namespaces`: lists a sample's namespaces for the namespaces screen (worker thread).
        `stack_targets`: container key -> pid whose stacks the Stacks tab shows (the stacks
        loader reads it; `t` on the Processes tab sets it). `explore`: reads layers and
        images for the layers explorer (live only); `explore_root`: or the root to make one of,
        on first use.
        `acting`: runs the actions menu's actions (None: no actions, as in a replay);
        `open_logs`: opens a container's log stream for the Logs tab (None: no logs);
        `prefs`: the config file as read (columns, sort, shell, log_lines; the column
        chooser's "save" writes it back to `config_path`); `read_only`: no actions, no shell,
        no config file written; `shell_runner`: runs the shell for `e` (default: the app
        suspended, the shell on this terminal)."""
        super().__init__()
        self.controller = controller
        self.autostart = autostart
        self.show_all = show_all
        self.probe: SelfProbe = probe or PsutilProbe()
        self.users: UserNames = users or PasswdNames()
        self.loaders: dict[str, Loader] = dict(loaders or {})
        self.list_namespaces: NamespaceLister = namespaces or namespaces_at(NOWHERE)
        self.stack_targets: dict[str, int] = {} if stack_targets is None else stack_targets
        self._explore = explore
        self._explore_root = explore_root
        self._index: int | None = None  # the position on screen, in a replay
        self._collecting = False
        self._timer: Timer | None = None
        self._timer_every: float | None = None
        self._errors_said: set[str] = set()
        self._detail_keys: set[str] = set()
        self.acting = acting
        self.open_logs = open_logs
        self.prefs = prefs
        self.config_path = config_path
        self.read_only_mode = read_only or (acting is not None and acting.read_only)
        self.shell_runner = shell_runner
        self.last_outcome: str | None = None
        # The collect worker's only (one worker at a time): the live timeline, never reset,
        # and one for recorded frames (a replay, the live scroll-back), started again at a jump.
        limits = cfg.thresholds(prefs)  # the config's [diagnose] over the defaults
        self.diagnoser = Diagnoser(t=limits)
        self.replay_diagnoser = Diagnoser(t=limits)
        # The live findings last worked out: the sample's time, its container ids, findings.
        self._diagnosed: tuple[float, frozenset[str], dict[str, list[Finding]]] | None = None
        self._trimmed = time.monotonic()  # the allocator's free pages last handed back
        self._state = UiState(
            interval_s=controller.tick_s,
            paused=controller.paused,
            replay=controller.status(None),
            replaying=controller.replaying,
            reads_host=controller.reads_host,
            shadowed=controller.shadowed,
            acting=acting is not None and not self.read_only_mode,
            read_only=self.read_only_mode,
        )

    # -- the state, pushed down ----------------------------------------------------------------

    @property
    def state(self) -> UiState:
        return self._state

    @property
    def snapshot(self) -> Snapshot | None:
        return self._state.snapshot

    @property
    def own(self) -> SelfStats | None:
        return self._state.own

    @property
    def histories(self) -> Histories:
        return self._state.histories

    @property
    def user_names(self) -> Mapping[int, str]:
        return self._state.user_names

    @property
    def generation(self) -> int:
        return self._state.generation

    @property
    def paused(self) -> bool:
        return self.controller.paused

    @property
    def interval_s(self) -> float:
        return self.controller.tick_s

    @property
    def replay(self) -> ReplayPlayer | None:
        """The player of a replay (tests, the jump dialog); None live."""
        controller = self.controller
        return controller.player if isinstance(controller, ReplayControl) else None

    @property
    def replay_index(self) -> int | None:
        """The sample on screen, in a replay."""
        return self._index

    def _update(self, render: str | None, **changes: Any) -> None:
        """The next state (the controller's status with `changes`), pushed to every live
        screen; the one on top renders it ("snapshot": all, "status": its header)."""
        controller = self.controller
        self._state = replace(
            self._state,
            interval_s=controller.tick_s,
            paused=controller.paused,
            replay=controller.status(self._index),
            **changes,
        )
        top = self.screen if self.screen_stack else None
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen):
                screen.push(self._state, render if screen is top else None)

    def use_controller(self, controller: Controller) -> None:
        """Swap what paces the app (the live ring buffer of recent samples: step back into a
        ReplayControl over them, then return to the LiveControl). Its keys, header line and
        palette entries follow; the histories are kept until its first frame."""
        self.controller = controller
        self._index = None
        self._state = replace(
            self._state,
            replaying=controller.replaying,
            reads_host=controller.reads_host,
            shadowed=controller.shadowed,
        )
        self._moved()
        if self.autostart and not self._collecting:
            self.collect()

    # -- collecting --------------------------------------------------------------------------

    def run(self, *args: Any, **kwargs: Any) -> int | None:
        """The app in a terminal (`cli.run_app`; tests use run_test). What is alive now (the
        imported modules, the collector) lives as long as the process: frozen out of the
        cyclic collector, which in 3.11 runs a full pass only once what survived into the
        oldest generation since the last one is a quarter of what is in it. Counting those
        ~40,000 objects there let the cycles of each tick's samples pile up for minutes first
        (100 moving containers, three 3-minute runs each: RSS at the end 62.5 MiB on average,
        60.3 frozen; noisy, one run in three the other way). The allocator is set before
        Textual starts its threads (`ctop_py.malloc`; CTOP_MALLOC=off leaves it as it is). The
        youngest generation's pass runs less often (GC_GEN0_THRESHOLD), the middle one after
        fewer of those (GC_GEN1_THRESHOLD)."""
        if os.environ.get("CTOP_MALLOC") != "off":
            malloc.tune()
        gc.collect()
        gc.freeze()
        young, _, oldest = gc.get_threshold()
        if young < GC_GEN0_THRESHOLD:
            gc.set_threshold(GC_GEN0_THRESHOLD, GC_GEN1_THRESHOLD, oldest)
        return super().run(*args, **kwargs)

    def get_default_screen(self) -> Screen[None]:
        prefs = self.prefs
        return ContainersScreen(
            self._state,
            show_all=self.show_all,
            sort=prefs.sort,
            reverse=prefs.reverse,
            columns=prefs.columns,
        )

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal; on Linux, one whose input thread sleeps while
        no key comes (`ctop_py.ui.driver`)."""
        from textual.drivers.linux_driver import LinuxDriver

        from ctop_py.ui.driver import driver_class

        driver = super().get_driver_class()
        return driver_class() if driver is LinuxDriver else driver

    def on_unmount(self) -> None:
        if self.acting is not None:
            self.acting.close()

    def on_mount(self) -> None:
        self._update(None)
        if self.autostart:
            self.collect()
            self._rearm()

    def _rearm(self) -> None:
        """The timer runs at the controller's pace (live: the refresh interval)."""
        every = self.controller.tick_s
        if not self.autostart or every == self._timer_every:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(every, self.tick)
        self._timer_every = every

    def tick(self) -> None:
        """The timer: start a collection when the controller says one is due (not paused; a
        replay's next sample due: a cheap check on this thread) and none is running. Every
        TRIM_EVERY_S, the allocator's free pages go back to the kernel (`malloc.trim`: only
        once `run()` tuned it): the ticks take them again within seconds, so once a minute
        the peak was 3.3 MiB higher at 100 containers (same run, 4 min: 59.6 against 56.3)."""
        now = time.monotonic()
        if now - self._trimmed >= TRIM_EVERY_S:
            self._trimmed = now
            malloc.trim()
        if not self._collecting and self.controller.due():
            self.collect()

    def collect(self) -> Worker[None]:
        """Ask the controller for the next frame in a worker thread."""
        self._collecting = True
        return self._collect(frozenset(self.histories.pinned))

    @work(thread=True, group="collect", exit_on_error=False)
    def _collect(self, pinned: frozenset[str]) -> None:
        frame = self.controller.next_frame(pinned)
        own = self.probe()
        users: Mapping[int, str] = {}
        diagnosis = None
        if frame is not None:
            diagnosis = self._diagnose(frame)
            known = self._state.user_names
            uids = {
                p.process.uid
                for c in frame.snapshot.containers
                for p in c.processes
                if p.process.uid is not None and p.process.uid not in known
            }
            users = self.users(uids) if uids else {}
        self.post_message(SnapshotReady(frame, own, users, diagnosis))

    def _diagnose(self, frame: Frame) -> Diagnosis:
        """The worker thread: the timeline and findings up to this frame. A replay's jump (or a
        move back) starts them again from the frame."""
        diagnoser = self.diagnoser if frame.index is None else self.replay_diagnoser
        if frame.index is not None and frame.histories is not None:
            diagnoser.reset()
            for before in frame.context:
                diagnoser.feed(before)
        log = diagnoser.log.events
        newest = log[-1] if log else None
        for skipped in frame.backlog:
            diagnoser.feed(skipped.raw)
        sample = frame.snapshot.raw
        diagnoser.feed(sample)
        if frame.index is not None:  # a replay shows each sample's own diagnosis
            return diagnoser.diagnosis(diagnoser.current())
        # Live, the findings (over a 10 s window) are worked out again when a new event came,
        # containers came or went, or DIAGNOSE_EVERY_S after the last time: a change shows
        # within two ticks at a 1 s refresh, and a quiet host does not pay for it every tick.
        ids = frozenset(c.id for c in sample.containers)
        last = self._diagnosed
        if (
            last is None
            or (log[-1] if log else None) is not newest
            or ids != last[1]
            or not 0 <= sample.time - last[0] < DIAGNOSE_EVERY_S
        ):
            last = self._diagnosed = (sample.time, ids, diagnoser.current())
        return diagnoser.diagnosis(last[2])

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self._collecting = False
        frame = message.frame
        current = self._state.snapshot
        if frame is None or (
            frame.index is None and current is not None and frame.snapshot.raw is current.raw
        ):
            # Nothing new (a static source ran out, a replay at its end): only our own figures.
            self._settled()
            self._update("status", own=message.own)
            return
        with self.batch_update():
            histories = self._state.histories
            if frame.histories is not None:  # the cursor went back or jumped: rebuilt
                frame.histories.pinned = histories.pinned
                histories = frame.histories
            for skipped in frame.backlog:
                histories.feed(skipped)
            histories.feed(frame.snapshot)
            if frame.index is not None:
                self._index = frame.index
            names = self._state.user_names
            if message.users:
                names = {**names, **message.users}
            self._settled()
            self._update(
                "snapshot",
                snapshot=frame.snapshot,
                own=message.own,
                user_names=names,
                histories=histories,
                generation=self._state.generation + 1,
                diagnosis=message.diagnosis or self._state.diagnosis,
            )

    def _settled(self) -> None:
        """After a frame (or nothing new): fetch what was asked for while the worker ran."""
        self._rearm()  # the pace may have changed with the frame (out of the scroll-back)
        if self.controller.pending and not self._collecting:
            self.collect()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "collect":
            return
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._collecting = False
            self.controller.failed()
        if event.state == WorkerState.ERROR:
            reason = present.safe(str(event.worker.error), 300)
            if reason not in self._errors_said:  # say each reason once, keep sampling
                self._errors_said.add(reason)
                self.notify(f"sampling failed: {reason}", severity="error", markup=False)

    # -- actions -------------------------------------------------------------------------------

    def _moved(self) -> None:
        """The controller's position, pace or play state changed on this thread."""
        if not self._collecting and self.controller.pending:
            self.collect()
        self._rearm()
        self._update("status")

    def on_control_moved(self, message: ControlMoved) -> None:
        self._moved()

    def action_toggle_pause(self) -> None:
        self.controller.toggle_pause()
        self._moved()

    def action_control(self, action: str, *args: Any) -> None:
        """A key (or palette entry) of the controller: step, jump, speed, refresh interval."""
        self.controller.control(self, action, *args)
        self._moved()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "control":
            return self.controller.allowed(
                str(parameters[0]) if parameters else "",
                isinstance(self.screen, ModalScreen),
                isinstance(self.focused, Input),
            )
        return True

    @property
    def explore(self) -> ExploreSource | None:
        """The layers explorer's source, made on first use (the list never imports it)."""
        if self._explore is None and self._explore_root is not None:
            from ctop_py.layers.explore import ExploreSource

            self._explore = ExploreSource(self._explore_root)
        return self._explore

    @explore.setter
    def explore(self, explore: ExploreSource | None) -> None:
        self._explore = explore

    def action_help(self) -> None:
        from ctop_py.ui.screens.actions import MENU_BINDINGS
        from ctop_py.ui.screens.column_chooser import ColumnChooser
        from ctop_py.ui.screens.container import ContainerScreen
        from ctop_py.ui.screens.help import HelpScreen
        from ctop_py.ui.screens.namespaces import NamespacesScreen
        from ctop_py.ui.widgets.layer_explorer import LayerExplorer
        from ctop_py.ui.widgets.logs_view import LogsView

        if isinstance(self.screen, HelpScreen):
            return
        controller = self.controller
        own = controller.bindings
        everywhere = [
            b
            for b in self.BINDINGS
            if control_name(b) is None or (controller.help_section is None and b in own)
        ]
        sections: list[tuple[str, list[BindingType]]] = [("everywhere", everywhere)]
        if controller.help_section is not None:
            sections.append((controller.help_section, list(own)))
        table = [b for b in ContainerTable.BINDINGS if _action(b) not in controller.shadowed]
        acting = self._state.acting
        sections += [
            ("containers", [*table, *ContainersScreen.bindings_for_help(acting)]),
            ("one container", ContainerScreen.bindings_for_help(acting)),
            ("layers explorer (Layers tab, image layers)", list(LayerExplorer.BINDINGS)),
            ("namespaces", list(NamespacesScreen.BINDINGS)),
            ("logs (the Logs tab)", list(LogsView.BINDINGS)),
            ("columns (c)", list(ColumnChooser.BINDINGS)),
        ]
        if acting:
            sections.append(("actions (x); y confirms", list(MENU_BINDINGS)))
        self.push_screen(HelpScreen(sections, replay=controller.replaying))

    def action_events(self) -> None:
        from ctop_py.ui.screens.events import EventsScreen

        if not isinstance(self.screen, EventsScreen):
            self.push_screen(EventsScreen(self._state))

    def action_save_recent(self) -> None:
        """W: the live app's ring of recent samples to a recording in the current directory."""
        controller = self.controller
        if not isinstance(controller, LiveControl):
            self.notify("a replay is a recording already", markup=False)
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self._save_ring(controller, f"ctop-py-recent-{stamp}.ctoprec")

    @work(thread=True, group="save", exit_on_error=False)
    def _save_ring(self, controller: LiveControl, path: str) -> None:
        """Off the UI thread: a full ring takes about a second to write."""
        try:
            count, size = controller.save_ring(path)
        except HostError as exc:
            self.call_from_thread(
                self.notify,
                f"not saved: {present.safe(str(exc), 300)}",
                severity="error",
                markup=False,
            )
            return
        self.call_from_thread(
            self.notify,
            f"saved the last {count} samples ({present.size(size)}) to {path}: "
            f"ctop-py replay {path}",
            markup=False,
            timeout=10,
        )

    def action_namespaces(self) -> None:
        from ctop_py.ui.screens.namespaces import NamespacesScreen

        if not isinstance(self.screen, NamespacesScreen):
            self.push_screen(NamespacesScreen(self._state, self.list_namespaces))

    # -- messages from screens -----------------------------------------------------------------

    def on_detail_wanted(self, message: DetailWanted) -> None:
        """The container screen for a key opened or closed: its history is kept while it is
        on screen, and a live source reads per-process detail only for the ones on screen."""
        if message.wanted:
            self._detail_keys.add(message.key)
            self.histories.pin(message.key)
        else:
            self._detail_keys.discard(message.key)
            self.histories.unpin(message.key)
        snapshot = self._state.snapshot
        views = snapshot.containers if snapshot is not None else ()
        ids = frozenset(v.id for v in views if container_key(v) in self._detail_keys)
        reads = self.controller.want_detail(ids)
        wanted = reads and message.wanted and self.autostart and not self.paused
        if wanted and not self._collecting:
            self.collect()  # fill the Processes tab now, not a tick later

    def on_open_container(self, message: OpenContainer) -> None:
        self.open_container(message.key)

    def on_stack_target_picked(self, message: StackTargetPicked) -> None:
        from ctop_py.ui.screens.container import ContainerScreen

        self.stack_targets[message.key] = message.pid
        screen = self.screen
        if isinstance(screen, ContainerScreen) and screen.key == message.key:
            screen.show_stacks()

    def open_container(self, key: str) -> None:
        from ctop_py.ui.screens.container import ContainerScreen

        if isinstance(self.screen, ContainerScreen) and self.screen.key == key:
            return
        self.push_screen(
            ContainerScreen(
                key,
                self._state,
                self.loaders,
                self.explore,
                open_logs=self.open_logs,
                log_lines=self.prefs.log_lines,
            )
        )

    def on_open_image_layers(self, message: OpenImageLayers) -> None:
        self.open_image_layers(message.ref)

    def open_image_layers(self, ref: str) -> None:
        """The layers of a local image, read from the image store (live only)."""
        if self.explore is None or not self._state.reads_host:
            self.notify("image layers are live only: a recording has none", severity="warning")
            return
        from ctop_py.ui.screens.layers import ImageLayersScreen

        self.push_screen(ImageLayersScreen(self.explore, ref))

    def image_refs(self) -> tuple[ImageRef, ...]:
        """Local images for the palette (reads the image store: call it off the UI thread)."""
        if self.explore is None or not self._state.reads_host:
            return ()
        return self.explore.images()

    def containers_action(self, action: str, *args: str) -> None:
        """Run an action of the containers screen (from the command palette), showing it."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ContainersScreen):
            self.pop_screen()
        screen = self.screen
        if isinstance(screen, ContainersScreen):
            getattr(screen, f"action_{action}")(*args)


DEFAULT_OPTIONS = AppOptions()


def _engine_logs_on_first_use(root: HostRoot) -> LogOpener:
    """`logs.engine_logs(root)`, its module imported when the Logs tab first opens a stream."""

    def open_logs(ref: str, options: LogOptions) -> Lines:
        from ctop_py.logs import engine_logs

        return engine_logs(root)(ref, options)

    return open_logs


def make_app(
    source: SnapshotSource | Recorded,
    options: AppOptions = DEFAULT_OPTIONS,
    *,
    probe: SelfProbe | None = None,
    users: UserNames | None = None,
    loaders: Mapping[str, Loader] | None = None,
    namespaces: NamespaceLister | None = None,
    acting: Actions | None = None,
    open_logs: LogOpener | None = None,
    shell_runner: ShellRunner | None = None,
) -> CtopApp:
    """The one way the app is built (the CLI and the tests). A `LiveSource` gets the live
    panes (layers, network, stacks) and the host's namespaces; a `Recorded` one becomes a
    replay: nothing of this host is read for the recorded containers (no user names beyond
    root, namespaces from the recorded processes only, the live-only panes say so, no logs
    and no actions). A `LiveSource` also gets the actions (off under `options.read_only`) and
    the logs, through the Docker socket of its root. Raises
    ValueError for a recording without samples, TimeError (a ValueError) for a `start_at` it
    cannot read. The caller closes the source."""
    from ctop_py.sources import LiveSource

    controller: Controller
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
        controller = ReplayControl(player)
        users = users or fixed_names({0: "root"})
        namespaces = namespaces or namespaces_at(NOWHERE)
    else:
        controller = LiveControl(source, options.interval_s)
    targets: dict[str, int] = {}
    explore_root: HostRoot | None = None
    if isinstance(source, LiveSource):
        from ctop_py.ui.loaders import live_loaders
        from ctop_py.ui.source import live_namespaces_at

        root = source.collector.root
        loaders = live_loaders(root, targets) if loaders is None else loaders
        namespaces = namespaces or live_namespaces_at(root)
        explore_root = root
        if acting is None:
            from ctop_py.engine import connect, socket_problem

            acting = Actions(
                lambda: connect(root, what="actions"),
                read_only=options.read_only,
                check=lambda: socket_problem(root, "actions"),
            )
        if open_logs is None:
            open_logs = _engine_logs_on_first_use(root)
    return CtopApp(
        controller,
        autostart=options.autostart,
        show_all=options.show_all,
        probe=probe,
        users=users,
        loaders=loaders,
        namespaces=namespaces,
        stack_targets=targets,
        explore_root=explore_root,
        acting=acting,
        open_logs=open_logs,
        prefs=options.prefs,
        config_path=options.config_path,
        read_only=options.read_only,
        shell_runner=shell_runner,
    )


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
