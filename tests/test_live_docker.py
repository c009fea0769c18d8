"""Against the real engine and this host's kernel: the numbers must equal the ground truth
(the kernel's files, `docker inspect`, `docker stats`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ctop_py.cgroupfs import detect_layout
from ctop_py.collect import Collector
from ctop_py.derive import derive
from ctop_py.host import HostRoot
from ctop_py.model import HOST_NAMESPACE, ContainerRaw, RawSample, SharedNamespace, Sharing
from ctop_py.runtimes.docker import EngineClient
from tests.conftest import BASE_IMAGE, SLEEP, SPIN, RunContainer

pytestmark = pytest.mark.docker


def find(sample: RawSample, cid: str) -> ContainerRaw:
    for c in sample.containers:
        if c.id == cid:
            return c
    raise AssertionError(
        f"container {cid[:12]} not found among {[c.name for c in sample.containers]}"
    )


def cgroup_file(c: ContainerRaw, v1_controller: str, name: str) -> Path:
    layout = detect_layout(HostRoot())
    assert c.cgroup_path is not None
    if layout.mode == "v2":
        assert layout.unified is not None
        return layout.unified / c.cgroup_path.lstrip("/") / name
    return layout.controllers[v1_controller] / c.cgroup_path.lstrip("/") / name


def usage_ns(c: ContainerRaw) -> int:
    if detect_layout(HostRoot()).mode == "v2":
        stat = cgroup_file(c, "cpu", "cpu.stat").read_text().split()
        return int(stat[stat.index("usage_usec") + 1]) * 1000
    return int(cgroup_file(c, "cpuacct", "cpuacct.usage").read_text())


def test_throttled_spinner_with_limits(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, mem_limit="48m", pids_limit=50)
    collector = Collector()
    try:
        time.sleep(1.0)  # let it hit the quota
        first = collector.sample()
        time.sleep(2.0)
        second = collector.sample()
    finally:
        collector.close()
    view = next(v for v in derive(first, second).containers if v.id == ctr.id)
    assert view.name == ctr.name and view.raw.runtime == "docker"
    assert view.raw.image == BASE_IMAGE and view.raw.state == "running"
    assert view.limits.cpu_quota_cores == pytest.approx(0.1)
    assert view.limits.memory_max_bytes == 48 * 1024 * 1024
    assert view.limits.pids_max == 50
    assert view.throttling.throttled_percent is not None
    assert view.throttling.throttled_percent > 50  # a spinner at 0.1 CPU is throttled nearly always
    assert view.throttling.throttled_seconds_per_s is not None
    assert view.throttling.throttled_seconds_per_s > 0
    # At most its quota; a busy host may give it less.
    assert view.usage.cpu_percent is not None and 0 < view.usage.cpu_percent <= 13.0
    assert view.usage.cpu_percent_of_quota is not None
    assert view.usage.cpu_percent_of_quota == pytest.approx(view.usage.cpu_percent / 0.1)
    assert view.usage.pids_current == 1
    assert view.raw.pids == (ctr.attrs["State"]["Pid"],)


def test_cpu_percent_equals_kernel_counters(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=500_000_000)
    collector = Collector()
    try:
        c0 = find(collector.sample(), ctr.id)
        before = usage_ns(c0)
        t_before = time.monotonic_ns()
        first = collector.sample()
        time.sleep(1.5)
        second = collector.sample()
        t_after = time.monotonic_ns()
        after = usage_ns(c0)
    finally:
        collector.close()
    a, b = find(first, ctr.id), find(second, ctr.id)
    assert a.cgroup is not None and b.cgroup is not None
    assert a.cgroup.cpu.usage_ns is not None and b.cgroup.cpu.usage_ns is not None
    # The collector's counters are the kernel's, read in order.
    assert before <= a.cgroup.cpu.usage_ns <= b.cgroup.cpu.usage_ns <= after
    view = next(v for v in derive(first, second).containers if v.id == ctr.id)
    independent = 100.0 * (after - before) / (t_after - t_before)
    assert view.usage.cpu_percent == pytest.approx(independent, abs=5.0)
    # Never above its 0.5 CPU quota (it may get less when the host is busy).
    assert view.usage.cpu_percent is not None and 0 < view.usage.cpu_percent <= 50.0 * 1.2


def test_namespaces_equal_readlink(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)
    pid = ctr.attrs["State"]["Pid"]
    collector = Collector()
    try:
        c = find(collector.sample(), ctr.id)
    finally:
        collector.close()
    assert c.init_pid == pid
    for ns_type in ("cgroup", "ipc", "mnt", "net", "pid", "user", "uts", "time"):
        link = os.readlink(f"/proc/{pid}/ns/{ns_type}")
        assert c.namespaces[ns_type] == int(link.split("[")[1].rstrip("]")), ns_type
    assert "pid" not in c.shared_namespaces and "net" not in c.shared_namespaces
    assert c.shared_namespaces["user"] == HOST_NAMESPACE  # no userns-remap on this engine


def test_host_pid_and_shared_net_are_flagged(run_container: RunContainer) -> None:
    a = run_container(BASE_IMAGE, SLEEP, pid_mode="host")
    b = run_container(BASE_IMAGE, SLEEP, network_mode=f"container:{a.id}")
    collector = Collector()
    try:
        sample = collector.sample()
    finally:
        collector.close()
    ca, cb = find(sample, a.id), find(sample, b.id)
    assert ca.shared_namespaces["pid"] == HOST_NAMESPACE
    assert "pid" not in cb.shared_namespaces
    assert cb.shared_namespaces["net"] == SharedNamespace(Sharing.JOINED, (a.name,))
    assert ca.shared_namespaces["net"] == SharedNamespace(Sharing.OWNER, (b.name,))
    assert cb.namespaces["net"] == ca.namespaces["net"]


def test_memory_used_equals_docker_stats(run_container: RunContainer, docker_client: Any) -> None:
    ctr = run_container(BASE_IMAGE, ["sh", "-c", "dd if=/dev/zero of=/tmp/f bs=1k count=2048; "
                                     "sleep 3600"], mem_limit="64m")  # fmt: skip
    time.sleep(1.0)
    collector = Collector()
    try:
        for _ in range(5):
            ours_before = find(collector.sample(), ctr.id).cgroup
            stats = docker_client.api.stats(ctr.id, stream=False)
            ours_after = find(collector.sample(), ctr.id).cgroup
            assert ours_before is not None and ours_after is not None
            if ours_before.memory.used_bytes == ours_after.memory.used_bytes:
                break
    finally:
        collector.close()
    assert ours_after is not None
    mem = stats["memory_stats"]
    inactive = mem["stats"].get("total_inactive_file", mem["stats"].get("inactive_file", 0))
    docker_used = mem["usage"] - inactive if inactive < mem["usage"] else mem["usage"]
    assert ours_after.memory.used_bytes == docker_used
    assert ours_after.memory.current_bytes == mem["usage"]
    assert ours_after.limits.memory_max_bytes == mem["limit"] == 64 * 1024 * 1024


def test_engine_unreachable_still_shows_container(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)
    engine = EngineClient("docker", "unix:///nonexistent/docker.sock")
    collector = Collector(engines=[engine])
    try:
        sample = collector.sample()
    finally:
        collector.close()
    c = find(sample, ctr.id)
    assert sample.engine_status["docker"].to_text().startswith("unreachable")
    # without the API, the daemon's own files still name it (we are root)
    assert c.name == (ctr.name if os.geteuid() == 0 else ctr.id[:12])


def test_stopped_container_listed_without_cgroup(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, ["true"])
    ctr.wait(timeout=30)
    collector = Collector()
    try:
        c = find(collector.sample(), ctr.id)
    finally:
        collector.close()
    assert c.state == "exited" and c.pids == () and c.cgroup is None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctop_py", *args], capture_output=True, text=True, timeout=60
    )


def test_snapshot_json_cli(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, pids_limit=50)
    result = _cli("snapshot", "--interval", "1", "--json", ctr.name)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"time", "host", "containers"}
    assert set(data["host"]) >= {"cgroup_version", "cpus", "memory_bytes"}
    assert data["host"]["cpus"] == os.cpu_count()
    (c,) = data["containers"]
    for key in ("id", "name", "runtime", "image", "state", "init_pid", "pids", "cgroup",
                "namespaces", "limits", "usage", "throttling", "memory_events", "psi"):  # fmt: skip
        assert key in c, key
    assert c["id"] == ctr.id and c["name"] == ctr.name
    assert c["limits"]["cpu_quota_cores"] == pytest.approx(0.1)
    assert c["limits"]["memory_max_bytes"] is None  # no limit is null, not 0
    assert c["limits"]["pids_max"] == 50
    # cgroupfs driver: /docker/<id>; systemd driver: /system.slice/docker-<id>.scope
    assert c["cgroup"]["path"] in {f"/docker/{ctr.id}", f"/system.slice/docker-{ctr.id}.scope"}
    assert c["throttling"]["throttled_percent"] > 0
    for key in ("cpu_percent", "cpu_percent_of_quota", "memory_used_bytes",
                "memory_current_bytes", "pids_current", "net_rx_bytes_per_s",
                "net_tx_bytes_per_s", "io_read_bytes_per_s", "io_write_bytes_per_s"):  # fmt: skip
        assert key in c["usage"], key


def test_snapshot_table_and_ns_cli(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP, pid_mode="host")
    result = _cli("snapshot", "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    assert ctr.name in result.stdout and "NAME" in result.stdout.splitlines()[0]
    result = _cli("ns", "--json")
    assert result.returncode == 0, result.stderr
    namespaces = json.loads(result.stdout)
    host_pid = [n for n in namespaces if n["type"] == "pid" and n["is_host"]]
    assert len(host_pid) == 1 and ctr.name in host_pid[0]["containers"]
    own_net = [n for n in namespaces if n["type"] == "net" and ctr.name in n["containers"]]
    assert len(own_net) == 1 and not own_net[0]["is_host"]
    assert ctr.attrs["State"]["Pid"] in own_net[0]["pids"]
