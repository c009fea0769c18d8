"""A container's cgroup.procs opened and read each tick (cgroup v1: not kept, see
discover.read_procs) is read once when its first read is short enough to be all of it
(openfiles.WHOLE_LIST), and to its end otherwise: against the kernel's file read here to EOF,
on real containers with a few and with ~900 processes (a list longer than a page)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from ctop_py.cgroupfs import ParseCache
from ctop_py.discover import read_procs
from ctop_py.openfiles import WHOLE_LIST
from tests.conftest import BASE_IMAGE, RunContainer, wait_for
from tests.test_collect_due_kept_live import cgroup_dir
from tests.test_openfiles_lists import to_eof

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("processes", [3, 900])
def test_cgroup_procs_read_whole_in_as_few_reads(
    run_container: RunContainer, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    ctr = run_container(
        BASE_IMAGE, ["sh", "-c", f"for i in $(seq {processes}); do sleep 3600 & done; wait"]
    )
    directory = cgroup_dir(int(ctr.attrs["State"]["Pid"]), "pids")
    procs = str(directory / "cgroup.procs")
    wait_for(lambda: len(to_eof(procs).split()) > processes or None, 60, "its processes")
    reads: list[int] = []
    real: Callable[[int, int], bytes] = os.read

    def counted(fd: int, n: int) -> bytes:
        data = real(fd, n)
        reads.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counted)
    ours = read_procs([str(directory)], ParseCache())
    monkeypatch.undo()
    whole = to_eof(procs)
    assert ours == tuple(sorted(set(map(int, whole.split()))))
    if len(whole) <= WHOLE_LIST:
        assert reads == [len(whole)], "one read, no second one to find the end"
    else:  # the kernel hands a read one page at most: read on to the end
        assert len(reads) > 2 and reads[-1] == 0 and sum(reads) == len(whole)
