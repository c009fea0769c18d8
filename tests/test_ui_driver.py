"""The app's terminal driver in a real terminal (tmux): its input thread sleeps while no key
comes, and keys still arrive (a lone Esc after Textual's delay, q quits at once).

Ground truth: the kernel's count of each thread's voluntary context switches
(/proc/<pid>/task/<tid>/status): Textual's own input thread wakes ten times a second."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

from ctop_py import demo
from ctop_py.ui.driver import ATTRIBUTES, OVERRIDDEN, QuietLinuxDriver, driver_class
from tests.fakeroot import FakeHost, v2_files
from tests.test_exec_tmux import Tmux, start_app
from tests.test_ui import make_app

ID = "c0ffee" * 10 + "abcd"
SECONDS = 5.0


def wakeups(pid: int) -> dict[str, int]:
    """Voluntary context switches of each thread of `pid`, by thread id."""
    counts: dict[str, int] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        counts[tid] = int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended
    return counts


def app_pid(tmux: Tmux) -> int:
    """The app's process: tmux runs it as the pane's process (env execs it)."""
    return int(tmux.run("display", "-p", "-t", tmux.session, "#{pane_pid}").strip())


@pytest.fixture
def app_on_fake_host(tmp_path: Path) -> Iterator[Tmux]:
    host = FakeHost(tmp_path / "root")
    path = f"/system.slice/docker-{ID}.scope"
    host.write_cgroup(path, v2_files())
    host.add_process(100, "sleep", cgroup_path=path, nspid=(100, 1))
    config = tmp_path / "config.toml"
    config.write_text("")
    tmux = start_app(config, "--root", str(host.base))
    try:
        yield tmux
    finally:
        tmux.kill()


def test_input_thread_sleeps_and_keys_still_arrive(app_on_fake_host: Tmux) -> None:
    tmux = app_on_fake_host
    tmux.wait_for(lambda s: "NAME" in s and "1 running" in s, "the list of the fake host")
    pid = app_pid(tmux)
    tmux.keys("p")  # paused: no collection; only the timers and the terminal remain
    tmux.wait_for(lambda s: "PAUSED" in s, "the app paused")
    before = wakeups(pid)
    time.sleep(SECONDS)
    after = wakeups(pid)
    per_thread = {tid: (after[tid] - before.get(tid, 0)) / SECONDS for tid in after}
    # Textual's own driver: its input thread alone wakes 10 times a second (select(0.1)).
    assert max(per_thread.values()) < 5, per_thread
    assert sum(per_thread.values()) < 8, per_thread

    tmux.keys("/")
    tmux.wait_for(lambda s: "filter by name" in s, "the filter's input")  # focused: type
    tmux.keys("zzz", literal=True)
    tmux.wait_for(lambda s: "zzz" in s and "filter by name" not in s, "the filter typed")
    tmux.keys("Escape")  # a lone Esc: the parser's timeout delivers it
    tmux.wait_for(lambda s: "zzz" not in s, "Esc clearing the filter", timeout=10)

    t0 = time.monotonic()
    tmux.keys("q")
    while os.path.exists(f"/proc/{pid}") and time.monotonic() - t0 < 10:
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{pid}"), "q did not quit within 10 s"
    assert time.monotonic() - t0 < 5  # the input thread was woken, not waited for


def test_textuals_own_driver_where_its_internals_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the Textual installed lacks what QuietLinuxDriver builds on, the app runs on
    Textual's LinuxDriver (as the compositor falls back to Textual's, test_ui_compositor)."""
    app = make_app(demo.snapshots(2))
    assert driver_class() is QuietLinuxDriver  # the Textual installed has them
    assert app.get_driver_class() is QuietLinuxDriver
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "textual._xterm_parser", None)  # a module gone
        assert driver_class() is LinuxDriver
        assert app.get_driver_class() is LinuxDriver
    with monkeypatch.context() as patch:
        patch.delattr(sys.modules["textual._xterm_parser"], "XTermParser")  # renamed
        assert driver_class() is LinuxDriver
    with monkeypatch.context() as patch:
        owner = next(c for c in XTermParser.__mro__ if "tick" in vars(c))
        patch.delattr(owner, "tick")  # the parser's API changed
        assert driver_class() is LinuxDriver
    for method in OVERRIDDEN:
        with monkeypatch.context() as patch:
            patch.delattr(LinuxDriver, method)  # inherited, or named otherwise
            assert driver_class() is LinuxDriver
    assert driver_class() is QuietLinuxDriver


@pytest.mark.parametrize("missing", ATTRIBUTES)
def test_an_input_thread_without_the_attributes_it_needs_is_textuals(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    """A driver that lacks an attribute LinuxDriver's __init__ used to set runs Textual's own
    input thread, not ours (which would end its thread on an AttributeError: no keys)."""
    ran: list[object] = []
    monkeypatch.setattr(LinuxDriver, "run_input_thread", lambda self: ran.append(self))
    driver = QuietLinuxDriver.__new__(QuietLinuxDriver)  # no __init__: no terminal, no signals
    attributes = {"fileno": -1, "exit_event": threading.Event(), "_debug": False}
    for name, value in attributes.items():
        if name != missing:
            setattr(driver, name, value)
    driver.run_input_thread()
    assert ran == [driver]
