"""Acting on a container through the Engine API (the docker SDK): stop, start, restart, pause,
unpause, remove, and an interactive shell.

These are the only things ctop-py does that change a host. Each goes through `Actions`, which
refuses all of them in read-only mode (`--read-only`, CTOP_PY_READ_ONLY=1, or `read_only =
true` in the config) before the engine is even contacted. An engine error becomes an
`ActionError` whose message is one readable line.
"""

from __future__ import annotations

import contextlib
import enum
import os
import select
import signal
import socket
import sys
import termios
import tty
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ctop_py.engine import EngineError, NoSuchContainer, get_container, one_line

STOP_TIMEOUT_S = 10  # what `docker stop` waits before SIGKILL


class Action(enum.Enum):
    STOP = "stop"
    START = "start"
    RESTART = "restart"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    REMOVE = "remove"
    EXEC = "exec"

    @property
    def verb(self) -> str:
        return {
            Action.STOP: "stopped",
            Action.START: "started",
            Action.RESTART: "restarted",
            Action.PAUSE: "paused",
            Action.UNPAUSE: "unpaused",
            Action.REMOVE: "removed",
            Action.EXEC: "ran a shell in",
        }[self]


# The states in which an action makes sense (Docker's State.Status values).
APPLIES = {
    Action.STOP: {"running", "paused", "restarting"},
    Action.START: {"created", "exited", "dead"},
    Action.RESTART: {"running", "paused", "exited", "created", "restarting"},
    Action.PAUSE: {"running"},
    Action.UNPAUSE: {"paused"},
    Action.REMOVE: {"created", "exited", "dead", "running", "paused", "restarting"},
    Action.EXEC: {"running"},
}


class ActionError(EngineError):
    """An action failed or was refused; the message is one line."""


class ReadOnly(ActionError):
    """Refused: ctop-py runs read-only."""


READ_ONLY_MESSAGE = (
    "read-only mode: ctop-py does not act on containers "
    "(--read-only, CTOP_PY_READ_ONLY or read_only in the config)"
)


@dataclass(frozen=True)
class Outcome:
    action: Action
    container: str  # the container's name
    state: str | None  # its State.Status after the action; None once removed
    message: str  # one line, e.g. "web stopped (exited)"


ClientFactory = Callable[[], Any]


class Actions:
    """Runs actions unless read-only. `client` builds a docker.DockerClient when first needed
    (so read-only mode and a refused action never touch the socket)."""

    def __init__(
        self,
        client: ClientFactory,
        read_only: bool = False,
        check: Callable[[], str | None] | None = None,
    ) -> None:
        """`check`: a cheap test that the engine can be reached (the socket is there and ours
        to use), for the app to say so before it offers a menu; None: assume it can."""
        self._factory = client
        self._client: Any = None
        self.read_only = read_only
        self._check = check

    def _engine(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    def unreachable(self) -> str | None:
        """Why the engine cannot be reached (one line), or None."""
        return None if self._check is None else self._check()

    def refuse_if_read_only(self) -> None:
        if self.read_only:
            raise ReadOnly(READ_ONLY_MESSAGE)

    def run(self, action: Action, ref: str, *, force: bool = False) -> Outcome:
        """Do `action` to the container `ref` (name, id or id prefix). `force` only matters for
        REMOVE (docker rm -f). Raises ReadOnly, or ActionError with the engine's reason."""
        self.refuse_if_read_only()
        if action is Action.EXEC:
            raise ActionError("exec is interactive: use Actions.exec_shell")
        try:
            container = get_container(self._engine(), ref)
        except EngineError as exc:
            raise ActionError(str(exc)) from None
        name = str(container.attrs.get("Name", ref)).lstrip("/") or ref
        try:
            if action is Action.STOP:
                container.stop(timeout=STOP_TIMEOUT_S)
            elif action is Action.START:
                container.start()
            elif action is Action.RESTART:
                container.restart(timeout=STOP_TIMEOUT_S)
            elif action is Action.PAUSE:
                container.pause()
            elif action is Action.UNPAUSE:
                container.unpause()
            elif action is Action.REMOVE:
                container.remove(force=force)
        except Exception as exc:
            raise ActionError(f"{action.value} {name}: {one_line(exc)}") from None
        state = self._state_after(container, action)
        after = "" if state is None else f" ({state})"
        forced = " (forced)" if action is Action.REMOVE and force else ""
        return Outcome(action, name, state, f"{name} {action.verb}{forced}{after}")

    def _state_after(self, container: Any, action: Action) -> str | None:
        if action is Action.REMOVE:
            return None
        try:
            container.reload()
        except Exception:
            return None
        state = container.attrs.get("State") or {}
        return str(state.get("Status")) if state.get("Status") else None

    def state(self, ref: str) -> str:
        """The container's State.Status now (for `p`: pause or unpause)."""
        try:
            container = get_container(self._engine(), ref)
        except NoSuchContainer:
            raise
        except EngineError as exc:
            raise ActionError(str(exc)) from None
        return str((container.attrs.get("State") or {}).get("Status", "unknown"))

    def exec_shell(
        self,
        ref: str,
        shell: Sequence[str] = ("/bin/sh",),
        stdin: int | None = None,
        stdout: int | None = None,
    ) -> int:
        """Run `shell` in the container with a TTY, wired to this terminal (or the fds given),
        until it exits. Returns its exit code. Raises ReadOnly or ActionError."""
        self.refuse_if_read_only()
        stdin = sys.stdin.fileno() if stdin is None else stdin
        stdout = sys.stdout.fileno() if stdout is None else stdout
        api = self._engine().api
        name = ref
        try:
            container = get_container(self._engine(), ref)
            name = str(container.attrs.get("Name", ref)).lstrip("/")
            if (container.attrs.get("State") or {}).get("Status") != "running":
                raise ActionError(f"exec {name}: the container is not running")
            term = os.environ.get("TERM", "xterm")
            exec_id = api.exec_create(
                container.id, list(shell), stdin=True, tty=True, environment={"TERM": term}
            )["Id"]
            sock = api.exec_start(exec_id, tty=True, socket=True)
        except ActionError:
            raise
        except EngineError as exc:
            raise ActionError(str(exc)) from None
        except Exception as exc:
            raise ActionError(f"exec {ref}: {one_line(exc)}") from None
        raw = _raw_socket(sock)
        try:
            with (
                _resizing(lambda h, w: api.exec_resize(exec_id, height=h, width=w), stdout),
                _raw_terminal(stdin),
            ):
                pump(raw, stdin, stdout)
        finally:
            with contextlib.suppress(OSError):
                raw.close()
        try:
            code = api.exec_inspect(exec_id).get("ExitCode")
        except Exception as exc:
            raise ActionError(f"exec {name}: {one_line(exc)}") from None
        if code is None:
            return 0
        if code in (126, 127):
            raise ActionError(
                f"exec {name}: {' '.join(shell)} cannot run in the container (exit code {code});"
                " set another shell in the config (shell = ...)"
            )
        return int(code)


def _raw_socket(sock: Any) -> socket.socket:
    """The socket under the SDK's SocketIO wrapper."""
    inner = getattr(sock, "_sock", sock)
    if not isinstance(inner, socket.socket):
        raise ActionError("exec needs a local (unix or tcp) Docker socket")
    return inner


def pump(sock: socket.socket, stdin: int, stdout: int) -> None:
    """Copy stdin to the socket and the socket to stdout until the socket closes."""
    readers: list[Any] = [sock, stdin]
    while True:
        ready, _, _ = select.select(readers, [], [])
        if sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            _write_all(stdout, data)
        if stdin in ready:
            try:
                data = os.read(stdin, 65536)
            except OSError:
                data = b""
            if data:
                sock.sendall(data)
            else:
                readers.remove(stdin)  # stdin ended: keep showing the shell's output


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@contextlib.contextmanager
def _raw_terminal(fd: int) -> Iterator[None]:
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _resizing(resize: Callable[[int, int], object], fd: int) -> Iterator[None]:
    """Tell the engine the terminal's size now and whenever it changes (SIGWINCH)."""

    def apply(*_: object) -> None:
        if os.isatty(fd):
            with contextlib.suppress(Exception):
                size = os.get_terminal_size(fd)
                resize(size.lines, size.columns)

    apply()
    try:
        previous = signal.signal(signal.SIGWINCH, apply)
    except ValueError:  # not the main thread: no resizing, the shell still works
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


def pause_or_unpause(state: str) -> Action:
    return Action.UNPAUSE if state == "paused" else Action.PAUSE
