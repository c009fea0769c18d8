"""The due files read by directory (`collect._read_by_directory`: a directory's files opened
relative to it) give what reading each by its whole path gives (`_read_plain`): on a tree
made here, with absent files, absent and replaced directories and unreadable entries, and on
this host's own cgroup files (read here with open())."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctop_py.cgroupfs import detect_layout, due_files
from ctop_py.collect import _read_by_directory, _read_plain
from ctop_py.host import HostRoot
from ctop_py.model import CgroupMode


def by_open(paths: list[str]) -> list[bytes | None]:
    """Ground truth, read here: each file's bytes, None when it is not there."""
    out: list[bytes | None] = []
    for p in paths:
        try:
            out.append(Path(p).read_bytes())
        except FileNotFoundError:
            out.append(None)
    return out


def test_a_directorys_files_read_as_by_their_paths(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "cpu.max").write_bytes(b"max 100000\n")
    (a / "memory.max").write_bytes(b"536870912\n")
    (a / "big").write_bytes(b"x" * 70000)  # past one read's buffer
    (b / "pids.max").write_bytes(b"max\n")
    paths = [
        f"{a}/cpu.max",
        f"{a}/absent",
        f"{a}/memory.max",
        f"{a}/big",
        f"{b}/pids.max",  # a directory of one file
        f"{tmp_path}/gone/x",  # a directory not there: its files are gone
        f"{tmp_path}/gone/y",
        f"{a}/cpu.max",  # back to a directory read before
        f"{b}/pids.max",
    ]
    expected = by_open(paths)
    assert _read_by_directory(paths) == expected == _read_plain(paths)
    assert _read_by_directory([]) == [] == _read_plain([])


def test_a_directory_replaced_by_a_file_and_an_entry_that_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"1\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "sub").mkdir()
    (tmp_path / "d" / "ok").write_bytes(b"2\n")
    # A path through a file (ENOTDIR): gone, both ways.
    through_file = [f"{tmp_path}/file/a", f"{tmp_path}/file/b", f"{tmp_path}/d/ok"]
    assert _read_by_directory(through_file) == [None, None, b"2\n"] == _read_plain(through_file)
    # A directory where a file is expected (EISDIR): not gone, so no answer, both ways.
    is_dir = [f"{tmp_path}/d/ok", f"{tmp_path}/d/sub"]
    assert _read_by_directory(is_dir) is None
    assert _read_plain(is_dir) is None


def test_no_directory_fd_is_left_open(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"1")
    paths = [f"{tmp_path}/f", f"{tmp_path}/g", f"{tmp_path}/f"]
    before = set(os.listdir("/proc/self/fd"))
    for _ in range(50):
        _read_by_directory(paths)
        _read_by_directory([*paths, str(tmp_path)])  # ends in an error: closed too
    assert set(os.listdir("/proc/self/fd")) <= before


def own_cgroup() -> str:
    """This process's cgroup path, from /proc/self/cgroup (the unified line, else cpu's)."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "" or "cpu" in controllers.split(","):
            return path
    pytest.fail("no cgroup for this process")


def test_this_hosts_due_files_read_by_directory_are_the_kernels() -> None:
    layout = detect_layout(HostRoot())
    paths, _ = due_files(layout, own_cgroup(), psi=layout.mode is CgroupMode.V2)
    assert len(paths) >= 3
    for _ in range(3):  # a counter may move between two reads: compare the limits' files
        ours, truth = _read_by_directory(paths), by_open(list(paths))
        if ours == truth:
            break
    assert ours == truth
    assert any(d is not None for d in truth)
