"""Pid reuse: a process is keyed by pid AND start time (README, "Churn is normal"). A pid
that comes back as another process is a new process: no CPU % across the two, its own
namespaces, its own command line (issue 13, item 13)."""

from __future__ import annotations

from pathlib import Path

from ctop_py.collect import Collector
from ctop_py.derive import derive
from tests.fakeroot import FakeHost, v2_files

ID = "d89ef6da903ab9e80ab773ffad6eb38d24832a7a06551e4817552ce19ffd7008"
OLD_NS = {"pid": 4026532200, "net": 4026532201, "mnt": 4026532202, "uts": 4026532203}
NEW_NS = {"pid": 4026532300, "net": 4026532301, "mnt": 4026532302, "uts": 4026532303}


def test_a_reused_pid_is_a_new_process(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/docker/{ID}"
    host.write_cgroup(path, v2_files())
    host.add_process(100, "old", cgroup_path=path, namespaces=OLD_NS, nspid=(100, 1),
                     cmdline=("old",), cpu_ticks=5000, start=100)  # fmt: skip
    host.add_process(101, "worker", cgroup_path=path, namespaces=OLD_NS, nspid=(101, 2),
                     cmdline=("worker",), cpu_ticks=10, start=150)  # fmt: skip
    collector = Collector(host.root, engines=[])
    first = collector.sample()
    # Both exit; the container restarts and pid 100 is handed to its new init (a later start
    # time, fewer CPU ticks, new namespaces); 101 is reused by the same kind of process.
    host.add_process(100, "new", cgroup_path=path, namespaces=NEW_NS, nspid=(100, 1),
                     cmdline=("new",), cpu_ticks=20, start=900)  # fmt: skip
    host.add_process(101, "worker", cgroup_path=path, namespaces=NEW_NS, nspid=(101, 2),
                     cmdline=("worker",), cpu_ticks=4, start=950)  # fmt: skip
    host.set_cpu(busy=2000, idle=2000)
    second = collector.sample()
    collector.close()

    (c,) = second.containers
    assert c.init_pid == 100
    assert dict(c.namespaces) == {**dict(c.namespaces), **NEW_NS}  # re-read, not the old ones
    procs = {p.pid: p for p in second.processes}
    assert (procs[100].comm, procs[100].start_ticks, procs[100].cmdline) == ("new", 900, ("new",))
    assert procs[101].start_ticks == 950
    view = derive(first, second).containers[0]
    usage = {u.process.pid: u for u in view.processes}
    # Not (20 - 5000) ticks, nor (4 - 10): nothing is known of the new processes' rate yet.
    assert usage[100].cpu_percent is None and usage[101].cpu_percent is None
