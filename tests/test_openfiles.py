"""Files kept open between ticks (ctop_py/openfiles.py): what a kept fd would get wrong, each
checked against the files read fresh (a new collector, or the kernel's files opened here).

Fake roots: their files are regular files, replaced (rename, a new file where a hard link to a
template was) or removed as a test pleases; the real /proc: a dead task's kept stat, a pid
handed to another process, a kept net/dev outliving its process, fds running out."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ctop_py.collect import Collector
from ctop_py.model import ContainerRaw
from ctop_py.openfiles import (
    DEFAULT_KEEP_FILES,
    KEEP_FILES_ENV,
    KeepFilesError,
    KeptFiles,
    keep_files_setting,
)
from tests.conftest import require, wait_for
from tests.fakeroot import FakeHost, net_dev, v1_files, v2_files, write_v1
from tests.filereads import fd_targets

ID = "0f" * 32
PATH = f"/system.slice/docker-{ID}.scope"
CTR_NS = {"pid": 4026532200, "net": 4026532201, "mnt": 4026532202, "uts": 4026532203}


def make_host(tmp_path: Path, mode: str = "v2") -> FakeHost:
    host = FakeHost(tmp_path, mode)
    if mode == "v2":
        host.write_cgroup(PATH, v2_files())
    else:
        write_v1(host, PATH, v1_files())
    host.add_process(100, "sh", cgroup_path=PATH, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(1000, 500), cpu_ticks=10)  # fmt: skip
    return host


def ours(collector: Collector) -> ContainerRaw:
    (c,) = [c for c in collector.sample(detail=()).containers if c.id == ID]
    return c


def fresh(host: FakeHost) -> ContainerRaw:
    """A new collector's reading of the same files: the ground truth."""
    collector = Collector(host.root, engines=[])
    try:
        return ours(collector)
    finally:
        collector.close()


def settled(host: FakeHost, kept: KeptFiles | None = None) -> Collector:
    collector = Collector(host.root, engines=[])
    if kept is not None:
        collector.kept.close()
        collector.kept = kept
    for _ in range(3):
        ours(collector)
    return collector


@pytest.mark.parametrize("mode", ["v2", "hybrid"])
def test_the_steady_tick_reads_through_kept_fds(tmp_path: Path, mode: str) -> None:
    host = make_host(tmp_path, mode)
    collector = settled(host)
    try:
        kept = collector.kept.fds()
        cgroup_files = [p for p in kept if f"docker-{ID}.scope/" in p]
        assert len(cgroup_files) >= 6, sorted(kept)
        assert f"{host.base}/proc/100/stat" in kept and f"{host.base}/proc/100/net/dev" in kept
        targets = fd_targets()
        for path, fd in kept.items():
            assert targets[fd] == path  # the fd is the file it is kept for
            assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC  # not into docker exec
            if collector.kept.base:
                assert fd >= collector.kept.base >= 1024  # select(2) takes fds below 1024
    finally:
        collector.close()


def _replace(path: Path, content: str) -> None:
    """A new inode at the path (as an editor or an atomic writer does)."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(content)
    os.replace(tmp, path)


def test_a_file_replaced_by_rename_is_read_anew(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    collector = settled(host)
    try:
        cpu_stat = host.cgroup_dir(PATH) / "cpu.stat"
        assert str(cpu_stat) in collector.kept.fds()
        _replace(cpu_stat, v2_files(usage_usec=7_000_000)["cpu.stat"])
        _replace(host.base / "proc/100/net/dev", net_dev(4242, 4343))
        after = ours(collector)
        assert after.cgroup is not None and after.cgroup.cpu.usage_ns == 7_000_000_000
        assert after.net is not None and after.net.rx_bytes == 4242
        truth = fresh(host)
        assert after.cgroup == truth.cgroup and after.net == truth.net
    finally:
        collector.close()


def test_a_hard_linked_file_replaced_reads_the_new_one(tmp_path: Path) -> None:
    """The benchmarks' fake hosts hard-link identical files to one template: a container
    removed and made again at the same path leaves the old inode alive under the template."""
    host = make_host(tmp_path)
    template = tmp_path / "template-cpu.stat"
    template.write_text(v2_files(usage_usec=1_000_000)["cpu.stat"])
    cpu_stat = host.cgroup_dir(PATH) / "cpu.stat"
    cpu_stat.unlink()
    os.link(template, cpu_stat)
    collector = settled(host)
    try:
        assert str(cpu_stat) in collector.kept.fds()
        cpu_stat.unlink()  # the template lives on, unchanged
        cpu_stat.write_text(v2_files(usage_usec=3_000_000)["cpu.stat"])
        after = ours(collector)
        assert after.cgroup is not None and after.cgroup.cpu.usage_ns == 3_000_000_000
        assert after.cgroup == fresh(host).cgroup
    finally:
        collector.close()


def ticks_to_the_files(host: FakeHost, collector: Collector, usage: int) -> None:
    """Move the counters to `usage`, tick, and check the container equals a fresh collector's."""
    host.write_cgroup(PATH, {"cpu.stat": v2_files(usage_usec=usage)["cpu.stat"]})
    (host.base / "proc/100/net/dev").write_text(net_dev(usage, usage // 2))
    c = ours(collector)
    assert c.cgroup is not None and c.cgroup.cpu.usage_ns == usage * 1000
    truth = fresh(host)
    assert c.cgroup == truth.cgroup and c.net == truth.net


def test_values_through_a_tiny_budget_are_the_files(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    collector = settled(host, KeptFiles(budget=3, base=0))
    try:
        for usage in (2_000_000, 3_000_000, 4_000_000):
            ticks_to_the_files(host, collector, usage)
            assert 0 < len(collector.kept) <= 3
            assert collector.kept.full  # the files past it go the plain open/read/close way
    finally:
        collector.close()


SETTINGS = [(None, DEFAULT_KEEP_FILES), ("", DEFAULT_KEEP_FILES), ("0", 0), (" 300 ", 300),
            ("0012", 12)]  # fmt: skip


@pytest.mark.parametrize(("value", "budget"), SETTINGS)
def test_the_keep_files_setting(value: str | None, budget: int) -> None:
    env = {} if value is None else {KEEP_FILES_ENV: value}
    assert keep_files_setting(env) == budget


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "1e3", "\u0663", "2k", "1 000"])
def test_a_bad_keep_files_setting_is_one_line(value: str) -> None:
    with pytest.raises(KeepFilesError) as caught:
        keep_files_setting({KEEP_FILES_ENV: value})
    message = str(caught.value)
    assert "\n" not in message and KEEP_FILES_ENV in message and repr(value) in message


def test_a_bad_keep_files_setting_stops_the_cli_with_exit_2() -> None:
    env = {**os.environ, KEEP_FILES_ENV: "lots"}
    out = subprocess.run([sys.executable, "-m", "ctop_py", "ns"], capture_output=True,
                         text=True, timeout=60, env=env,
                         cwd=Path(__file__).parent.parent)  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        f"ctop-py: {KEEP_FILES_ENV} must be a whole number of files (0: keep none), not 'lots'"
    ]


@pytest.mark.parametrize("setting", ["0", "5"])
def test_the_setting_bounds_the_kept_files_and_values_stay_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    """CTOP_KEEP_FILES=0 keeps no fd (no kernel memory held), 5 at most 5; every value is
    still the files' (a new collector's reading)."""
    monkeypatch.setenv(KEEP_FILES_ENV, setting)
    before = set(fd_targets())
    host = make_host(tmp_path)
    collector = settled(host)
    try:
        assert collector.kept.budget == int(setting) and collector.kept.full
        for usage in (2_000_000, 3_000_000):
            ticks_to_the_files(host, collector, usage)
            left = {fd: t for fd, t in fd_targets().items() if fd not in before}
            # The due files' kept fds (Collector.kept_due) count against the same budget.
            held = len(collector.kept) + len(collector.kept_due)
            assert held == len(left) <= int(setting), left
    finally:
        collector.close()


def test_a_container_gone_leaves_no_fd_behind(tmp_path: Path) -> None:
    before = set(fd_targets())
    host = make_host(tmp_path)
    collector = settled(host)
    try:
        assert len(collector.kept) >= 8
        shutil.rmtree(host.cgroup_dir(PATH))
        shutil.rmtree(host.base / "proc/100")
        sample = collector.sample(detail=())
        assert [c for c in sample.containers if c.id == ID] == []
        left = {fd: t for fd, t in fd_targets().items() if fd not in before}
        assert not [t for t in left.values() if ID in t or "/proc/100/" in t], left
        assert set(left) == set(collector.kept.fds().values())  # the host's /proc/stat only
    finally:
        collector.close()
    assert set(fd_targets()) == before


def test_a_replaced_plan_keeps_the_files_it_still_reads(tmp_path: Path) -> None:
    """Limits due every tick (limits_s=0): plans are dropped and made again, the counter
    files stay open (the same fds) and the limit files are not kept."""
    host = make_host(tmp_path)
    collector = Collector(host.root, engines=[], limits_s=0)
    try:
        ours(collector)
        ours(collector)
        first = collector.kept.fds()
        host.write_cgroup(PATH, {"memory.max": "1048576\n"})
        c = ours(collector)
        assert c.cgroup is not None and c.cgroup.limits.memory_max_bytes == 1048576
        assert collector.kept.fds() == first
        assert not [p for p in first if p.endswith(("memory.max", "cpu.max", "pids.max"))]
    finally:
        collector.close()


# ---- the real /proc ---------------------------------------------------------------------------


def _spawn(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def test_a_dead_tasks_stat_is_not_read_through_its_pid_handed_on() -> None:
    """A kept /proc/PID/stat of a dead task fails ESRCH even when the pid now names another
    process; the kept read then opens the path again and reads the new process."""
    require(os.geteuid() == 0, "root (to hand a pid on through /proc/sys/kernel/ns_last_pid)")
    kept = KeptFiles()
    old = _spawn("sleep", "60")
    path = f"/proc/{old.pid}/stat"
    raw = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        first = kept.read(path)
        assert first.startswith(f"{old.pid} (sleep)".encode())
        kept.end_tick()
        time.sleep(0.1)  # the next process starts in a later clock tick (field 22)
        old.kill()
        old.wait()
        new = None
        for _ in range(50):  # another agent's fork may take the pid first: try again
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(old.pid - 1))
            candidate = _spawn("sh", "-c", "exec sleep 60")
            if candidate.pid == old.pid:
                new = candidate
                break
            candidate.kill()
            candidate.wait()
        assert new is not None, "could not hand the pid on"
        try:
            time.sleep(0.2)  # sh has exec'd sleep: comm is sleep again, a new start time
            with pytest.raises(OSError) as caught:
                os.pread(raw, 4096, 0)
            assert caught.value.errno == errno.ESRCH
            with open(path, "rb") as f:
                truth = f.read()
            assert kept.read(path) == truth  # the new process, not an error, not the old
            assert truth.split()[21] != first.split()[21]  # its start time: another process
        finally:
            new.kill()
            new.wait()
    finally:
        os.close(raw)
        kept.close()


def test_net_dev_is_not_read_after_its_process_is_gone() -> None:
    """A kept net/dev answers after its process exits (with the old network namespace): it is
    tied to the same pid's stat, read first in the tick."""
    require(shutil.which("unshare") and os.geteuid() == 0, "root and unshare (a network ns)")
    kept = KeptFiles()
    proc = _spawn("unshare", "--net", "sleep", "60")
    ours = os.readlink("/proc/self/ns/net")
    wait_for(lambda: os.readlink(f"/proc/{proc.pid}/ns/net") != ours or None, 10, "its netns")
    wait_for(lambda: Path(f"/proc/{proc.pid}/comm").read_text() == "sleep\n" or None, 10, "exec")
    stat, net = f"/proc/{proc.pid}/stat", f"/proc/{proc.pid}/net/dev"
    raw = os.open(net, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for _ in range(2):
            kept.read(stat)
            assert kept.read(net, True, stat) == Path(net).read_bytes()
            kept.end_tick()
        assert net in kept.fds()
        proc.kill()
        proc.wait()
        assert os.pread(raw, 65536, 0).startswith(b"Inter-")  # why: it still answers
        with pytest.raises(OSError):
            kept.read(stat)
        with pytest.raises(OSError) as caught:
            kept.read(net, True, stat)
        assert caught.value.errno in (errno.ENOENT, errno.ESRCH)
        assert net not in kept.fds() and stat not in kept.fds()
    finally:
        os.close(raw)
        kept.close()


RUN_OUT_OF_FDS = """
import os, resource, sys
from ctop_py.openfiles import KeptFiles
paths = [f"/proc/self/task/{os.getpid()}/{n}" for n in ("stat", "status", "statm", "io",
         "limits", "cgroup", "sched", "schedstat", "wchan", "comm", "environ", "auxv",
         "personality", "loginuid", "sessionid", "oom_score", "oom_adj", "oom_score_adj",
         "mountinfo", "mounts", "mountstats", "stack", "syscall", "timers", "children")]
paths = [p for p in paths if os.access(p, os.R_OK)]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
used = len(os.listdir("/proc/self/fd"))
resource.setrlimit(resource.RLIMIT_NOFILE, (used + 6, hard))
kept = KeptFiles(budget=1000, base=0)
for tick in range(3):
    for p in paths:
        kept.read(p)
    kept.end_tick()
print(len(paths), len(kept), kept.budget)
"""


def test_running_out_of_fds_reads_on() -> None:
    """EMFILE while keeping files: the kept ones are given back and fewer kept, every read
    still answers."""
    out = subprocess.run([sys.executable, "-c", RUN_OUT_OF_FDS], capture_output=True,
                         text=True, timeout=60, cwd=Path(__file__).parent.parent)  # fmt: skip
    assert out.returncode == 0, out.stderr
    files, kept, budget = map(int, out.stdout.split())
    assert files > 10 and kept <= budget < files


def test_read_each_gives_what_read_gives_and_the_files_hold(tmp_path: Path) -> None:
    """`read_each` (the plan's loop, its one-pread case inline) beside `read` on another
    KeptFiles over the same files, tick by tick: a file rewritten in place, one replaced by
    rename, one removed, one longer than the read buffer, one past the budget; each equal to
    the file opened and read here."""
    files = {name: tmp_path / name for name in ("a", "b", "c", "d", "big", "over")}
    for i, path in enumerate(files.values()):
        path.write_text(f"{i} first\n")
    files["big"].write_bytes(b"x" * 70_000 + b"\n")  # READ_BUFFER is 64 KiB
    paths = [str(p) for p in files.values()]
    inline, plain = KeptFiles(budget=5, base=0), KeptFiles(budget=5, base=0)
    try:
        for tick in range(5):
            if tick == 2:
                files["a"].write_text("a rewritten in place, longer than before\n")
                _replace(files["b"], "b replaced\n")
                files["c"].unlink()
                files["big"].write_bytes(b"y" * 80_000 + b"\n")
            if tick == 3:
                files["c"].write_text("c made again\n")
                files["over"].write_text("over rewritten\n")
            out: list[bytes | None] = []
            inline.read_each(paths, out)
            expected: list[bytes | None] = []
            for name in paths:
                try:
                    expected.append(plain.read(name))
                except FileNotFoundError:
                    expected.append(None)
            truth = [Path(p).read_bytes() if Path(p).exists() else None for p in paths]
            assert out == expected == truth, tick
            assert inline.full and len(inline) == 5  # "over" is read past the budget
            inline.end_tick()
            plain.end_tick()
    finally:
        inline.close()
        plain.close()


def test_read_each_raises_what_is_not_gone(tmp_path: Path) -> None:
    kept = KeptFiles(budget=4, base=0)
    try:
        directory = tmp_path / "a-directory"
        directory.mkdir()
        with pytest.raises(IsADirectoryError):
            kept.read_each([str(directory)], [])
    finally:
        kept.close()


@pytest.mark.parametrize("mode", ["v2", "hybrid"])
def test_cgroup_procs_kept_on_v2_only_and_a_new_pid_shows(tmp_path: Path, mode: str) -> None:
    """v2 restarts cgroup.procs's task iterator at offset 0, so its fd is kept; v1 hands a
    kept fd the pid list it built for up to a second, so there it is opened each tick."""
    host = make_host(tmp_path, mode)
    collector = settled(host)
    try:
        controller = None if mode == "v2" else "memory"
        procs = str(host.cgroup_dir(PATH, controller) / "cgroup.procs")
        assert (procs in collector.kept.fds()) == (mode == "v2")
        assert any(p.endswith("/cgroup.procs") for p in collector.kept.fds()) == (mode == "v2")
        host.add_process(101, "sleep", ppid=100, cgroup_path=PATH, namespaces=CTR_NS,
                         nspid=(101, 2))  # fmt: skip
        after = ours(collector)
        assert after.pids == (100, 101) == fresh(host).pids
        expected = sorted({int(p) for p in Path(procs).read_text().split()})
        assert list(after.pids) == expected
    finally:
        collector.close()


def test_a_shared_budget_bounds_both_and_gives_the_first_its_files(tmp_path: Path) -> None:
    """Collector.kept_due: a KeptFiles sharing the every-tick files' budget. Together they
    never hold more than the budget, and the every-tick files get the room back, tick after
    tick, from the shared one's (its files still read, their bytes the files')."""
    first = KeptFiles(budget=10, base=0)
    later = first.shared()
    try:
        often = [tmp_path / f"often{i}" for i in range(5)]
        rarely = [tmp_path / f"rarely{i}" for i in range(12)]
        for i, p in enumerate(often + rarely):
            p.write_bytes(f"{p.name} {i}\n".encode())
        for _ in range(8):
            out: list[bytes | None] = []
            later.read_each([str(p) for p in rarely], out)
            first.read_each([str(p) for p in often], out)
            assert out == [p.read_bytes() for p in rarely + often]
            assert len(first) + len(later) <= 10
            first.end_tick()
            later.yield_to(first)
        assert len(first) == 5 and 0 < len(later) <= 10 - 5
    finally:
        first.close()
        later.close()
