"""The list's own floor on a fake v2 root (benchmarks/list_floor.py, the bench's fake-app
step): the files it reads every tick are the ones the app itself keeps open on that tree,
checked against the running app's fds (/proc/PID/fd), not against list_floor's tracer; and it
pays the app's per-read link-count check there (one fstat a file), checked against stat(2)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from benchmarks import list_floor
from benchmarks.appbench import AppRun
from benchmarks.fakehost import FakeV2Host
from tests.conftest import require

COUNT = 6


def _fds_under(pid: int, root: str) -> set[str]:
    """The files under `root` that process `pid` holds open (its /proc/PID/fd)."""
    found = set()
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:  # closed since the listing
            continue
        if target.startswith(root + "/"):
            found.add(target)
    return found


def test_the_floors_reads_on_a_fake_root_are_the_files_the_app_keeps_open(
    tmp_path: Path,
) -> None:
    require(shutil.which("tmux"), "tmux (the app runs in it as the bench runs it)")
    host = FakeV2Host(tmp_path / "fake", COUNT).build()
    root = os.path.realpath(host.base)
    run = AppRun(tmp_path, root=Path(root))
    try:
        reads = list_floor.app_reads(Path(root))
        run.start()
        rec = run.wait_first_frame(timeout_s=60)
        assert "first_frame" in rec, rec.get("error")
        pid = int(rec["pid"])
        time.sleep(3.5)  # a few 1 s ticks: every file it reads each tick is kept by now
        held = _fds_under(pid, root)
        held_again = _fds_under(pid, root)
    finally:
        run.stop()
    every_tick = set(reads["kept"]) | set(reads["opened"])
    due = set(reads["due"])
    assert reads["containers"] == COUNT
    scopes = {
        p.name
        for p in (Path(root) / "sys/fs/cgroup/system.slice").iterdir()
        if p.name.startswith("docker-")
    }
    assert len(scopes) == COUNT
    # Every container's cgroup is read each tick by the floor, as by the app.
    assert {s for s in scopes if any(f"/{s}/" in p for p in every_tick)} == scopes
    # The app keeps open every file the floor reads each tick ...
    assert every_tick <= held & held_again, sorted(every_tick - (held & held_again))[:5]
    # ... and holds nothing else but the due files (limits and PSI, a fifth a tick).
    assert held | held_again <= every_tick | due, sorted((held | held_again) - every_tick - due)
    assert reads["opened"] == []  # v2: the app keeps even cgroup.procs open


def test_the_floor_checks_each_fake_file_as_the_app_does(tmp_path: Path) -> None:
    host = FakeV2Host(tmp_path / "fake", 3).build()
    reads = list_floor.app_reads(host.base)
    reader = list_floor.Reader(reads)
    try:
        assert reader.fds == []  # nothing on procfs or cgroupfs here: each read checked
        assert len(reader.checked) == len(reads["kept"]) > 0
        for (fd, links), path in zip(reader.checked, reads["kept"], strict=True):
            assert os.path.samefile(f"/proc/self/fd/{fd}", path)
            assert links == os.stat(path).st_nlink
            assert fd >= 1024  # above select(2)'s limit, as the app keeps them
        reader.read()
    finally:
        for fd, _ in reader.checked:
            os.close(fd)
