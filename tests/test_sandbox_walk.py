"""The walk for namespace sandboxes reads only the processes that are in one of the isolating
namespaces (pid, net, mnt, uts, ipc) other than the host's: the others are found with a
readlink per type and not read (they cannot be sandboxes), and the sandboxes found are the
same. On a fake root, and on this host against its own /proc with a real `unshare` sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from ctop_py import procfs
from ctop_py.collect import Collector
from ctop_py.demo.host import HOST_NS
from ctop_py.host import HostRoot
from ctop_py.runtimes.sandbox import ISOLATING, isolating_namespaces
from tests.conftest import deadline_s, require
from tests.fakeroot import FakeHost


def test_only_processes_outside_the_hosts_isolating_namespaces_are_read(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    session = "/user.slice/session-1.scope"
    host.add_process(400, "unshare", cgroup_path=session, namespaces={"pid": 4026532300})
    host.add_process(401, "sh", ppid=400, cgroup_path=session, namespaces={"pid": 4026532300})
    host.add_process(500, "netns-app", cgroup_path=session, namespaces={"ipc": 4026532400})
    host.add_process(600, "plain", cgroup_path=session)
    host.add_process(700, "chrome", cgroup_path=session, namespaces={"user": 4026532500})
    # In the host's namespaces, with a stat nobody can parse: a read would note it.
    garbled = host.add_process(800, "garbled", cgroup_path=session)
    (garbled / "stat").write_text("800 (garbled) R\n")
    # An unreadable link says nothing: the other links decide.
    (host.add_process(900, "half", namespaces={"uts": 4026532600}) / "ns/pid").unlink()

    reader = procfs.ProcessReader(host.root)
    notes: set[str] = set()
    everyone = reader.read_all(notes)
    assert [p.pid for p in everyone] == [2, 400, 401, 500, 600, 700, 900]
    assert notes == {f"{host.root.proc}/800/stat: unparsable stat line: list index out of range"}

    notes = set()
    walked = reader.read_all(notes, skip={401}, unless_in=isolating_namespaces(HOST_NS))
    assert [p.pid for p in walked] == [400, 500, 900]  # 401: skipped as asked
    assert notes == set()  # 800 was not read
    assert walked == [p for p in everyone if p.pid in (400, 500, 900)]


def test_the_collector_finds_the_same_sandboxes(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    session = "/user.slice/session-1.scope"
    host.add_process(400, "unshare", cgroup_path=session, namespaces={"pid": 4026532300})
    host.add_process(401, "sh", ppid=400, cgroup_path=session, namespaces={"pid": 4026532300})
    host.add_process(500, "netns-app", cgroup_path=session, namespaces={"net": 4026532400})
    host.add_process(600, "plain", cgroup_path=session)
    sample = Collector(host.root, engines=[]).sample()
    sandboxes = sorted(c.pids for c in sample.containers if c.runtime == "sandbox")
    assert sandboxes == [(400, 401), (500,)]


def _links(pid: str) -> dict[str, str]:
    links = {}
    for ns_type in ISOLATING:
        try:
            links[ns_type] = os.readlink(f"/proc/{pid}/ns/{ns_type}")
        except OSError:
            continue
    return links


def _host() -> dict[str, str]:
    """PID 1's links, or kthreadd's (always the initial namespaces) where PID 1's are
    unreadable (a non-dumpable init)."""
    return _links("1") or _links("2")


def _isolated() -> set[int]:
    """Ground truth: the processes with an isolating namespace link other than the host's."""
    host = _host()
    found = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            links = _links(name)
            if any(links.get(t, host[t]) != host[t] for t in host):
                found.add(int(name))
    return found


def test_on_this_host_the_walk_reads_exactly_the_isolated_processes() -> None:
    require(os.geteuid() == 0, "reading every process's namespaces needs root")
    require(shutil.which("unshare") is not None, "unshare is not installed (util-linux)")
    sandbox = subprocess.Popen(["unshare", "--uts", "--ipc", "--", "sleep", "60"])
    try:
        until = time.monotonic() + deadline_s(10)
        while _links(str(sandbox.pid)).get("uts") == _host()["uts"]:
            assert time.monotonic() < until, "unshare never left the host's uts namespace"
            time.sleep(0.05)
        collector = Collector(HostRoot(), engines=[])
        try:
            wanted = isolating_namespaces(collector.host.namespaces)
            assert {t: f"{t}:[{inode}]" for t, inode in wanted.items()} == _host()
            before = _isolated()
            walked = {p.pid for p in collector.process_reader.read_all(unless_in=wanted)}
            after = _isolated()
            sample = collector.sample()
        finally:
            collector.close()
        assert sandbox.pid in before & walked & after
        # Processes start and exit meanwhile: those isolated before and after were walked,
        # and each walked one was isolated then, or is gone.
        assert before & after <= walked
        assert all(not Path(f"/proc/{pid}").exists() for pid in walked - before - after)
        assert len(walked) < len([n for n in os.listdir("/proc") if n.isdigit()])
        found = [c for c in sample.containers if sandbox.pid in c.pids]
        assert [c.runtime for c in found] == ["sandbox"]
    finally:
        sandbox.kill()
        sandbox.wait()
