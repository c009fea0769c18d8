"""The plain floor the list is measured against (benchmarks/screens.py): its v1 files are
where this host's kernel has them (cpu and cpuacct mounted together or apart), checked
against the kernel's cgroup tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.screens import V1_FILES, _v1_controller_dir
from tests.conftest import require

CGROUP = Path("/sys/fs/cgroup")


@pytest.mark.live
def test_the_plain_floors_v1_files_exist_on_this_hosts_mounts() -> None:
    """Each of the floor's 8 files per container names a file the kernel has: checked in
    `docker`, the engine's parent cgroup (a non-root cgroup has every file a container's
    has). Before, "cpu,cpuacct/..." named nothing where cpu and cpuacct are mounted apart,
    and the floor read 5 of its 8 files."""
    require((CGROUP / "memory").is_dir(), "a cgroup v1 memory hierarchy at /sys/fs/cgroup")
    parents = [CGROUP / c / "docker" for c in ("memory", "pids", "blkio")]
    require(all(p.is_dir() for p in parents), "Docker's v1 parent cgroups (/docker)")
    for sub, names in V1_FILES:
        for name in names:
            directory = _v1_controller_dir(sub, name)
            path = CGROUP / directory / "docker" / name
            assert path.is_file(), path
            assert os.access(path, os.R_OK), path
