"""The app acting on containers: the actions menu and its confirmation, the shell, the Logs tab,
the column chooser, read-only mode, an empty host. Static sources where no engine is needed;
the real engine (and `docker inspect` / `docker diff` as ground truth) where it is."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ctop_py import config as cfg
from ctop_py.actions import Action, Actions, Outcome
from ctop_py.host import HostRoot
from ctop_py.logs import STDERR, STDOUT, LogLine, LogOptions
from ctop_py.sources import LiveSource
from ctop_py.ui import app as ui_app
from ctop_py.ui.app import CtopApp
from ctop_py.ui.screens.actions import ActionsMenu, Confirm
from ctop_py.ui.screens.column_chooser import ColumnChooser
from ctop_py.ui.screens.container import ContainerScreen
from ctop_py.ui.screens.containers import ContainersScreen
from ctop_py.ui.source import SelfStats, StaticSource, fixed_names, fixed_probe
from ctop_py.ui.widgets.logs_view import LogLines, LogsView
from tests.appscript import app_script
from tests.conftest import BASE_IMAGE, RunContainer
from tests.test_ui import (
    SNAPSHOTS,
    TEST_OPTIONS,
    _help_lines,
    drive,
    key_of,
    make_app,
    static_text,
    step,
    table,
)

# pid 1 of a container gets no default SIGTERM handler: this one exits on TERM at once.
POLITE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]


def with_options(snapshots: Sequence[Any], **options: Any) -> CtopApp:
    """The test app (test_ui.make_app) with AppOptions changed; the rest are make_app's."""
    extra = {k: options.pop(k) for k in ("acting", "open_logs", "shell_runner") if k in options}
    return ui_app.make_app(
        StaticSource(snapshots),
        replace(TEST_OPTIONS, **options),
        probe=fixed_probe(SelfStats(1.0, 50 * 1024 * 1024)),
        users=fixed_names({0: "root", 999: "postgres"}),
        **extra,
    )


def no_engine() -> Any:
    raise AssertionError("the engine was contacted")


def log_lines(app: CtopApp) -> list[str]:
    return app.screen.query_one(LogLines).plain_lines()


# -- static: no engine ------------------------------------------------------------------------


class FakeLines:
    """Canned log lines, then (when `follow`) more as the test releases them."""

    def __init__(self, lines: Sequence[LogLine], later: Sequence[LogLine] = ()) -> None:
        self.lines = list(lines)
        self.later = list(later)
        self.release = threading.Event()
        self.closed = threading.Event()
        self.options: LogOptions | None = None

    def __iter__(self) -> Iterator[LogLine]:
        yield from self.lines
        if self.later:
            self.release.wait(10)
            yield from self.later
        self.closed.wait(10)

    def close(self) -> None:
        self.closed.set()


HOSTILE = "[bold red]boom[/] \x1b]0;pwned\x07 \x1b[2J end"
LINES = [
    LogLine(STDOUT, "starting up", "2026-01-01T00:00:00.000000001Z"),
    LogLine(STDERR, "warning: disk almost full", "2026-01-01T00:00:01.000000001Z"),
    LogLine(STDOUT, HOSTILE, "2026-01-01T00:00:02.000000001Z"),
    LogLine(STDOUT, "x" * 100_000, "2026-01-01T00:00:03.000000001Z"),
]


async def open_logs_tab(app: CtopApp, pilot: Pilot[int], name: str = "spinner") -> LogsView:
    await step(app, pilot, 2)
    app.open_container(key_of(app, name))
    await pilot.pause()
    await pilot.press("9")
    await pilot.pause()
    return app.screen.query_one(LogsView)


async def settle(pilot: Pilot[int], view: LogsView, until: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the Logs tab never showed what was expected"
        view.drain()
        await pilot.pause(0.05)


def test_logs_tab_literal_text_streams_search_timestamps_follow() -> None:
    fake = FakeLines(LINES, later=[LogLine(STDOUT, "arrived later", "2026-01-01T00:00:04Z")])
    opened: list[tuple[str, LogOptions]] = []

    def opener(ref: str, options: LogOptions) -> FakeLines:
        opened.append((ref, options))
        return fake

    app = make_app(SNAPSHOTS, open_logs=opener)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        view = await open_logs_tab(app, pilot)
        await settle(pilot, view, lambda: len(log_lines(app)) == 4)
        assert opened[0][1].follow and opened[0][1].timestamps
        shown = log_lines(app)
        assert shown[0] == " starting up"
        assert shown[1] == "▌warning: disk almost full"  # stderr is marked
        # markup is text, escape sequences are visible escapes: nothing reaches the terminal
        assert shown[2] == " [bold red]boom[/] \\x1b]0;pwned\\x07 \\x1b[2J end"
        assert shown[3].startswith(" " + "x" * 3999 + "x … 96,000 more characters")
        # timestamps on demand
        await pilot.press("T")
        assert log_lines(app)[0] == " 2026-01-01T00:00:00.000000001Z starting up"
        await pilot.press("T")
        # stdout / stderr apart
        await pilot.press("o")  # stdout only
        assert all(not line.startswith("▌") for line in log_lines(app))
        await pilot.press("o")  # stderr only
        assert log_lines(app) == ["▌warning: disk almost full"]
        await pilot.press("o")  # both again
        # search: only matching lines, case-insensitive
        await pilot.press("slash", *"BOOM", "enter")
        assert log_lines(app) == [" [bold red]boom[/] \\x1b]0;pwned\\x07 \\x1b[2J end"]
        assert "search 'BOOM': 1 lines" in static_text(app, "#logs-status")
        await pilot.press("escape")  # clears the search, stays on the tab
        assert isinstance(app.screen, ContainerScreen) and len(log_lines(app)) == 4
        # pause: new lines are kept but not drawn until f resumes
        await pilot.press("f")
        fake.release.set()
        await settle(pilot, view, lambda: view.waiting == 1)
        assert len(log_lines(app)) == 4
        assert "paused (1 new lines" in static_text(app, "#logs-status")
        await pilot.press("T")  # the paused view keeps its lines through a redraw
        assert len(log_lines(app)) == 4 and log_lines(app)[0].startswith(" 2026-01-01T00")
        await pilot.press("T")
        await pilot.press("f")
        assert log_lines(app)[-1] == " arrived later"
        await pilot.press("escape")  # back to the list; the stream is closed
        await pilot.pause()
        assert isinstance(app.screen, ContainersScreen)
        assert fake.closed.wait(5)

    drive(app, scenario)


def test_logs_tab_memory_is_bounded_under_a_flood() -> None:
    flood = [LogLine(STDOUT, f"line {i}") for i in range(30_000)]
    app = make_app(SNAPSHOTS, open_logs=lambda ref, options: FakeLines(flood))
    app.prefs = cfg.Config(log_lines=1000)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        view = await open_logs_tab(app, pilot)
        await settle(
            pilot, view, lambda: view.buffer.lines and view.buffer.lines[-1].text == "line 29999"
        )
        assert view.max_lines == 1000
        assert len(view.buffer) == 1000 and len(view.lines_log.rows) == 1000
        assert log_lines(app)[-1] == " line 29999"
        started = time.perf_counter()
        view.redraw()
        assert time.perf_counter() - started < 1.0  # only the rows in view are drawn

    drive(app, scenario)


def test_logs_tab_says_why_it_has_nothing() -> None:
    def failing(ref: str, options: LogOptions) -> FakeLines:
        from ctop_py.engine import NeedsSocket

        raise NeedsSocket("logs needs the Docker socket: permission denied on /var/run/x.sock")

    app = make_app(SNAPSHOTS, open_logs=failing)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        view = await open_logs_tab(app, pilot)
        await settle(pilot, view, lambda: view.ended is not None)
        status = static_text(app, "#logs-status")
        assert "stopped: logs needs the Docker socket: permission denied" in status

    drive(app, scenario)


def test_read_only_hides_and_refuses_every_action() -> None:
    acting = Actions(no_engine, read_only=True)
    app = with_options(SNAPSHOTS, acting=acting, read_only=True)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        shown = {
            b.binding.key
            for b in app.screen.active_bindings.values()
            if b.enabled and b.binding.show
        }
        assert "c" in shown and "x" not in shown  # the actions are hidden
        for key in ("x", "e"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ContainersScreen)  # no menu, no shell
        assert not app.screen.check_action("actions_menu", ())
        app.open_container(key_of(app, "spinner"))
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ContainerScreen)
        notes = [n.message for n in app._notifications]
        assert notes and all(n.startswith("read-only mode") for n in notes)

    drive(app, scenario)


class SlowActions(Actions):
    """Actions that wait for the test before they report (no engine)."""

    def __init__(self) -> None:
        super().__init__(no_engine)
        self.go = threading.Event()
        self.done: list[tuple[Action, str, bool]] = []

    def run(self, action: Action, ref: str, *, force: bool = False) -> Outcome:
        assert self.go.wait(10)
        self.done.append((action, ref, force))
        return Outcome(action, "spinner", "exited", "spinner stopped (exited)")


def test_progress_then_outcome() -> None:
    acting = SlowActions()
    app = with_options(SNAPSHOTS, acting=acting)

    def notes() -> list[str]:
        return [n.message for n in app._notifications]

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        assert table(app).select_key(key_of(app, "spinner"))
        await pilot.press("x", "s")
        assert isinstance(app.screen, Confirm)
        assert app.screen.question == "Stop container spinner?"
        await pilot.press("y")
        await pilot.pause()
        assert notes() == ["stopping spinner…"]  # progress, while the engine works
        assert acting.done == []
        acting.go.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert notes() == ["spinner stopped (exited)"]  # the outcome replaces it
        snapshot = app.state.snapshot
        assert snapshot is not None
        view = next(v for v in snapshot.containers if v.name == "spinner")
        assert acting.done == [(Action.STOP, view.id, False)]

    drive(app, scenario)


def test_without_the_socket_x_says_so_in_one_line(tmp_path: Path) -> None:
    from ctop_py.engine import socket_problem

    root = HostRoot.at(tmp_path)  # a host whose socket is missing
    acting = Actions(no_engine, check=lambda: socket_problem(root, "actions"))
    app = with_options(SNAPSHOTS, acting=acting)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        for key in ("x", "e"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ContainersScreen)  # no menu, no shell
            sock = tmp_path / "var/run/docker.sock"
            assert app.last_outcome == f"actions needs the Docker socket: no socket at {sock}"

    drive(app, scenario)


def test_replay_has_no_actions() -> None:
    app = make_app(SNAPSHOTS)  # no `acting`: as in a replay

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ContainersScreen)
        assert [n.message for n in app._notifications][-1].startswith("actions are live only")

    drive(app, scenario)


def test_column_chooser_hides_reorders_and_saves(tmp_path: Path) -> None:
    path = tmp_path / "ctop-py" / "config.toml"
    app = with_options(SNAPSHOTS, prefs=cfg.Config(interval=2.0), config_path=path)

    def header() -> list[str]:
        return [str(c.key.value) for c in table(app).ordered_columns]

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        assert header() == list(cfg.COLUMN_KEYS)
        await pilot.press("c")
        assert isinstance(app.screen, ColumnChooser)
        await pilot.press("space")  # NAME cannot be hidden
        await pilot.press("down", "space")  # hide IMAGE
        await pilot.press("down", "down", "J", "J")  # CPU % two places down
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ContainersScreen)
        expected = ["name", "state", "cpuq", "thr", "cpu", "spark", "mem", "memp", "net", "io"]
        expected += ["pids", "diagnosis"]
        assert header() == expected
        assert table(app).get_cell(key_of(app, "spinner"), "name").plain == "spinner"
        assert not path.exists()  # enter applies, it does not save
        # cancel changes nothing
        await pilot.press("c", "down", "space", "escape")
        await pilot.pause()
        assert header() == expected
        # w saves: the file as read (interval 2) with the new columns
        await pilot.press("c", "w")
        await pilot.pause()
        saved = cfg.load(path)
        assert saved.problem is None
        assert saved.config == cfg.Config(interval=2.0, columns=tuple(expected))

    drive(app, scenario)


def test_column_chooser_in_read_only_mode_does_not_save(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    app = with_options(SNAPSHOTS, config_path=path, acting=Actions(no_engine, read_only=True))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        await pilot.press("c", "down", "space", "w")
        await pilot.pause()
        assert isinstance(app.screen, ColumnChooser)  # still open: w refused
        await pilot.press("enter")
        await pilot.pause()
        assert "image" not in [str(c.key.value) for c in table(app).ordered_columns]
        assert not path.exists()

    drive(app, scenario)


def test_config_sort_and_columns_are_the_start() -> None:
    prefs = cfg.Config(sort="name", reverse=True, columns=("name", "mem", "state"))
    app = with_options(SNAPSHOTS, prefs=prefs)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        assert [str(c.key.value) for c in table(app).ordered_columns] == ["name", "mem", "state"]
        screen = app.screen
        assert isinstance(screen, ContainersScreen)
        assert (screen.sort_key, screen.reverse) == ("name", True)
        names = [
            table(app).get_cell(str(r.key.value), "name").plain for r in table(app).ordered_rows
        ]
        assert names == sorted(names, key=str.lower, reverse=True)

    drive(app, scenario)


def test_an_empty_host_says_so_and_points_to_the_demo() -> None:
    empty = [replace(s, containers=()) for s in SNAPSHOTS[:2]]
    app = make_app(empty)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        text = static_text(app, "#empty")
        assert text.startswith("No containers on this host.") and "ctop-py --demo" in text

    drive(app, scenario)


def test_help_lists_logs_columns_and_actions() -> None:
    app = make_app(SNAPSHOTS, acting=Actions(no_engine))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 1)
        shown = {
            b.binding.key
            for b in app.screen.active_bindings.values()
            if b.enabled and b.binding.show
        }
        assert {"x", "c"} <= shown  # live and not read-only: the actions are offered
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(_help_lines(app))
        for needed in ("Actions", "Columns", "Follow / pause", "Timestamps", "stdout / stderr",
                       "remove, forced (-f)", "exec a shell", "Apply and save"):  # fmt: skip
            assert needed in text, needed

    drive(app, scenario)


# -- live: the real engine --------------------------------------------------------------------


def status(ref: str) -> dict[str, Any]:
    out = subprocess.run(
        ["docker", "inspect", "-f", "{{json .State}}", ref], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    import json

    state: dict[str, Any] = json.loads(out.stdout)
    return state


def live_app(
    prefs: cfg.Config = cfg.DEFAULT, shell_runner: Any = None
) -> tuple[CtopApp, LiveSource]:
    """The app over this host as `ctop-py` builds it: the real actions and logs."""
    source = LiveSource(HostRoot())
    app = ui_app.make_app(
        source,
        replace(TEST_OPTIONS, prefs=prefs),
        probe=fixed_probe(SelfStats(1.0, 1 << 20)),
        shell_runner=shell_runner,
    )
    return app, source


async def wait_actions(app: CtopApp, pilot: Pilot[int]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.docker
def test_actions_menu_confirm_and_cancel(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    started = status(ctr.id)["StartedAt"]
    app, source = live_app()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        assert table(app).select_key(key_of(app, ctr.name))
        # a cancelled confirmation changes nothing: n, esc, or any other key
        for cancel in ("n", "escape", "q"):
            await pilot.press("x")
            assert isinstance(app.screen, ActionsMenu)
            await pilot.press("s")
            assert isinstance(app.screen, Confirm)
            await pilot.press(cancel)
            await wait_actions(app, pilot)
            assert isinstance(app.screen, ContainersScreen)
            assert app.last_outcome == f"cancelled: {ctr.name} was left as it was"
            state = status(ctr.id)
            assert state["Status"] == "running" and state["StartedAt"] == started
        # esc in the menu closes it
        await pilot.press("x", "escape")
        assert isinstance(app.screen, ContainersScreen)
        # confirmed: pause, unpause (p follows the state), stop, start; from the container screen
        await pilot.press("x", "p", "y")
        await wait_actions(app, pilot)
        assert status(ctr.id)["Status"] == "paused"
        assert app.last_outcome == f"{ctr.name} paused (paused)"
        await step(app, pilot)  # the list learns the new state
        app.open_container(key_of(app, ctr.name))
        await pilot.pause()
        await pilot.press("x", "p", "y")
        await wait_actions(app, pilot)
        assert status(ctr.id)["Status"] == "running"
        await pilot.press("x", "s", "y")
        await wait_actions(app, pilot)
        assert status(ctr.id)["Status"] == "exited"
        assert app.last_outcome == f"{ctr.name} stopped (exited)"
        # an engine error is one line: pausing an exited container
        await step(app, pilot)  # the screen learns the new state (the listing was expired)
        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        assert screen.view is not None and screen.view.raw.state == "exited"
        await pilot.press("x", "p", "y")
        await wait_actions(app, pilot)
        assert app.last_outcome is not None and "\n" not in app.last_outcome
        assert app.last_outcome.startswith(f"pause {ctr.name} failed: ")
        await pilot.press("x", "S", "y")
        await wait_actions(app, pilot)
        assert status(ctr.id)["Status"] == "running"

    try:
        drive(app, scenario)
    finally:
        source.close()


@pytest.mark.docker
def test_remove_asks_and_force_only_when_asked(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    app, source = live_app()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        assert table(app).select_key(key_of(app, ctr.name))
        await pilot.press("x", "d", "y")  # a running container: the engine refuses without -f
        await wait_actions(app, pilot)
        assert "cannot remove a running container" in (app.last_outcome or "")
        assert status(ctr.id)["Status"] == "running"
        await pilot.press("x", "D")
        assert isinstance(app.screen, Confirm) and "docker rm -f" in app.screen.question
        await pilot.press("y")
        await wait_actions(app, pilot)
        gone = subprocess.run(["docker", "inspect", ctr.id], capture_output=True, text=True)
        assert gone.returncode != 0 and "No such" in gone.stderr

    try:
        drive(app, scenario)
    finally:
        source.close()


@pytest.mark.docker
def test_exec_runs_in_the_container_and_returns_to_the_app(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    outputs: list[bytes] = []

    def runner(ref: str, shell: Sequence[str]) -> int:
        """The real exec, on pipes instead of this terminal (Pilot has no terminal to give)."""
        assert app.acting is not None
        stdin_r, stdin_w = os.pipe()
        out_r, out_w = os.pipe()
        os.close(stdin_w)
        try:
            code = app.acting.exec_shell(ref, shell, stdin=stdin_r, stdout=out_w)
            os.close(out_w)
            outputs.append(os.read(out_r, 4096))
        finally:
            os.close(stdin_r)
            os.close(out_r)
        return code

    shell = ("sh", "-c", "echo in $(hostname); touch /made-from-the-app; exit 5")
    app, source = live_app(prefs=cfg.Config(shell=shell), shell_runner=runner)

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        assert table(app).select_key(key_of(app, ctr.name))
        await pilot.press("x", "e")  # from the menu
        await pilot.pause()
        assert isinstance(app.screen, ContainersScreen)  # back in the app
        assert app.last_outcome == f"the shell in {ctr.name} exited (code 5)"
        app.open_container(key_of(app, ctr.name))
        await pilot.pause()
        await pilot.press("e")  # the shortcut, from the container screen
        await pilot.pause()
        assert isinstance(app.screen, ContainerScreen)
        await step(app, pilot)  # the app goes on sampling

    try:
        drive(app, scenario)
    finally:
        source.close()
    hostname = ctr.attrs["Config"]["Hostname"]
    assert outputs == [f"in {hostname}\r\n".encode()] * 2
    diff = subprocess.run(["docker", "diff", ctr.id], capture_output=True, text=True).stdout
    assert "A /made-from-the-app" in diff.splitlines()


@pytest.mark.docker
def test_logs_tab_live(run_container: RunContainer) -> None:
    script = (
        "echo first; echo oops >&2; printf '[b]x[/b] \\033]0;pwned\\007\\n'; "
        "while :; do echo tick; sleep 0.2; done"
    )
    ctr = run_container(BASE_IMAGE, ["sh", "-c", script], network_mode="none")
    app, source = live_app()

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        app.open_container(key_of(app, ctr.name))
        await pilot.pause()
        await pilot.press("9")
        view = app.screen.query_one(LogsView)
        await settle(pilot, view, lambda: log_lines(app).count(" tick") >= 3)
        shown = log_lines(app)
        # stdout and stderr are copied apart by the engine: their order between them may vary
        assert "▌oops" in shown
        stdout = [line for line in shown if not line.startswith("▌")]
        assert stdout[:3] == [" first", " [b]x[/b] \\x1b]0;pwned\\x07", " tick"]
        # the same lines as docker logs (the stream is followed: compare what both have)
        driver = ctr.attrs["HostConfig"]["LogConfig"]["Type"]  # what the engine says
        assert f"{driver} driver" in static_text(app, "#logs-status")
        theirs = subprocess.run(["docker", "logs", ctr.id], capture_output=True)
        assert theirs.stdout.startswith(b"first\n[b]x[/b] \x1b]0;pwned\x07\ntick\n")
        assert theirs.stderr == b"oops\n"

    try:
        drive(app, scenario)
    finally:
        source.close()


APP_AS_NOBODY = app_script(
    after="""
    await pilot.press("x")
    await pilot.pause()
    print("SCREEN", type(app.screen).__name__)
    print("ACTIONS", app.last_outcome)
    await pilot.press("9")
    logs = app.screen.query_one(LogsView)
    deadline = time.monotonic() + 20
    while logs.ended is None and time.monotonic() < deadline:
        logs.drain()
        await pilot.pause(0.1)
    print("LOGS", logs.ended)
    """
)


@pytest.mark.docker
def test_the_app_as_nobody_says_logs_and_actions_need_the_socket(
    run_container: RunContainer,
) -> None:
    from tests.test_least_privilege import no_traceback, nobody_python

    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    command = nobody_python()
    if command is None:
        pytest.skip("no interpreter this project runs under as nobody (needs root and setpriv)")
    result = subprocess.run(
        [*command, "-c", APP_AS_NOBODY, ctr.id], capture_output=True, text=True, timeout=120,
        cwd="/",
    )  # fmt: skip
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["SCREEN"] == "ContainerScreen"  # no menu
    denied = "needs the Docker socket: permission denied on "
    assert lines["ACTIONS"].startswith("actions " + denied)
    assert lines["LOGS"].startswith("logs " + denied)
    assert status(ctr.id)["Status"] == "running"


def test_palette_offers_actions_and_columns() -> None:
    from ctop_py.ui.commands import CtopCommands

    app = with_options(SNAPSHOTS, acting=Actions(no_engine))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        provider = CtopCommands(app.screen)
        discovered = [hit.text async for hit in provider.discover()]
        assert "Containers: choose columns" in discovered and "Actions on spinner" in discovered
        hits = [hit async for hit in provider.search("actions on spinner")]
        max(hits, key=lambda h: h.score).command()
        await pilot.pause()
        assert isinstance(app.screen, ActionsMenu) and app.screen.container_name == "spinner"
        await pilot.press("escape")
        hits = [hit async for hit in provider.search("choose columns")]
        max(hits, key=lambda h: h.score).command()
        await pilot.pause()
        assert isinstance(app.screen, ColumnChooser)

    drive(app, scenario)
    read_only = with_options(SNAPSHOTS, acting=Actions(no_engine), read_only=True)

    async def none_read_only(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        discovered = [hit.text async for hit in CtopCommands(app.screen).discover()]
        assert not any((text or "").startswith("Actions on") for text in discovered)

    drive(read_only, none_read_only)
