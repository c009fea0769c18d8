"""What the app does when the user acts on a container: the actions menu, the confirmation, the
action in a worker with its progress and outcome, the shell (the app suspended meanwhile), and
saving the chosen columns to the config file.

A mixin of CtopApp: it needs `acting` (None in a replay), `prefs` (the config file as read),
`config_path`, `read_only_mode`, and `tick()`. Screens ask for all of it with messages
(`ActOn`, `ShellIn`, `SaveColumns`).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from ctop_py import config as cfg
from ctop_py import present
from ctop_py.actions import READ_ONLY_MESSAGE, STOP_TIMEOUT_S, Action, Actions, Outcome
from ctop_py.engine import EngineError
from ctop_py.model import ContainerView
from ctop_py.ui.messages import ActOn, SaveColumns, ShellIn
from ctop_py.ui.screens.actions import ActionsMenu, Choice, Confirm
from ctop_py.ui.screens.containers import READ_ONLY_SAVE, why_not

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[int]
else:
    _Base = object

# Runs the shell for `e`: (container id, shell argv) -> exit code. The default suspends the app.
ShellRunner = Callable[[str, Sequence[str]], int]

LIVE_ONLY = "actions are live only: a replay shows a recording, not this host's containers"


class ActingMixin(_Base):
    acting: Actions | None
    prefs: cfg.Config
    config_path: Path | None
    shell_runner: ShellRunner | None
    last_outcome: str | None
    read_only_mode: bool  # --read-only: no actions, no shell, no config file written

    def tick(self) -> Any: ...  # CtopApp's: collect now unless one is running or paused

    def on_act_on(self, message: ActOn) -> None:
        self.open_actions(message.view)

    def on_shell_in(self, message: ShellIn) -> None:
        self.run_shell(message.view)

    def on_save_columns(self, message: SaveColumns) -> None:
        self.save_columns(message.columns)

    # -- the menu and its confirmation -----------------------------------------------------

    def refuse(self) -> bool:
        """Say why no action can run here (and return True), or return False."""
        if self.acting is None:
            self.notify(LIVE_ONLY, severity="warning", markup=False)
            return True
        if self.acting.read_only or self.read_only_mode:
            self.notify(READ_ONLY_MESSAGE, severity="warning", markup=False)
            return True
        problem = self.acting.unreachable()  # no socket, or not ours: say so before the menu
        if problem is not None:
            self.last_outcome = present.safe(problem, 300)
            self.notify(self.last_outcome, severity="error", markup=False)
            return True
        return False

    def refuse_on(self, view: ContainerView) -> bool:
        """`refuse()`, or say why no action can run on this container (and return True)."""
        if self.refuse():
            return True
        reason = why_not(view)
        if reason:
            self.notify(reason, severity="warning", markup=False)
            return True
        return False

    def open_actions(self, view: ContainerView) -> None:
        if self.refuse_on(view):
            return
        state = view.raw.state
        shell = shlex.join(self.prefs.shell)

        def chosen(choice: Choice | None) -> None:
            if choice is None:
                return
            if choice.action is Action.EXEC:
                self.run_shell(view)
                return
            self.push_screen(
                Confirm(choice.question(present.safe(view.name, 60))),
                lambda ok: self._confirmed(bool(ok), choice, view),
            )

        self.push_screen(ActionsMenu(view.name, state, shell), chosen)

    def _confirmed(self, ok: bool, choice: Choice, view: ContainerView) -> None:
        name = present.safe(view.name, 60)
        if not ok:
            self.last_outcome = f"cancelled: {name} was left as it was"
            self.notify(self.last_outcome, markup=False)
            return
        self.last_outcome = f"{choice.progress} {name}…"
        # the progress stays up until the outcome replaces it (a stop may take 10 s)
        self.notify(self.last_outcome, markup=False, timeout=STOP_TIMEOUT_S + 20)
        self._act(choice, view.id, name)

    @work(thread=True, group="action", exit_on_error=False)
    def _act(self, choice: Choice, ref: str, name: str) -> None:
        assert self.acting is not None
        try:
            outcome = self.acting.run(choice.action, ref, force=choice.force)
        except EngineError as exc:
            self.call_from_thread(self._failed, f"{choice.action.value} {name} failed: {exc}")
            return
        self.call_from_thread(self._acted, outcome)

    def _acted(self, outcome: Outcome) -> None:
        self.last_outcome = present.safe(outcome.message, 200)
        self.clear_notifications()  # the progress
        self.notify(self.last_outcome, markup=False)
        self._engine_changed()
        self.tick()  # show the new state now, not a tick later

    def _engine_changed(self) -> None:
        """The engine's listing (names, states) is cached for a few seconds by the collector:
        after an action, the next sample lists again, so the row shows the new state."""
        source = getattr(getattr(self, "controller", None), "source", None)
        collector = getattr(source, "collector", None)
        for engine in getattr(collector, "engines", ()):
            engine.expire()

    def _failed(self, message: str) -> None:
        self.last_outcome = present.safe(message, 300)
        self.clear_notifications()
        self.notify(self.last_outcome, severity="error", markup=False, timeout=8)

    # -- the shell -------------------------------------------------------------------------------

    def run_shell(self, view: ContainerView) -> None:
        """`e`: suspend the app, run the shell in the container on this terminal, come back."""
        if self.refuse_on(view):
            return
        runner = self.shell_runner or self._suspended_shell
        name = present.safe(view.name, 60)
        try:
            code = runner(view.id, self.prefs.shell)
        except EngineError as exc:
            self._failed(str(exc))
            return
        self.last_outcome = f"the shell in {name} exited (code {code})"
        self.notify(self.last_outcome, markup=False)
        self.refresh(layout=True)

    def _suspended_shell(self, ref: str, shell: Sequence[str]) -> int:
        from textual.app import SuspendNotSupported

        assert self.acting is not None
        try:
            with self.suspend():
                print(f"ctop-py: a shell in {ref[:12]}; exit it to come back to ctop-py")
                return self.acting.exec_shell(ref, shell)
        except SuspendNotSupported:
            raise EngineError("this terminal cannot hand over to a shell") from None

    # -- the column chooser's "save" -----------------------------------------------------------

    def save_columns(self, columns: tuple[str, ...]) -> None:
        if self.read_only_writes():
            self.notify(READ_ONLY_SAVE, severity="warning", markup=False)
            return
        if self.config_path is None:
            self.notify("no config file to save to", severity="warning", markup=False)
            return
        self.prefs = replace(self.prefs, columns=columns)
        try:
            path = cfg.save(self.prefs, self.config_path)
        except OSError as exc:
            self._failed(f"could not save {self.config_path}: {exc.strerror or exc}")
            return
        self.notify(f"columns saved to {present.safe(str(path))}", markup=False)

    def read_only_writes(self) -> bool:
        """--read-only also means: no config file written."""
        return self.read_only_mode or (self.acting is not None and self.acting.read_only)

    def can_act(self) -> bool:
        """The actions keys show (live, not read-only)."""
        return self.acting is not None and not self.acting.read_only and not self.read_only_mode
