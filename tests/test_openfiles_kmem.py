"""The kernel memory a kept file holds (ctop_py/openfiles.py's doc: ~4.4 KiB a cgroup file, its
seq_file buffer), counted by the kernel itself: memory.kmem.usage_in_bytes of a v1 memory
cgroup the reading process is moved into, with the files kept and after they are closed; and
CTOP_KEEP_FILES=0 holding none of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require

MEMORY = Path("/sys/fs/cgroup/memory")
GROUPS = 100
NAMES = ("memory.stat", "memory.usage_in_bytes", "memory.limit_in_bytes", "memory.failcnt",
         "memory.max_usage_in_bytes", "memory.kmem.usage_in_bytes", "memory.oom_control",
         "memory.swappiness", "memory.soft_limit_in_bytes", "memory.numa_stat")  # fmt: skip

# Moves itself into TOP, keeps (or not: CTOP_KEEP_FILES) its child groups' files open over
# ticks; prints: files read, files kept, kmem held while kept, kmem after close().
CHILD = """
import os, sys
from ctop_py.openfiles import KeptFiles
top, paths = sys.argv[1], sys.argv[2:]
with open(f"{top}/cgroup.procs", "w") as f:
    f.write(str(os.getpid()))
def kmem():
    with open(f"{top}/memory.kmem.usage_in_bytes") as f:
        return int(f.read())
kept = KeptFiles()
for _ in range(3):
    for p in paths:
        kept.read(p)
    kept.end_tick()
held, count = kmem(), len(kept)
kept.close()
print(len(paths), count, held, kmem())
"""


@pytest.mark.parametrize("setting", ["", "0"])
def test_a_kept_cgroup_file_holds_a_page_of_kernel_memory(setting: str) -> None:
    require(os.geteuid() == 0, "root (to make a memory cgroup)")
    require((MEMORY / "memory.kmem.usage_in_bytes").exists(), "cgroup v1 kmem accounting")
    top = MEMORY / f"ctop-py-test-kmem-{os.getpid()}-{setting or 'default'}"
    children = [top / f"c{i}" for i in range(GROUPS)]
    top.mkdir()
    try:
        for child in children:
            child.mkdir()
        paths = [str(child / name) for child in children for name in NAMES]
        env = {**os.environ, "CTOP_KEEP_FILES": setting}
        out = subprocess.run([sys.executable, "-c", CHILD, str(top), *paths], env=env,
                             capture_output=True, text=True, timeout=120,
                             cwd=Path(__file__).parent.parent)  # fmt: skip
        assert out.returncode == 0, out.stderr
        files, kept, held, after = map(int, out.stdout.split())
        per_file = (held - after) / files
        if setting == "0":
            assert kept == 0
            assert abs(per_file) < 512, (held, after)  # nothing held: flat within noise
        else:
            assert kept == files == GROUPS * len(NAMES)
            assert 2048 <= per_file <= 8192, (held, after)  # a seq_file's page, about
    finally:
        for child in children:
            if child.exists():
                child.rmdir()
        top.rmdir()
