"""The floor `snapshot --json --interval 1` is measured against (benchmarks/snapshotbench.py):
a bare script that reads the files strace saw a real snapshot open. The parser is checked on
literal strace text; the trace of a real snapshot on the kernel's own paths of a running
container (its init's /proc/PID/cgroup), in each of the two samples."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.snapshotbench import (
    SAMPLE_BREAK,
    TRACED_FLOOR_SCRIPT,
    parse_strace,
    traced_files,
    write_traced_listing,
)
from tests.conftest import BASE_IMAGE, SLEEP, RunContainer, require

REPO = Path(__file__).resolve().parent.parent

STRACE = """\
101 execve("/usr/bin/python3", ["python3"], 0x7ffd /* 20 vars */) = 0
101 openat(AT_FDCWD, "/usr/lib/python3.11/json/__init__.py", O_RDONLY|O_CLOEXEC) = 3
101 openat(AT_FDCWD, "/sys/fs/cgroup", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3
101 openat(AT_FDCWD, "/proc/stat", O_RDONLY|O_CLOEXEC) = 3
101 openat(AT_FDCWD, "/sys/fs/cgroup/memory/docker/abc/memory.stat", O_RDONLY <unfinished ...>
102 poll([{fd=4, events=POLLIN}], 1, 5000 <unfinished ...>
101 <... openat resumed>)             = 4
101 openat(AT_FDCWD, "/proc/4242/stat", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
101 readlink("/proc/77/ns/net", "net:[4026531840]", 64) = 16
101 readlink("/proc/77/ns/pid", "pid:[4026531836]", 64) = 16
102 <... poll resumed>)               = 1 ([{fd=4, revents=POLLIN}])
101 clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec=1, tv_nsec=0}, NULL) = 0
101 openat(AT_FDCWD, "/proc/stat", O_RDONLY|O_CLOEXEC) = 5
101 open("/proc/77/net/dev", O_RDONLY) = 6
101 openat(AT_FDCWD, "/sys/fs/cgroup/caf\\303\\251/cpu.stat", O_RDONLY|O_CLOEXEC) = 8
101 pread64(1030</sys/fs/cgroup/memory/docker/abc/memory.stat>, "cache 0 rss 0"..., 65536, 0) = 900
101 pread64(1031</proc/77/net/dev>, "Inter-|"..., 65536, 0) = 446
101 pread64(1031</proc/77/net/dev>, "", 65536, 446) = 0
101 openat(AT_FDCWD, "/etc/localtime", O_RDONLY|O_CLOEXEC) = 7
"""


def test_strace_text_gives_the_files_opened_per_sample() -> None:
    # Left out: a failed open, a directory, a file outside /proc and /sys/fs/cgroup, and a
    # name strace wrote escaped (not ASCII: not the path the bare script would open).
    samples, readlinks = parse_strace(STRACE)
    assert samples == [
        ["/proc/stat", "/sys/fs/cgroup/memory/docker/abc/memory.stat"],
        [
            "/proc/stat",
            "/proc/77/net/dev",
            "/sys/fs/cgroup/memory/docker/abc/memory.stat",
            "/proc/77/net/dev",
        ],
    ]
    assert readlinks == 2


def test_the_bare_script_reads_its_listing_in_order(tmp_path: Path) -> None:
    """The listing is the files, one a line, with "-" between the samples; the script reads
    each (strace of the script itself shows the same opens, and it sleeps between)."""
    require(shutil.which("strace"), "strace (the traced floor of `make bench`)")
    wanted = [["/proc/self/stat", "/proc/meminfo"], ["/proc/self/stat", "/proc/no-such-file"]]
    listing = tmp_path / "files.txt"
    write_traced_listing(wanted, listing)
    assert listing.read_text().splitlines()[2] == SAMPLE_BREAK
    cmd = [sys.executable, "-I", "-S", "-c", TRACED_FLOOR_SCRIPT, str(listing)]
    samples, _ = traced_files(cmd, tmp_path, tmp_path)
    # The missing file fails to open (it is tried, and not counted as read).
    assert samples == [["/proc/self/stat", "/proc/meminfo"], ["/proc/self/stat"]]


def _memory_cgroup_dir(pid: int) -> Path:
    """The container's memory cgroup directory, from the kernel's /proc/PID/cgroup."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/")
    return Path("/sys/fs/cgroup") / line.split(":", 2)[2].lstrip("/")  # v2: the "0::" line


def test_a_real_snapshot_is_traced_reading_each_containers_files_twice(
    run_container: RunContainer, tmp_path: Path
) -> None:
    require(shutil.which("strace"), "strace (the traced floor of `make bench`)")
    ctr = run_container(BASE_IMAGE, SLEEP)
    pid = int(ctr.attrs["State"]["Pid"])
    cmd = [sys.executable, "-m", "ctop_py", "snapshot", "--json", "--interval", "1", ctr.name]
    samples, readlinks = traced_files(cmd, REPO, tmp_path)
    assert len(samples) == 2, [len(s) for s in samples]
    memory_stat = str(_memory_cgroup_dir(pid) / "memory.stat")
    for files in samples:
        assert memory_stat in files
        assert f"/proc/{pid}/net/dev" in files
        assert all(f.startswith(("/sys/fs/cgroup/", "/proc/")) for f in files)
    assert readlinks > 0  # the init's namespace links, read and counted, not replayed
    # The same command still prints the container (strace did not change what it does).
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    assert f'"name": "{ctr.name}"' in out.stdout
