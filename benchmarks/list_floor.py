"""The list's own floor: the least any app can spend to show the containers list as ctop-py
does, on this host. Two parts in ONE process, once a second:

- the reads: exactly the files ctop-py's collector reads a tick for a list with no container
  open (all brief), found by tracing the collector itself on this host (`app_reads`: every
  os.open and every pread at offset 0 of two ticks back to back, after a first one): the
  files it keeps open are pread on fds kept open (one syscall each, less than the app's
  fstat + pread), those it opens each tick (v1 `cgroup.procs`) opened, read and closed; and
  every container's due files (`cgroupfs.due_files`: limits and PSI, kept open and read by
  the app every 5 s) pread on kept fds, a fifth of the containers a second;
- a minimal Textual list: `benchmarks.textual_floor --lines`, one row per container in the
  list's 13 columns (a Strip a row, the Line API: the least a Textual table can do) and its
  two-line header, ctop-py's quiet terminal driver, CHANGES cells updated a second (nothing
  parsed, no histories, no diagnosis, no ring). Not Textual's DataTable: at 100 rows its
  update_cell path alone costs ~7.8 % of a core here (`python -m benchmarks.textual_floor
  --rows 100 --changes 5 --quiet-driver`, 2 x 15 s: 7.73, 7.80 %; with --lines 0.47, 0.33 %),
  several times the whole app, so no floor.

`benchmarks.screens` runs it beside the app and the plain floor over the same windows; the
bench's fake-app step (`benchmarks.appbench.app_on_fake_root`, `list_floor=True`) beside the
app on a fake v2 root (`--root`), the floor on its own copy of the tree, traced there with
`app_reads(root)`. On such a tree the files are regular files, and the app's own read path
(ctop_py/openfiles.py) checks each kept one's link count with fstat before its pread (a
replaced file would read its old inode; cgroupfs and procfs files need no check): the floor
does the same per read (`Reader`: fstat + pread for a file on no pseudo filesystem), so it
pays what the app pays per file on that tree, and no more.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import shlex
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DUE_EVERY = 5  # the app's limits_s: each container's due files once in this many ticks


def app_reads(root: Path | None = None) -> dict[str, Any]:
    """What the collector reads a tick with every container brief, traced on this host, or
    on the fake host at `root` as the app sees it with `--root` (benchmarks.app_runner):
    {"kept": [...], "opened": [...], "due": [...], "containers": N}."""
    sys.path.insert(0, str(REPO))
    from ctop_py import cgroupfs
    from ctop_py.collect import Collector
    from ctop_py.host import HostRoot

    collector = Collector(None if root is None else HostRoot.at(root))
    try:
        first = collector.sample(detail=(), brief=True)
        ticks = [_traced_tick(collector) for _ in range(2)]
        (a, opened_a), (b, opened_b) = ticks
        every = sorted(p for p in a if p in b)  # read in both ticks: every tick
        due: list[str] = []
        for c in first.containers:
            if c.cgroup_path is not None and c.cgroup is not None:
                paths_due, _ = cgroupfs.due_files(collector.layout, c.cgroup_path, psi=True)
                due += paths_due
        due_set = set(due)
        every = [p for p in every if p not in due_set]
        return {
            "kept": [p for p in every if p not in opened_a or p not in opened_b],
            "opened": [p for p in every if p in opened_a and p in opened_b],
            "due": due,
            "containers": sum(1 for c in first.containers if c.cgroup is not None),
        }
    finally:
        collector.close()


def files_per_container(reads: dict[str, Any]) -> dict[str, float]:
    """`app_reads()`'s files a container: every tick, due a tick (DUE_EVERY), containers read."""
    per = max(1, reads["containers"])
    return {
        "every_tick": round((len(reads["kept"]) + len(reads["opened"])) / per, 2),
        "due_per_tick": round(len(reads["due"]) / per / DUE_EVERY, 2),
        "containers_read": reads["containers"],
    }


def _traced_tick(collector: Any) -> tuple[Counter[str], set[str]]:
    """One brief tick of `collector`: each file read, and those opened (not kept open)."""
    from tests.filereads import files_read

    opened: set[str] = set()
    with files_read() as paths:
        original_open = os.open  # files_read's: it records the path too

        def traced_open(path: Any, *args: Any, **kwargs: Any) -> int:
            opened.add(os.fsdecode(path))
            return original_open(path, *args, **kwargs)

        os.open = traced_open
        try:
            collector.sample(detail=(), brief=True)
        finally:
            os.open = original_open
    return Counter(paths), opened


def _pseudo_devices() -> set[int]:
    """The devices of this host's procfs and cgroup mounts (/proc/self/mountinfo)."""
    found = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _, rest = line.partition(" - ")
            if rest.split(" ", 1)[0] in ("proc", "cgroup", "cgroup2"):
                major, _, minor = fields.split()[2].partition(":")
                found.add(os.makedev(int(major), int(minor)))
    return found


class Reader:
    """The reads of one tick, as cheap as Python does them, with the per-read work the app
    cannot skip: a kept regular file (a fake root's) is read only while its link count is
    what it was when opened (ctop_py/openfiles.py's check: one fstat before the pread)."""

    def __init__(self, reads: dict[str, Any]) -> None:
        with contextlib.suppress(ValueError, OSError):  # as the app: room for the kept fds
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            wanted = min(hard, 16384) if hard != resource.RLIM_INFINITY else 16384
            if soft != resource.RLIM_INFINITY and soft < wanted:
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        pseudo = _pseudo_devices()
        self.fds: list[int] = []  # on procfs or cgroupfs: pread alone
        self.checked: list[tuple[int, int]] = []  # regular files: (fd, its link count)
        for path in reads["kept"]:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:  # gone since
                continue
            fd = _above_select_limit(fd)
            st = os.fstat(fd)
            if st.st_dev in pseudo:
                self.fds.append(fd)
            else:
                self.checked.append((fd, st.st_nlink))
        self.opened: list[str] = reads["opened"]
        # The app keeps its due files open too (read by pread every DUE_EVERY ticks).
        due_fds: list[tuple[int, int | None]] = []  # (fd, link count on a regular file)
        for path in reads["due"]:
            try:
                fd = _above_select_limit(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
            except OSError:  # gone since, or no PSI here
                continue
            st = os.fstat(fd)
            due_fds.append((fd, None if st.st_dev in pseudo else st.st_nlink))
        self.due = [due_fds[i::DUE_EVERY] for i in range(DUE_EVERY)]
        self.tick = 0

    def read(self) -> None:
        pread, fstat = os.pread, os.fstat
        for fd in self.fds:
            try:  # noqa: SIM105 (the hot loop: a try costs less than a context manager)
                pread(fd, 65536, 0)
            except OSError:
                pass
        for fd, links in self.checked:
            try:
                if fstat(fd).st_nlink == links:
                    pread(fd, 65536, 0)
            except OSError:
                pass
        for fd, due_links in self.due[self.tick % DUE_EVERY]:
            try:
                if due_links is None or fstat(fd).st_nlink == due_links:
                    pread(fd, 65536, 0)
            except OSError:
                pass
        for path in self.opened:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                os.read(fd, 65536)
            except OSError:
                pass
            finally:
                os.close(fd)
        self.tick += 1


def _above_select_limit(fd: int) -> int:
    """`fd` moved to 1024 or above when it can be (as the app places its kept fds): the
    terminal driver's select(2) takes no fd above 1023, so the kept ones leave those free."""
    try:
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 1024)
    except OSError:
        return fd
    os.close(fd)
    return high


class Session:
    """The list's floor running in a detached 200x50 tmux session (as the app runs)."""

    def __init__(self, rows: int, reads_file: Path, changes: int = 5) -> None:
        self.name = f"ctop-listfloor-{uuid.uuid4().hex[:8]}"
        self.pidfile = Path(f"/tmp/{self.name}.pid")
        cmd = [sys.executable, "-m", "benchmarks.textual_floor", "--serve", str(rows)]
        cmd += ["--changes", str(changes), "--quiet-driver", "--lines", "--reads", str(reads_file)]
        shell = f"cd {shlex.quote(str(REPO))} && echo $$ > {self.pidfile} && exec env "
        shell += "TERM=xterm-256color " + " ".join(shlex.quote(c) for c in cmd)
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", "200", "-y", "50", shell],
            check=True,
            timeout=30,
        )
        self.pid: int | None = None
        for _ in range(100):
            if self.pidfile.exists() and self.pidfile.read_text().strip():
                self.pid = int(self.pidfile.read_text())
                break
            time.sleep(0.1)

    def stop(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True, check=False)
        self.pidfile.unlink(missing_ok=True)


def main() -> int:
    """`python -m benchmarks.list_floor [ROOT]`: what the collector reads a tick here (or on
    the fake host at ROOT), summarised."""
    reads = app_reads(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    n = max(1, reads["containers"])
    print(
        json.dumps(
            {
                "containers": reads["containers"],
                "kept_per_container": round(len(reads["kept"]) / n, 2),
                "opened_per_container": round(len(reads["opened"]) / n, 2),
                "due_per_container_per_tick": round(len(reads["due"]) / n / DUE_EVERY, 2),
                "kept_names": sorted(Counter(p.rsplit("/", 1)[-1] for p in reads["kept"])),
                "opened_names": sorted(Counter(p.rsplit("/", 1)[-1] for p in reads["opened"])),
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
