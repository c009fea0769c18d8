"""A list read through a kept fd (net/dev, cgroup.procs: `KeptFiles.read(path, to_eof=True)`)
takes one pread when its first read is short enough to be all of it (`WHOLE_LIST`), and reads
on to its end otherwise: against this kernel's seq_files, read here to EOF."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctop_py.openfiles import WHOLE_LIST, KeptFiles


def to_eof(path: str) -> bytes:
    """The whole file, read here the plain way: read(2) until it returns nothing."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


@pytest.fixture
def preads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length each os.pread returned, while the test runs."""
    seen: list[int] = []
    real: Callable[[int, int, int], bytes] = os.pread

    def counted(fd: int, n: int, offset: int) -> bytes:
        data = real(fd, n, offset)
        seen.append(len(data))
        return data

    monkeypatch.setattr(os, "pread", counted)  # the module calls os.pread
    return seen


@pytest.fixture
def many_mappings() -> Iterator[int]:
    """A process with ~300 mappings: its /proc/PID/maps, a seq_file of ~100-byte records, is
    several pages long and still while it sleeps."""
    code = (
        "import mmap, time\n"
        "m = [mmap.mmap(-1, 4096, prot=mmap.PROT_READ | (i % 2) * mmap.PROT_WRITE)"
        " for i in range(300)]\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        yield child.pid
    finally:
        child.kill()
        child.wait()


def test_a_list_the_kernel_cuts_at_a_page_is_read_to_its_end(
    many_mappings: int, preads: list[int]
) -> None:
    path = f"/proc/{many_mappings}/maps"
    whole = to_eof(path)
    kept = KeptFiles(budget=4)
    first = kept.read(path, True)  # opened
    preads.clear()
    again = kept.read(path, True)  # through the kept fd
    assert len(kept) == 1
    # The kernel's seq_file handed the first pread less than the buffer, yet not all of it:
    # the case WHOLE_LIST must not take for the end.
    assert WHOLE_LIST < preads[0] < 4096 < len(whole)
    assert first == whole
    assert again == whole


def own_cgroup_procs() -> str:
    """This process's cgroup.procs (the unified hierarchy's, else the pids controller's)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            base = "/sys/fs/cgroup" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else None
            base = base or "/sys/fs/cgroup/unified"
        elif "pids" in controllers.split(","):
            base = "/sys/fs/cgroup/pids"
        else:
            continue
        candidate = f"{base}{path.rstrip('/')}/cgroup.procs"
        if os.path.exists(candidate):
            return candidate
    pytest.fail("no cgroup.procs for this process")


@pytest.fixture
def lone_netns_pid() -> Iterator[int]:
    """A process in a network namespace of its own (`lo` alone): its net/dev is short
    whatever the host holds (the host's own lists every container's veth)."""
    child = subprocess.Popen(["unshare", "--net", "sleep", "120"])
    try:
        for _ in range(200):  # until the child has entered its namespace
            if os.readlink(f"/proc/{child.pid}/ns/net") != os.readlink("/proc/self/ns/net"):
                break
            time.sleep(0.01)
        else:
            pytest.fail("unshare --net did not give the child a namespace of its own")
        yield child.pid
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("which", ["net/dev", "cgroup.procs"])
def test_a_short_list_is_one_pread_and_the_kernels_bytes(
    which: str, preads: list[int], lone_netns_pid: int
) -> None:
    path = f"/proc/{lone_netns_pid}/net/dev" if which == "net/dev" else own_cgroup_procs()
    kept = KeptFiles(budget=4)
    kept.read(path, True)
    for _ in range(3):
        preads.clear()
        ours = kept.read(path, True)
        whole = to_eof(path)
        if ours != whole:  # a pid came or went between the two reads: once more
            ours, whole = kept.read(path, True), to_eof(path)
        assert ours == whole
        assert len(whole) <= WHOLE_LIST
        assert preads == [len(ours)], "one pread, no second one to find the end"


def test_a_regular_files_list_that_grows_or_shrinks_is_read_whole(
    tmp_path: Path, preads: list[int]
) -> None:
    """A fake root's list (a regular file) rewritten in place between reads: each read is the
    file as it is, whether it is shorter than WHOLE_LIST or longer than a page."""
    f = tmp_path / "dev"
    kept = KeptFiles(budget=4)
    for size in (100, 3000, WHOLE_LIST, WHOLE_LIST + 1, 4095, 9000, 70000, 200, 5000, 10):
        content = bytes((48 + i % 10) for i in range(size))
        with open(f, "r+b" if f.exists() else "wb") as out:  # in place: the kept fd sees it
            out.write(content)
            out.truncate()
        assert kept.read(str(f), True) == content
    assert len(kept) == 1
