"""The real thing in a real terminal (tmux): `e` suspends the app, runs a shell in the container
on the terminal, and the app comes back when the shell exits; CTOP_PY_READ_ONLY=1 refuses it.
Ground truth: `docker diff` sees what the shell did."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import BASE_IMAGE, REPO, RunContainer, require

pytestmark = pytest.mark.docker

POLITE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]


class Tmux:
    """One session on a private tmux server (its own socket, no user config): other tmux
    servers on this machine and their options do not matter."""

    def __init__(self, socket: str, session: str) -> None:
        self.tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
        self.session = session

    def run(self, *args: str) -> str:
        out = subprocess.run([*self.tmux, *args], capture_output=True, text=True, check=True)
        return out.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {what}; the screen:\n{screen}")
            time.sleep(0.2)

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False)

    def _alive(self) -> bool:
        done = subprocess.run([*self.tmux, "has-session", "-t", self.session], capture_output=True)
        return done.returncode == 0

    def wait_until_ended(self, what: str, timeout: float = 10) -> None:
        """The session's program has exited (tmux then ends the session)."""
        deadline = time.monotonic() + timeout
        while self._alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {what}; the screen:\n{self.screen()}")
            time.sleep(0.2)


def start_app(config: Path, *args: str, env: tuple[str, ...] = ()) -> Tmux:
    """`python -m ctop_py --config CONFIG ARGS…` as the only program of a new 150x40 session
    on its own tmux server (kill it with `Tmux.kill`)."""
    require(shutil.which("tmux"), "tmux (make deps installs it)")
    name = f"ctop-py-test-{uuid.uuid4().hex[:8]}"
    tmux = Tmux(name, name)
    command = [
        # pytest's environment carries COLUMNS=80 LINES=24 (from a plugin): the app would
        # believe them over the terminal
        "env", "-u", "COLUMNS", "-u", "LINES", f"PYTHONPATH={REPO}", "TERM=xterm-256color",
        *env, sys.executable, "-m", "ctop_py", "--config", str(config), *args,
    ]  # fmt: skip
    tmux.run("new-session", "-d", "-s", name, "-x", "150", "-y", "40", *command)
    return tmux


@pytest.fixture
def tmux_app(tmp_path: Path) -> Iterator[Callable[..., Tmux]]:
    started: list[Tmux] = []
    config = tmp_path / "config.toml"
    config.write_text('columns = ["name", "state", "cpu"]\n')

    def start(*env: str) -> Tmux:
        tmux = start_app(config, env=env)
        started.append(tmux)
        size = tmux.run("display", "-p", "-t", tmux.session, "#{window_width}x#{window_height}")
        assert size == "150x40\n"
        return tmux

    yield start
    for tmux in started:
        tmux.kill()


def select(tmux: Tmux, name: str) -> None:
    tmux.wait_for(lambda s: name in s, f"{name} in the list", timeout=60)
    tmux.keys("/")
    tmux.wait_for(lambda s: "filter by name" in s, "the filter field")
    tmux.keys(name, literal=True)
    tmux.keys("Enter")
    tmux.wait_for(lambda s: f"filter {name}" in s and "1/" in s, "the filtered list")


def diff(container_id: str) -> list[str]:
    out = subprocess.run(["docker", "diff", container_id], capture_output=True, text=True)
    return out.stdout.splitlines()


def test_exec_suspends_the_app_and_returns(
    tmux_app: Callable[..., Tmux], run_container: RunContainer
) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    tmux = tmux_app("CTOP_PY_READ_ONLY=")
    select(tmux, ctr.name)
    tmux.keys("e")
    shell = tmux.wait_for(lambda s: "/ #" in s, "the container's shell prompt")
    assert "exit it to come back to ctop-py" in shell
    assert "running containers" not in shell  # the app is suspended, the shell has the screen
    tmux.keys("touch /made-in-tmux; exit 3", literal=True)
    tmux.keys("Enter")
    back = tmux.wait_for(lambda s: "exited (code 3)" in s, "the app again")
    assert f"filter {ctr.name}" in back and "ctop-py itself" in back
    assert "A /made-in-tmux" in diff(ctr.id)
    # Keys still reach the app after the shell (its input thread started again): q ends it.
    tmux.keys("q")
    tmux.wait_until_ended("q quitting the app after the shell")


def test_read_only_environment_refuses_the_shell(
    tmux_app: Callable[..., Tmux], run_container: RunContainer
) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    tmux = tmux_app("CTOP_PY_READ_ONLY=1")
    select(tmux, ctr.name)
    screen = tmux.screen()
    assert "x Actions" not in screen  # hidden
    for key in ("e", "x"):
        tmux.keys(key)
        screen = tmux.wait_for(lambda s: "read-only mode" in s, "the refusal")
    assert "/ #" not in screen and "actions on" not in screen
    assert diff(ctr.id) == []
    tmux.keys("q")
