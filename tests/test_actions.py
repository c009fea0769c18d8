"""Actions on the live engine: each changes the container's state as `docker inspect` reports
it, errors are one line, read-only refuses everything without touching the socket, and exec
runs a command in the container (`docker diff` sees what it wrote)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from ctop_py.actions import READ_ONLY_MESSAGE, Action, ActionError, Actions, ReadOnly
from ctop_py.engine import EngineError, connect
from ctop_py.host import HostRoot
from tests.conftest import BASE_IMAGE, RunContainer

pytestmark = pytest.mark.docker

# pid 1 of a container gets no default SIGTERM handler: this one exits on TERM at once.
POLITE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]


def inspect(ref: str) -> dict[str, Any] | None:
    """`docker inspect` of the container, or None when the engine knows no such container."""
    result = subprocess.run(["docker", "inspect", ref], capture_output=True, text=True)
    if result.returncode != 0:
        assert "No such" in result.stderr, result.stderr
        return None
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found[0]


def status(ref: str) -> str | None:
    data = inspect(ref)
    return None if data is None else str(data["State"]["Status"])


@pytest.fixture
def actions(docker_client: Any) -> Any:
    acting = Actions(lambda: connect(HostRoot(), what="actions"))
    yield acting
    acting.close()


def test_every_action_changes_state(actions: Actions, run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    assert status(ctr.id) == "running"

    outcome = actions.run(Action.PAUSE, ctr.name)
    assert status(ctr.id) == "paused" == outcome.state
    assert inspect(ctr.id)["State"]["Paused"] is True  # type: ignore[index]
    assert outcome.message == f"{ctr.name} paused (paused)"

    actions.run(Action.UNPAUSE, ctr.id[:12])  # an id prefix works as well as the name
    assert status(ctr.id) == "running"

    before = inspect(ctr.id)
    assert before is not None
    outcome = actions.run(Action.RESTART, ctr.name)
    after = inspect(ctr.id)
    assert after is not None and after["State"]["Status"] == "running" == outcome.state
    assert after["State"]["StartedAt"] != before["State"]["StartedAt"]
    assert after["State"]["Pid"] != before["State"]["Pid"]

    outcome = actions.run(Action.STOP, ctr.name)
    stopped = inspect(ctr.id)
    assert stopped is not None and stopped["State"]["Status"] == "exited" == outcome.state
    assert stopped["State"]["ExitCode"] == 0  # it got SIGTERM, not SIGKILL

    actions.run(Action.START, ctr.name)
    assert status(ctr.id) == "running"


def test_remove_needs_force_for_a_running_container(
    actions: Actions, run_container: RunContainer
) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    with pytest.raises(ActionError) as refused:
        actions.run(Action.REMOVE, ctr.name)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"remove {ctr.name}: ")
    assert "cannot remove a running container" in message
    assert status(ctr.id) == "running"  # nothing happened

    outcome = actions.run(Action.REMOVE, ctr.name, force=True)
    assert status(ctr.id) is None and outcome.state is None
    assert outcome.message == f"{ctr.name} removed (forced)"


def test_remove_a_stopped_container(actions: Actions, run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, ["true"], network_mode="none")
    ctr.wait(timeout=30)
    assert status(ctr.id) == "exited"
    actions.run(Action.REMOVE, ctr.name)
    assert status(ctr.id) is None


def test_errors_are_one_line(actions: Actions, run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, ["true"], network_mode="none")
    ctr.wait(timeout=30)
    with pytest.raises(ActionError) as error:
        actions.run(Action.PAUSE, ctr.name)  # an exited container cannot be paused
    assert "\n" not in str(error.value) and str(error.value).startswith(f"pause {ctr.name}: ")
    assert status(ctr.id) == "exited"
    with pytest.raises(ActionError, match=r"^no such container: ctop-no-such-ctr$"):
        actions.run(Action.STOP, "ctop-no-such-ctr")


def test_read_only_refuses_everything(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")

    def no_engine() -> Any:
        raise AssertionError("read-only mode contacted the engine")

    acting = Actions(no_engine, read_only=True)
    for action in Action:
        if action is Action.EXEC:
            continue
        for force in (False, True):
            with pytest.raises(ReadOnly, match=r"^read-only mode"):
                acting.run(action, ctr.name, force=force)
    with pytest.raises(ReadOnly) as refused:
        acting.exec_shell(ctr.name, ["sh", "-c", "touch /refused"])
    assert str(refused.value) == READ_ONLY_MESSAGE
    data = inspect(ctr.id)
    assert data is not None and data["State"]["Status"] == "running"
    assert data["State"]["StartedAt"] == ctr.attrs["State"]["StartedAt"]  # never restarted
    assert (
        "/refused"
        not in subprocess.run(["docker", "diff", ctr.id], capture_output=True, text=True).stdout
    )


def test_exec_runs_in_the_container(actions: Actions, run_container: RunContainer) -> None:
    import os

    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    os.close(stdin_w)  # nothing to type
    try:
        code = actions.exec_shell(
            ctr.name,
            ["sh", "-c", "echo hello from $(hostname); touch /made-by-exec; exit 3"],
            stdin=stdin_r,
            stdout=out_w,
        )
        os.close(out_w)
        output = os.read(out_r, 4096)
    finally:
        os.close(stdin_r)
        os.close(out_r)
    assert code == 3
    assert output == f"hello from {ctr.attrs['Config']['Hostname']}\r\n".encode()  # a TTY: CR LF
    diff = subprocess.run(["docker", "diff", ctr.id], capture_output=True, text=True).stdout
    assert "A /made-by-exec" in diff.splitlines()


def test_exec_failures_are_one_line(actions: Actions, run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    with pytest.raises(ActionError) as missing:
        actions.exec_shell(ctr.name, ["/bin/bash"], stdin=0, stdout=1)
    assert "\n" not in str(missing.value)
    assert "/bin/bash cannot run in the container" in str(missing.value)
    actions.run(Action.STOP, ctr.name)
    with pytest.raises(ActionError, match="the container is not running"):
        actions.exec_shell(ctr.name, ["sh"], stdin=0, stdout=1)


def test_no_socket_is_one_line(tmp_path: Any) -> None:
    acting = Actions(lambda: connect(HostRoot.at(tmp_path), what="actions"))
    with pytest.raises(EngineError) as error:
        acting.run(Action.STOP, "anything")
    sock = tmp_path / "var/run/docker.sock"
    assert str(error.value) == f"actions needs the Docker socket: no socket at {sock}"


def test_as_nobody_actions_say_they_need_the_socket(run_container: RunContainer) -> None:
    from tests.test_least_privilege import nobody_python

    command = nobody_python()
    if command is None:
        pytest.skip("no interpreter this project runs under as nobody (needs root and setpriv)")
    ctr = run_container(BASE_IMAGE, POLITE, network_mode="none")
    code = (
        "import sys\n"
        "from ctop_py.actions import Actions, Action\n"
        "from ctop_py.engine import EngineError, connect\n"
        "from ctop_py.host import HostRoot\n"
        "try:\n"
        "    Actions(lambda: connect(HostRoot(), what='actions')).run(Action.STOP, sys.argv[1])\n"
        "except EngineError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([*command, "-c", code, ctr.name], capture_output=True, text=True)
    assert result.stderr == ""
    assert result.stdout.startswith("actions needs the Docker socket: permission denied on ")
    assert result.stdout.count("\n") == 1
    assert status(ctr.id) == "running"
