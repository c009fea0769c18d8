"""`snapshot` and `ns` end their process without the interpreter's teardown (cli.end_process):
what they print must still all be there, their exit status kept, and a reader that went away
must not turn into a traceback."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctop_py import cli

DEMO = Path(cli.__file__).parent / "data" / "demo.rec"
SNAPSHOT = ["snapshot", "--json", "--replay", str(DEMO), "-a"]
# As a user's shell runs it: stdout to a file or pipe block-buffered (this test's own
# environment may say PYTHONUNBUFFERED, which would hide a lost buffer).
BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def test_all_of_a_snapshot_reaches_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The program's output to a file, byte for byte what main() prints when called in a
    process that ends as usual (a lost buffer would cut the file short)."""
    assert cli.main(SNAPSHOT) == 0
    in_process = capsys.readouterr().out
    out = tmp_path / "snapshot.json"
    with out.open("w") as f:
        done = subprocess.run(
            [sys.executable, "-m", "ctop_py", *SNAPSHOT], stdout=f, stderr=subprocess.PIPE,
            text=True, timeout=60, env=BUFFERED,
        )  # fmt: skip
    assert done.returncode == 0 and done.stderr == ""
    assert out.read_text() == in_process
    assert len(json.loads(in_process)["containers"]) > 1


def test_exit_status_and_errors_are_kept() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ctop_py", "snapshot", "--replay", str(DEMO), "no-such-name"],
        capture_output=True, text=True, timeout=60, env=BUFFERED,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == "ctop-py: no such container: no-such-name"


def test_a_reader_that_went_away_is_no_error() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ctop_py", *SNAPSHOT], stdout=write_end,
            stderr=subprocess.PIPE, text=True, timeout=60, env=BUFFERED,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == 0
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr


def test_ns_prints_whole_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ctop_py", "ns", "--json"], capture_output=True, text=True,
        timeout=60, env=BUFFERED,
    )  # fmt: skip
    assert done.returncode == 0
    namespaces = json.loads(done.stdout)
    own = os.readlink("/proc/self/ns/net")  # the host's net namespace, as the kernel names it
    assert any(f"net:[{n['inode']}]" == own for n in namespaces if n["type"] == "net")


def test_the_cyclic_collector_is_off_only_for_a_one_shot_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the program (main() without arguments): the app gets the collector back where
    __main__ turned it off for the imports; `snapshot` runs and ends without it also where
    the console script left it on."""
    seen: list[object] = []

    def app(args: object) -> int:
        seen.append(("app", gc.isenabled()))
        return 0

    monkeypatch.setattr(cli, "cmd_app", app)
    monkeypatch.setattr(cli, "end_process", lambda status: seen.append(("end", gc.isenabled())))
    was_enabled = gc.isenabled()
    try:
        gc.disable()
        monkeypatch.setattr(sys, "argv", ["ctop-py"])
        assert cli.main() == 0
        gc.enable()  # as the console script leaves it
        monkeypatch.setattr(sys, "argv", ["ctop-py", "snapshot", "--replay", str(DEMO)])
        assert cli.main() == 0
        assert "demo-web" in capsys.readouterr().out
    finally:
        if was_enabled:
            gc.enable()
    assert seen == [("app", True), ("end", False)]
