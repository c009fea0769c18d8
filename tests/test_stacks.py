"""ctop_py.stacks on literal py-spy output: dump JSON, raw collapsed stacks, error texts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ctop_py import stacks
from tests.conftest import require

# `py-spy dump --pid PID --json --nonblocking` (0.4.3) on a two-thread process.
DUMP_JSON = """[
  {"pid": 20147, "thread_id": 140383994826816, "thread_name": "MainThread", "os_thread_id": 1,
   "active": true, "owns_gil": true,
   "frames": [
     {"name": "ctop_test_hot_loop", "filename": "<string>", "module": null,
      "short_filename": "<string>", "line": 3, "locals": null, "is_entry": false,
      "is_shim_entry": false},
     {"name": "<module>", "filename": "<string>", "module": null, "short_filename": "<string>",
      "line": 4, "locals": null, "is_entry": true, "is_shim_entry": true}],
   "process_info": null},
  {"pid": 20147, "thread_id": 140383990000000, "thread_name": null, "os_thread_id": 7,
   "active": false, "owns_gil": false,
   "frames": [
     {"name": "wait", "filename": "/usr/lib/python3.11/threading.py", "module": null,
      "short_filename": "threading.py", "line": 320, "locals": null, "is_entry": false,
      "is_shim_entry": false}],
   "process_info": null}
]"""

# `py-spy record -f raw`: outermost frame first, the sample count last.
RAW = """\
<module> (<string>:4);ctop_test_hot_loop (<string>:3) 49
<module> (app.py:10);work (app.py:5);helper (lib/x.py:7) 30
<module> (app.py:10);work (app.py:5) 20
<module> (app.py:10);rec (app.py:2);rec (app.py:2) 5
native_thing 2
garbage line without count
"""

PERMISSION = (
    "Permission Denied: Try running again with elevated permissions by going "
    "'sudo env \"PATH=$PATH\" !!'\n"
)
NOT_PYTHON = "Error: Failed to find python version from target process\n"
EXE_DENIED = (
    "Error: Failed to get process executable name. Check that the process is running.\n\n"
    "Caused by:\n    0: Permission denied (os error 13)\n    1: Permission denied (os error 13)\n"
)
OTHER = "Error: Failed to copy PyThreadState - try running with --native\n\nCaused by: ...\n"


def test_parse_dump_json() -> None:
    main, worker = stacks.parse_dump_json(DUMP_JSON)
    assert main.name == "MainThread"
    assert (main.os_thread_id, main.active, main.owns_gil) == (1, True, True)
    assert main.top == stacks.Frame("ctop_test_hot_loop", "<string>", "<string>", None, 3)
    assert main.frames[1].is_entry
    assert worker.name is None and not worker.active and not worker.owns_gil
    assert worker.frames[0].short_filename == "threading.py"
    ps = stacks.ProcessStacks(20147, 1, "python3", (), (main, worker), False)
    assert ps.gil_holder is main


@pytest.mark.parametrize("text", ["not json", '{"a": 1}', '[{"frames": []}]'])
def test_parse_dump_json_bad(text: str) -> None:
    with pytest.raises(stacks.PySpyFailed):
        stacks.parse_dump_json(text, 5)


def test_parse_collapsed() -> None:
    parsed = stacks.parse_collapsed(RAW)
    assert [s.count for s in parsed] == [49, 30, 20, 5, 2]
    first = parsed[0]
    assert [(f.name, f.filename, f.line) for f in first.frames] == [
        ("<module>", "<string>", 4),
        ("ctop_test_hot_loop", "<string>", 3),
    ]
    assert parsed[4].frames == (stacks.Frame("native_thing", "", None, None, 0),)
    assert stacks.parse_raw_frame("f (a.py)") == stacks.Frame("f", "a.py", "a.py", None, 0)


def test_hottest() -> None:
    hot = stacks.hottest(stacks.parse_collapsed(RAW))
    by_name = {h.name: h for h in hot}
    assert hot[0].name == "ctop_test_hot_loop"
    spin = by_name["ctop_test_hot_loop"]
    assert (spin.self_samples, spin.total_samples) == (49, 49)
    assert (by_name["work"].self_samples, by_name["work"].total_samples) == (20, 50)
    assert by_name["helper"].filename == "lib/x.py"
    # Recursion counts once per sample.
    assert (by_name["rec"].self_samples, by_name["rec"].total_samples) == (5, 5)
    assert by_name["native_thing"].filename is None
    assert len(stacks.hottest(stacks.parse_collapsed(RAW), limit=2)) == 2


@pytest.mark.parametrize(
    ("stderr", "kind", "text"),
    [
        (PERMISSION, stacks.NoPermission, "CAP_SYS_PTRACE"),
        (EXE_DENIED, stacks.NoPermission, "permission denied"),
        (NOT_PYTHON, stacks.NotPython, "not a Python process"),
        ("Error: No such process (os error 3)\n", stacks.ProcessGone, "gone"),
        (OTHER, stacks.PySpyFailed, "Failed to copy PyThreadState"),
        ("", stacks.PySpyFailed, "py-spy failed"),
    ],
)
def test_classify_failure(stderr: str, kind: type[stacks.StackError], text: str) -> None:
    err = stacks.classify_failure(stderr, 42)
    assert type(err) is kind
    assert err.pid == 42
    assert text in str(err)
    assert "\n" not in str(err)


@pytest.mark.parametrize(
    ("comm", "cmdline", "exe", "expected"),
    [
        ("python3", (), None, True),
        ("python3.11", (), None, True),
        ("gunicorn", ("/usr/bin/python3", "/app/gunicorn"), None, True),
        ("gunicorn", ("gunicorn: worker",), "/usr/local/bin/python3.12", True),
        ("pypy3", (), None, True),
        ("sleep", ("sleep", "3600"), "/bin/busybox", False),
        ("pythonista-daemon", (), None, False),
        ("sh", ("sh", "-c", "python3 x.py"), None, False),
    ],
)
def test_is_python(comm: str, cmdline: tuple[str, ...], exe: str | None, expected: bool) -> None:
    assert stacks.is_python(comm, cmdline, exe) is expected


def test_find_py_spy_next_to_interpreter_then_path(monkeypatch: pytest.MonkeyPatch) -> None:
    beside = Path(sys.executable).parent / "py-spy"
    if beside.is_file():
        assert stacks.find_py_spy() == beside
    monkeypatch.setattr(sys, "executable", "/nonexistent/bin/python")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(stacks.PySpyNotFound, match="py-spy is not installed"):
        stacks.find_py_spy()


def test_dump_of_a_vanished_pid_is_gone() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    with pytest.raises(stacks.ProcessGone, match=str(pid)):
        stacks.dump(pid)


def test_dump_of_a_non_python_process() -> None:
    import subprocess

    require(os.geteuid() == 0, "py-spy needs root to look into another process")
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(stacks.StackError) as info:
            stacks.dump(sleeper.pid)
        # As root the one right answer is "not a Python process" (not a permission problem).
        assert type(info.value) is stacks.NotPython, info.value
        assert "not a Python process" in str(info.value)
        assert "\n" not in str(info.value)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_thread_states_correct_py_spy_activity() -> None:
    main, worker = stacks.parse_dump_json(DUMP_JSON)
    sleeper = stacks.ThreadStack(9, 8, "ctop-idle", True, False, ())
    # In-container TID -> (host TID, state); TID 8 sleeps, TID 1 runs, TID 7 is unknown.
    fixed = stacks.with_thread_states([main, worker, sleeper], {1: (500, "R"), 8: (512, "S")})
    assert (fixed[0].active, fixed[0].host_tid, fixed[0].os_state) == (True, 500, "R")
    assert fixed[1] == worker  # not matched: py-spy's answer kept
    assert (fixed[2].active, fixed[2].host_tid, fixed[2].os_state) == (False, 512, "S")


def test_thread_states_of_this_process() -> None:
    from ctop_py.host import HostRoot

    states = stacks.thread_states(HostRoot(), os.getpid())
    assert states[os.getpid()] == (os.getpid(), "R")  # reading its own stat: running
    assert stacks.thread_states(HostRoot(), 2**22 + 1) == {}
