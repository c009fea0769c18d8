"""The collector on fake roots: each runtime's layout, v1/hybrid/v2, the captured v2 tree, and
rates from two samples."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from ctop_py.cgroupfs import detect_layout, read_cgroup
from ctop_py.collect import Collector
from ctop_py.demo.host import HOST_NS
from ctop_py.derive import derive
from ctop_py.model import HOST_NAMESPACE, ContainerRaw, RawSample, SharedNamespace, Sharing
from tests.fakeroot import (
    CAPTURE_V2,
    CAPTURE_V2_LIVE,
    FakeHost,
    net_dev,
    v1_files,
    v2_files,
    write_v1,
)

ID = "d89ef6da903ab9e80ab773ffad6eb38d24832a7a06551e4817552ce19ffd7008"
ID2 = "4442952b11c14f1587556e8f7119067f60b70fb842b8d78143451689ea8cc84b"
CTR_NS = {"pid": 4026532200, "net": 4026532201, "mnt": 4026532202, "uts": 4026532203}


def collect(host: FakeHost) -> RawSample:
    return Collector(host.root, engines=[]).sample()


def only(sample: RawSample, runtime: str | None = None) -> ContainerRaw:
    found = [c for c in sample.containers if runtime is None or c.runtime == runtime]
    assert len(found) == 1, [c.id for c in sample.containers]
    return found[0]


def test_layout_detection(tmp_path: Path) -> None:
    assert detect_layout(FakeHost(tmp_path / "a", "v2").root).mode == "v2"
    assert detect_layout(FakeHost(tmp_path / "b", "v1").root).mode == "v1"
    hybrid = detect_layout(FakeHost(tmp_path / "c", "hybrid").root)
    assert hybrid.mode == "hybrid" and hybrid.unified is not None
    assert set(hybrid.controllers) >= {"cpu", "cpuacct", "memory", "pids", "name=systemd"}


def test_layout_with_combined_v1_mounts(tmp_path: Path) -> None:
    base = tmp_path / "sys/fs/cgroup"
    (base / "cpu,cpuacct").mkdir(parents=True)
    (base / "cpu").symlink_to("cpu,cpuacct")
    (base / "memory").mkdir()
    from ctop_py.host import HostRoot

    layout = detect_layout(HostRoot.at(tmp_path))
    assert layout.controllers["cpuacct"] == base / "cpu,cpuacct"
    assert layout.controllers["cpu"] in (base / "cpu", base / "cpu,cpuacct")


def test_docker_systemd_v2(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/system.slice/docker-{ID}.scope"
    host.write_cgroup(path, v2_files())
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(1000, 500))  # fmt: skip
    host.add_process(101, "sleep", ppid=100, cgroup_path=path, namespaces=CTR_NS,
                     nspid=(101, 7))  # fmt: skip
    host.add_process(50, "bash", cgroup_path="/user.slice/session-1.scope")
    c = only(collect(host))
    assert (c.runtime, c.id, c.name, c.state) == ("docker", ID, ID[:12], "running")
    assert c.pids == (100, 101) and c.init_pid == 100
    assert c.cgroup is not None and c.cgroup.version == 2
    limits = c.cgroup.limits
    assert (limits.cpu_quota_us, limits.cpu_period_us, limits.cpu_quota_cores) == (
        10000, 100000, 0.1,
    )  # fmt: skip
    assert limits.memory_max_bytes == 50331648 and limits.memory_high_bytes is None
    assert limits.pids_max == 50
    assert c.cgroup.memory.used_bytes == (10 << 20) - (2 << 20)
    assert c.cgroup.memory.events["oom_kill"] == 1
    assert c.cgroup.cpu.throttled_ns == 400_000_000
    assert c.namespaces["net"] == CTR_NS["net"]
    assert c.shared_namespaces["user"] == HOST_NAMESPACE and "net" not in c.shared_namespaces
    assert c.net is not None and (c.net.rx_bytes, c.net.tx_bytes) == (1000, 500)


def test_docker_cgroupfs_hybrid_with_psi_from_unified(tmp_path: Path) -> None:
    host = FakeHost(tmp_path, "hybrid")
    path = f"/docker/{ID}"
    write_v1(host, path, v1_files(quota=20000))
    host.write_cgroup(
        path,
        {"cpu.pressure": "some avg10=5.00 avg60=1.00 avg300=0.00 total=777\n"},
        "unified",
    )
    host.add_process(200, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(200, 1))
    c = only(collect(host))
    assert c.runtime == "docker" and c.cgroup is not None and c.cgroup.version == 1
    assert c.cgroup.limits.cpu_quota_cores == 0.2
    assert c.cgroup.limits.memory_max_bytes is None  # v1's 9223372036854771712 = no limit
    assert c.cgroup.limits.pids_max is None
    assert c.cgroup.limits.cpu_shares == 1024
    assert c.cgroup.memory.used_bytes == (10 << 20) - (2 << 20)  # total_inactive_file
    assert c.cgroup.memory.events == {"oom_kill": 3, "max": 4}
    assert c.cgroup.io.read_bytes == 4096 and c.cgroup.io.write_bytes == 8192
    assert c.cgroup.cpu.throttled_ns == 400_000_000  # v1 reports ns already
    cpu_psi = c.cgroup.psi["cpu"]
    assert cpu_psi.some is not None and cpu_psi.some.total_us == 777


@pytest.mark.parametrize(
    ("path", "runtime", "cid"),
    [
        (f"/machine.slice/libpod-{ID}.scope/container", "podman", ID),
        (f"/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/{ID}", "containerd", ID),
        ("/lxc.payload.web1", "lxc", "web1"),
        ("/machine.slice/machine-box\\x2d1.scope", "nspawn", "box-1"),
    ],
)
def test_other_runtimes(tmp_path: Path, path: str, runtime: str, cid: str) -> None:
    host = FakeHost(tmp_path)
    files = v2_files()
    owner = path.removesuffix("/container")
    host.write_cgroup(owner, files)
    host.cgroup_dir(path)
    host.add_process(300, "init", cgroup_path=path, namespaces=CTR_NS, nspid=(300, 1))
    if runtime == "podman":  # conmon sits beside the container and is not part of it
        host.add_process(299, "conmon", cgroup_path=f"/machine.slice/libpod-conmon-{ID}.scope")
    c = only(collect(host))
    assert (c.runtime, c.id, c.pids, c.cgroup_path) == (runtime, cid, (300,), owner)
    assert c.cgroup is not None and c.cgroup.limits.pids_max == 50


def test_sandbox_grouped_by_namespaces(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    session = "/user.slice/session-1.scope"
    host.add_process(400, "unshare", cgroup_path=session, namespaces={"pid": 4026532300})
    host.add_process(401, "sh", ppid=400, cgroup_path=session, namespaces={"pid": 4026532300})
    host.add_process(500, "netns-app", cgroup_path=session, namespaces={"net": 4026532400})
    host.add_process(600, "plain", cgroup_path=session)
    # a private user namespace alone is not a sandbox (rootless browsers do this)
    host.add_process(700, "chrome", cgroup_path=session, namespaces={"user": 4026532500})
    sample = collect(host)
    sandboxes = sorted(
        (c for c in sample.containers if c.runtime == "sandbox"), key=lambda c: c.pids
    )
    assert [c.pids for c in sandboxes] == [(400, 401), (500,)]
    assert sandboxes[0].name == "unshare[400]" and sandboxes[0].init_pid == 400
    assert sandboxes[0].shared_namespaces["net"] == HOST_NAMESPACE
    assert sandboxes[0].cgroup is None


def test_shared_namespaces_between_containers(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    a, b = f"/docker/{ID}", f"/docker/{ID2}"
    host.write_cgroup(a, v2_files())
    host.write_cgroup(b, v2_files())
    host.add_process(10, "a", cgroup_path=a, namespaces=CTR_NS, nspid=(10, 1))
    # b joined a's network (--net=container:a) and the host's pid namespace (--pid=host)
    b_ns = {"net": CTR_NS["net"], "mnt": 4026532900, "uts": 4026532901}
    host.add_process(11, "b", cgroup_path=b, namespaces=b_ns, start=500)
    sample = collect(host)
    by_id = {c.id: c for c in sample.containers}
    # a started first: it owns the namespace b joined
    assert by_id[ID2].shared_namespaces["net"] == SharedNamespace(Sharing.JOINED, (ID[:12],))
    assert by_id[ID2].shared_namespaces["pid"] == HOST_NAMESPACE
    assert by_id[ID].shared_namespaces["net"] == SharedNamespace(Sharing.OWNER, (ID2[:12],))
    assert "pid" not in by_id[ID].shared_namespaces
    # Built with their final values, read-only: no tick fills a record's mapping later.
    for c in sample.containers:
        with pytest.raises(TypeError):
            c.shared_namespaces["user"] = HOST_NAMESPACE  # type: ignore[index]
        shared = c.shared_namespaces
        assert list(shared) == [t for t in c.namespaces if t in shared]  # in namespace order


def test_rates_from_two_samples(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/docker/{ID}"
    host.write_cgroup(path, v2_files(usage_usec=1_000_000, periods=10, throttled=5,
                                     throttled_usec=400_000, wbytes=0, psi_total=0))  # fmt: skip
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(1000, 500), cpu_ticks=100)  # fmt: skip
    collector = Collector(host.root, engines=[])
    first = collector.sample()
    snap0 = derive(None, first)
    assert snap0.containers[0].usage.cpu_percent is None  # first sample: no rate
    assert snap0.containers[0].throttling.throttled_percent is None
    assert snap0.containers[0].usage.memory_used_bytes == 8 << 20  # levels need no rate

    host.write_cgroup(path, v2_files(usage_usec=1_100_000, periods=20, throttled=14,
                                     throttled_usec=1_000_000, wbytes=4096,
                                     psi_total=500_000))  # fmt: skip
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(3000, 1500), cpu_ticks=110)  # fmt: skip
    host.set_cpu(1100, 5100)
    second = collector.sample()
    # Pin the window to exactly one second, so every rate is a known number.
    second = _at(second, first.monotonic_ns + 1_000_000_000)
    view = derive(first, second).containers[0]
    assert view.usage.cpu_percent == pytest.approx(10.0)  # 0.1 s of CPU in 1 s
    assert view.usage.cpu_percent_of_quota == pytest.approx(100.0)  # quota is 0.1 cores
    assert view.throttling.throttled_percent == pytest.approx(90.0)  # 9 of 10 periods
    assert view.throttling.throttled_seconds_per_s == pytest.approx(0.6)
    assert view.throttling.throttled_seconds == pytest.approx(1.0)
    assert view.usage.net_rx_bytes_per_s == pytest.approx(2000)
    assert view.usage.net_tx_bytes_per_s == pytest.approx(1000)
    assert view.usage.io_write_bytes_per_s == pytest.approx(4096)
    assert view.psi["cpu"].some_percent == pytest.approx(50.0)
    assert view.processes[0].cpu_percent == pytest.approx(100.0 * 10 / host_ticks())
    assert derive(first, second).host_cpu_percent == pytest.approx(50.0)


def host_ticks() -> int:
    import os

    return os.sysconf("SC_CLK_TCK")


def _at(sample: RawSample, monotonic_ns: int) -> RawSample:
    from dataclasses import replace

    return replace(sample, monotonic_ns=monotonic_ns)


def test_counter_reset_gives_no_rate(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/docker/{ID}"
    host.write_cgroup(path, v2_files(usage_usec=5_000_000, periods=100, throttled=50))
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1))
    collector = Collector(host.root, engines=[])
    first = collector.sample()
    host.write_cgroup(path, v2_files(usage_usec=10, periods=1, throttled=0))  # restarted
    second = _at(collector.sample(), first.monotonic_ns + 1_000_000_000)
    view = derive(first, second).containers[0]
    assert view.usage.cpu_percent is None
    assert view.throttling.throttled_percent is None


def test_no_quota_is_not_zero_throttled(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/docker/{ID}"
    host.write_cgroup(path, v2_files(cpu_max="max 100000", memory_max="max", pids_max="max"))
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1))
    collector = Collector(host.root, engines=[])
    first = collector.sample()
    second = _at(collector.sample(), first.monotonic_ns + 1_000_000_000)
    view = derive(first, second).containers[0]
    assert view.limits.cpu_quota_cores is None and view.limits.memory_max_bytes is None
    assert view.usage.cpu_percent == 0.0  # measured: it really used nothing
    assert view.usage.cpu_percent_of_quota is None
    assert view.throttling.throttled_percent is None
    assert view.usage.memory_percent_of_limit is None


def test_cgroup_removed_mid_run(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/docker/{ID}"
    host.write_cgroup(path, v2_files())
    layout = detect_layout(host.root)
    shutil.rmtree(host.cgroup_dir(path))
    stats = read_cgroup(layout, path, set())
    assert stats.gone and stats.cpu.usage_ns is None


def test_vanished_process_is_skipped(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/docker/{ID}"
    host.write_cgroup(path, v2_files())
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1))
    half = host.add_process(101, "dying", cgroup_path=path, namespaces=CTR_NS)
    (half / "status").unlink()  # exited between reading stat and status
    sample = collect(host)
    c = only(sample)
    assert c.init_pid == 100
    assert [p.pid for p in sample.processes] == [100]  # no half-read process, no exception
    assert [p.process.pid for p in derive(None, sample).containers[0].processes] == [100]


def test_unreadable_file_is_absent_and_noted_once() -> None:
    """As an unprivileged user (a forked child drops to nobody when we are root)."""
    import json
    import os
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="ctop-noaccess-"))
    try:
        base.chmod(0o755)
        host = FakeHost(base)
        path = f"/docker/{ID}"
        host.write_cgroup(path, v2_files())
        host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1))
        (host.cgroup_dir(path) / "memory.stat").chmod(0)
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            try:
                if os.geteuid() == 0:
                    os.setgid(65534)
                    os.setuid(65534)
                collector = Collector(host.root, engines=[])
                first, second = collector.sample(), collector.sample()
                c = first.containers[0]
                out = {
                    "first": list(first.notes),
                    "second": list(second.notes),
                    "stat": dict(c.cgroup.memory.stat) if c.cgroup else None,
                    "current": c.cgroup.memory.current_bytes if c.cgroup else None,
                }
                os.write(write, json.dumps(out).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            result = json.loads(pipe.read())
        os.waitpid(child, 0)
    finally:
        shutil.rmtree(base)
    assert any("memory.stat" in n and "permission denied" in n for n in result["first"])
    assert not any("memory.stat" in n for n in result["second"])  # said once
    assert result["stat"] == {}  # absent, not an exception
    assert result["current"] == 10 << 20  # the rest is still read


def _captured(capture: Path) -> dict[str, tuple[int, str]]:
    """containers.txt: name -> (init pid, id)."""
    found = {}
    for line in (capture / "containers.txt").read_text().splitlines():
        name, *fields = line.split()
        values = dict(f.split("=", 1) for f in fields)
        found[name] = (int(values["pid"]), values["id"])
    return found


@pytest.mark.parametrize("capture", [CAPTURE_V2, CAPTURE_V2_LIVE], ids=["shared", "own"])
def test_captured_v2_systemd_tree(tmp_path: Path, capture: Path) -> None:
    """Real cgroup v2 trees captured from systemd-driver Docker hosts: the shared one, and
    our own (tests/v2host/capture.sh)."""
    host = FakeHost(tmp_path / "root")
    shutil.copytree(capture / "sys", tmp_path / "root/sys", dirs_exist_ok=True)
    containers = _captured(capture)
    for pid, _ in containers.values():
        cgroup = (capture / f"proc/{pid}/cgroup").read_text()
        path = cgroup.strip().split("::", 1)[1]
        namespaces = {**CTR_NS, "pid": 4026532000 + pid}
        host.add_process(pid, "sh", cgroup_path=path, namespaces=namespaces, nspid=(pid, 1))
    sample = collect(host)
    by_id = {c.id: c for c in sample.containers}
    spin_id, limited_id = containers["spin"][1], containers["spin-limited"][1]
    assert set(by_id) == {spin_id, limited_id}
    scope = capture / f"sys/fs/cgroup/system.slice/docker-{limited_id}.scope"
    limited = by_id[limited_id].cgroup
    assert limited is not None and limited.version == 2
    assert limited.path == f"/system.slice/docker-{limited_id}.scope"
    # Against the captured files themselves:
    quota, period = (scope / "cpu.max").read_text().split()
    assert limited.limits.cpu_quota_us == int(quota) and limited.limits.cpu_period_us == int(period)
    assert limited.limits.cpu_quota_cores == 0.5
    assert limited.limits.memory_max_bytes == int((scope / "memory.max").read_text()) == 128 << 20
    assert limited.limits.pids_max == int((scope / "pids.max").read_text()) == 64
    stat = dict(line.split() for line in (scope / "memory.stat").read_text().splitlines())
    current = int((scope / "memory.current").read_text())
    assert limited.memory.current_bytes == current
    assert limited.memory.used_bytes == current - int(stat["inactive_file"])
    cpu = dict(line.split() for line in (scope / "cpu.stat").read_text().splitlines())
    assert limited.cpu.usage_ns == int(cpu["usage_usec"]) * 1000
    assert limited.cpu.throttled_ns == int(cpu["throttled_usec"]) * 1000
    assert limited.cpu.nr_throttled == int(cpu["nr_throttled"]) > 0
    assert limited.io.write_bytes == 16 << 20
    assert set(limited.psi) == {"cpu", "memory", "io"}
    spin = by_id[spin_id].cgroup
    assert spin is not None and spin.limits.cpu_quota_cores == 0.2
    assert spin.limits.memory_max_bytes is None
    # systemd's DefaultTasksMax applies even without --pids-limit
    spin_scope = capture / f"sys/fs/cgroup/system.slice/docker-{spin_id}.scope"
    assert spin.limits.pids_max == int((spin_scope / "pids.max").read_text())
    assert HOST_NS["user"] == by_id[spin_id].namespaces["user"]


def test_brief_reads_what_a_row_not_open_needs(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/system.slice/docker-{ID}.scope"
    host.write_cgroup(path, {**v2_files(), "memory.peak": "20971520\n", "pids.events": "max 4\n"})
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1))
    collector = Collector(host.root, engines=[])
    first_sample = collector.sample(detail=(), brief=True)  # reads the limits, and PSI
    first = only(first_sample)
    full = only(Collector(host.root, engines=[]).sample(detail=()))
    assert first.cgroup is not None and full.cgroup is not None
    assert first.cgroup.psi == full.cgroup.psi != {}
    assert first.cgroup.psi_read_ns == first_sample.monotonic_ns  # read in this tick
    assert full.cgroup.psi_read_ns is None  # full: always read in its own sample
    for _ in range(2):  # the second tick, then the third from the plan made in the second
        brief = only(collector.sample(detail=(), brief=True))
        assert brief.cgroup is not None
        # the list's figures, the marks' counters and the peak are the same
        assert brief.cgroup.cpu == full.cgroup.cpu
        assert brief.cgroup.memory.used_bytes == full.cgroup.memory.used_bytes
        assert brief.cgroup.memory.peak_bytes == full.cgroup.memory.peak_bytes == 20971520
        assert brief.cgroup.memory.events == full.cgroup.memory.events
        assert brief.cgroup.memory.events["oom_kill"] == 1  # memory.events above
        assert brief.cgroup.pids_events == full.cgroup.pids_events == {"max": 4}
        assert brief.cgroup.pids_current == full.cgroup.pids_current
        assert brief.cgroup.limits == full.cgroup.limits
        # PSI only with the limits, every limits_s: the reading carried, with when it was
        # read; nothing changed, so the very record of the first tick
        assert brief.cgroup.psi == full.cgroup.psi
        assert brief.cgroup.psi_read_ns == first_sample.monotonic_ns
        assert brief is first
    # the container on screen gets everything
    on_screen = only(collector.sample(detail={ID}, brief=True))
    assert on_screen.cgroup is not None and on_screen.cgroup.psi == full.cgroup.psi
    assert on_screen.cgroup.memory == full.cgroup.memory


# ---- PSI of a container not open: read with its limits, carried between ------------------


def psi_host(tmp_path: Path) -> tuple[FakeHost, str]:
    host = FakeHost(tmp_path)
    path = f"/system.slice/docker-{ID}.scope"
    host.write_cgroup(path, v2_files(psi_total=1000))
    host.add_process(100, "sh", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1))
    return host, path


def every_tick_reads_psi(collector: Collector, detail: frozenset[str] = frozenset()) -> RawSample:
    """A tick after the limits (and PSI) are due again (limits_s is 1 ms)."""
    time.sleep(0.005)
    return collector.sample(detail=detail, brief=True)


def test_a_still_container_keeps_its_record_across_psi_reads(tmp_path: Path) -> None:
    """Every tick reads the limits and PSI again (limits_s tiny): while no file changes, the
    record is the very same object; a PSI file that changes makes a new reading, said to be
    read in that tick, the one before it last seen (the same) in the tick before."""
    host, path = psi_host(tmp_path)
    collector = Collector(host.root, engines=[], limits_s=0.001)
    s1 = every_tick_reads_psi(collector)
    c1 = only(s1)
    assert c1.cgroup is not None
    assert c1.cgroup.psi["cpu"].some is not None and c1.cgroup.psi["cpu"].some.total_us == 1000
    assert (c1.cgroup.psi_read_ns, c1.cgroup.psi_since_ns) == (s1.monotonic_ns, None)
    s2 = every_tick_reads_psi(collector)
    assert only(s2) is c1  # read again, the same bytes: the same record
    host.write_cgroup(path, {"cpu.pressure": v2_files(psi_total=4000)["cpu.pressure"]})
    s3 = every_tick_reads_psi(collector)
    c3 = only(s3)
    assert c3 is not c1 and c3.cgroup is not None
    assert c3.cgroup.psi["cpu"].some is not None and c3.cgroup.psi["cpu"].some.total_us == 4000
    assert c3.cgroup.psi["memory"] == c1.cgroup.psi["memory"]
    assert (c3.cgroup.psi_read_ns, c3.cgroup.psi_since_ns) == (s3.monotonic_ns, s2.monotonic_ns)
    assert c3.cgroup.cpu == c1.cgroup.cpu
    # derive: the stall of the new reading over the time since the one before was last read
    rates = derive(s2, s3).containers[0].psi["cpu"]
    seconds = (s3.monotonic_ns - s2.monotonic_ns) / 1e9
    assert rates.some_percent == pytest.approx(min(100.0, 100 * 3000e-6 / seconds))
    assert only(every_tick_reads_psi(collector)) is c3


def test_between_psi_reads_the_reading_is_carried(tmp_path: Path) -> None:
    """Between two limit reads PSI is not read: a changed PSI file changes nothing; a changed
    counter makes a new record that carries the same reading (the same objects, its time)."""
    host, path = psi_host(tmp_path)
    collector = Collector(host.root, engines=[], limits_s=3600)
    s1 = collector.sample(detail=(), brief=True)
    c1 = only(s1)
    assert c1.cgroup is not None
    host.write_cgroup(path, {"cpu.pressure": v2_files(psi_total=4000)["cpu.pressure"]})
    s2 = collector.sample(detail=(), brief=True)
    assert only(s2) is c1
    # no false 0 %: the same reading in both records is no rate at all
    assert derive(s1, s2).containers[0].psi["cpu"].some_percent is None
    host.write_cgroup(path, {"cpu.stat": v2_files(usage_usec=2_000_000)["cpu.stat"]})
    c3 = only(collector.sample(detail=(), brief=True))
    assert c3 is not c1 and c3.cgroup is not None
    assert c3.cgroup.cpu.usage_ns == 2_000_000_000
    assert c3.cgroup.psi is c1.cgroup.psi and c3.cgroup.psi_read_ns == s1.monotonic_ns


def test_psi_of_a_container_opened_then_closed(tmp_path: Path) -> None:
    """Open: PSI read in each sample (psi_read_ns None), as a full sample. Closed: its last
    reading is carried, from when those values were first read (no rate: the same as the
    open tick's); the next read that finds new values says the one before was last seen in
    the tick before (every tick reads PSI here: limits_s tiny)."""
    host, path = psi_host(tmp_path)
    collector = Collector(host.root, engines=[], limits_s=0.001)
    s0 = every_tick_reads_psi(collector)
    host.write_cgroup(path, {"cpu.pressure": v2_files(psi_total=2000)["cpu.pressure"]})
    opened = [every_tick_reads_psi(collector, frozenset({ID})) for _ in range(2)]
    for s in opened:
        cg = only(s).cgroup
        assert cg is not None and cg.psi_read_ns is None
        assert cg.psi["cpu"].some is not None and cg.psi["cpu"].some.total_us == 2000
    closed = every_tick_reads_psi(collector)
    cg = only(closed).cgroup
    assert cg is not None and cg.psi["cpu"].some is not None
    assert cg.psi["cpu"].some.total_us == 2000
    assert (cg.psi_read_ns, cg.psi_since_ns) == (opened[0].monotonic_ns, s0.monotonic_ns)
    assert derive(opened[-1], closed).containers[0].psi["cpu"].some_percent is None
    host.write_cgroup(path, {"cpu.pressure": v2_files(psi_total=5000)["cpu.pressure"]})
    later = every_tick_reads_psi(collector)
    cg = only(later).cgroup
    assert cg is not None and cg.psi["cpu"].some is not None
    assert cg.psi["cpu"].some.total_us == 5000
    assert (cg.psi_read_ns, cg.psi_since_ns) == (later.monotonic_ns, closed.monotonic_ns)
