"""`ctop-py ns` says why namespaces were not read, truthfully (issue 13, item 18)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctop_py.cli import _unreadable_namespaces_note
from ctop_py.host import HostRoot
from tests.conftest import require


def test_a_process_that_exited_is_not_mentioned(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()  # /proc/4242 is gone: it exited between listing and reading
    assert _unreadable_namespaces_note(HostRoot(tmp_path), [4242]) is None


def test_denied_is_reported_with_the_pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def deny(path: object) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "readlink", deny)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    note = _unreadable_namespaces_note(HostRoot(tmp_path), [7, 8])
    assert note == (
        "note: the namespaces of 2 processes (pid 7, 8) are unreadable "
        "(other users' processes need root)"
    )
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    note = _unreadable_namespaces_note(HostRoot(tmp_path), [1])
    assert note is not None and "need root" not in note and "even as root" in note
    assert "1 process (pid 1)" in note


@pytest.mark.live
def test_ns_as_root_never_blames_root() -> None:
    """Run as root on this host: whatever ns cannot read, "need root" would be untrue."""
    require(os.geteuid() == 0, "this test runs as root")
    result = subprocess.run(
        [sys.executable, "-m", "ctop_py", "ns"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "need root" not in result.stderr
    for line in result.stderr.splitlines():  # every pid named is alive and really denied
        if "even as root" in line:
            pids = line.split("(pid ")[1].split(")")[0].rstrip(", …").split(", ")
            for pid in pids:
                with pytest.raises(PermissionError):
                    os.readlink(f"/proc/{pid}/ns/net")
