"""ctop-py stacks against a real container running a Python spinner.

The test image is busybox only, so the container borrows the host's Debian interpreter: the
host's /usr bind-mounted read-only, and /lib, /lib64 (symlinks into /usr on this merged-/usr
host) bind-mounted from where they point, for the dynamic loader and libc."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ctop_py import cli, stacks
from tests.conftest import BASE_IMAGE, SLEEP, RunContainer, deadline_s

pytestmark = pytest.mark.docker

# The interpreter lent to the container: Debian's, or else the one running the tests (its
# prefix is bind-mounted too).
HOST_PYTHON = Path("/usr/bin/python3")
if not HOST_PYTHON.exists():
    HOST_PYTHON = Path(os.path.realpath(sys.executable))
PROGRAM = """\
import threading, time
def ctop_test_idle_waiter():
    time.sleep(3600)
threading.Thread(target=ctop_test_idle_waiter, name="ctop-idle", daemon=True).start()
def ctop_test_hot_loop():
    while True:
        pass
ctop_test_hot_loop()
"""


def host_python_volumes() -> dict[str, dict[str, str]]:
    volumes = {"/usr": {"bind": "/usr", "mode": "ro"}}
    for top in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.exists(top):  # a real dir, or a merged-/usr symlink: bind what it points to
            volumes[os.path.realpath(top)] = {"bind": top, "mode": "ro"}
    if not HOST_PYTHON.is_relative_to("/usr"):
        prefix = os.path.realpath(sys.base_prefix)
        volumes[prefix] = {"bind": prefix, "mode": "ro"}
    return volumes


@pytest.fixture
def spinner(run_container: RunContainer) -> Any:
    ctr = run_container(
        BASE_IMAGE, [str(HOST_PYTHON), "-c", PROGRAM], volumes=host_python_volumes()
    )
    pid = int(ctr.attrs["State"]["Pid"])
    # Wait until the interpreter runs our functions (py-spy cannot read it mid-startup).
    deadline = time.monotonic() + deadline_s(10)
    while True:
        try:
            names = {f.name for t in stacks.dump(pid).threads for f in t.frames}
            if {"ctop_test_hot_loop", "ctop_test_idle_waiter"} <= names:
                return ctr
        except stacks.StackError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the spinner never showed its functions: {ctr.logs()!r}")
        time.sleep(0.1)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_stacks_json_shows_the_hot_function(
    spinner: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "stacks", spinner.name, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["container"]["id"] == spinner.id
    (proc,) = data["processes"]
    assert proc["pid"] == spinner.attrs["State"]["Pid"]
    assert proc["pid_in_container"] == 1
    assert proc["blocking"] is False
    threads = {t["name"]: t for t in proc["threads"]}
    main = threads["MainThread"]
    assert main["frames"][0]["name"] == "ctop_test_hot_loop"
    assert main["active"] is True
    assert main["os_thread_id"] == 1  # the TID inside the container's pid namespace
    idle = threads["ctop-idle"]
    assert "ctop_test_idle_waiter" in [f["name"] for f in idle["frames"]]
    # py-spy alone says "active" here (it looks the in-container TID up among host TIDs);
    # the OS state, matched through NSpid, says it sleeps.
    assert (idle["active"], idle["os_state"]) == (False, "S")
    host_tids = {int(t) for t in os.listdir(f"/proc/{proc['pid']}/task")}
    assert idle["host_tid"] in host_tids and idle["host_tid"] != idle["os_thread_id"]
    assert main["host_tid"] == proc["pid"]
    assert sum(t["owns_gil"] for t in proc["threads"]) <= 1

    # The same process by its pid inside the container, as text.
    code, out, _ = run_cli(capsys, "stacks", spinner.name, "--pid", "1")
    assert code == 0
    assert "ctop_test_hot_loop (<string>:" in out
    assert 'Thread 1 "MainThread" (active' in out


def test_record_finds_the_hottest_function(spinner: Any) -> None:
    pid = int(spinner.attrs["State"]["Pid"])
    profile = stacks.record(pid, 1, rate_hz=50, gil_only=True)
    assert profile.samples > 10
    assert profile.hottest[0].name == "ctop_test_hot_loop"
    assert profile.hottest[0].self_samples > profile.samples * 0.9


def test_stacks_errors_are_one_line(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)

    def one_line(*args: str) -> str:
        code, out, err = run_cli(capsys, *args)
        assert code == 2, (out, err)
        assert out == "" and "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        return lines[0]

    assert "no Python process in container" in one_line("stacks", ctr.name)
    assert "not a Python process" in one_line("stacks", ctr.name, "--pid", "1")
    assert "is not a process of container" in one_line("stacks", ctr.name, "--pid", "999999")
    monkeypatch.setattr("sys.executable", "/nonexistent/bin/python")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "py-spy is not installed" in one_line("stacks", ctr.name)
