"""Against the real engine and this host's kernel: the numbers must equal the ground truth
(the kernel's files, `docker inspect`, `docker stats`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ctop_py.collect import Collector
from ctop_py.derive import derive
from ctop_py.model import HOST_NAMESPACE, ContainerRaw, RawSample, SharedNamespace, Sharing
from ctop_py.runtimes.docker import EngineClient
from tests.conftest import BASE_IMAGE, SLEEP, SPIN, RunContainer, deadline_s, wait_for
from tests.groundtruth import KernelCpu, flat_keyed_kb, kernel_cgroup_dir, kernel_cpu, net_dev_rx

pytestmark = pytest.mark.docker


def find(sample: RawSample, cid: str) -> ContainerRaw:
    for c in sample.containers:
        if c.id == cid:
            return c
    raise AssertionError(
        f"container {cid[:12]} not found among {[c.name for c in sample.containers]}"
    )


@dataclass(frozen=True)
class Bracketed:
    """A sample with the kernel's counters read just before and just after it."""

    before: KernelCpu
    sample: RawSample
    after: KernelCpu


def bracketed(collector: Collector, pid: int) -> Bracketed:
    before = kernel_cpu(pid)
    sample = collector.sample()
    return Bracketed(before, sample, kernel_cpu(pid))


def rate_bounds(a: Bracketed, b: Bracketed, field: str, per: str = "") -> tuple[float, float]:
    """The least and the most that Δfield / Δper (per: a counter, or time when empty) can be
    between the two samples, given when the kernel's counters were read around them."""

    def get(k: KernelCpu, name: str) -> int:
        return k.monotonic_ns if not name else int(getattr(k, name))

    low_num = get(b.before, field) - get(a.after, field)
    high_num = get(b.after, field) - get(a.before, field)
    low_den = get(b.before, per) - get(a.after, per)
    high_den = get(b.after, per) - get(a.before, per)
    assert low_den > 0, f"no {per or 'time'} passed between the samples"
    return max(0, low_num) / high_den, high_num / low_den


def assert_counters_between(b: Bracketed, c: ContainerRaw) -> None:
    """The collector's raw counters are the kernel's, read while it sampled."""
    assert c.cgroup is not None
    cpu = c.cgroup.cpu
    for name in ("usage_ns", "nr_periods", "nr_throttled", "throttled_ns"):
        value = getattr(cpu, name)
        assert getattr(b.before, name) <= value <= getattr(b.after, name), name


WAKE_THEN_SPIN = [
    "sh", "-c", "i=0; while [ $i -lt 30 ]; do usleep 100000; i=$((i+1)); done; "
    "touch /tmp/spinning; while true; do :; done",
]  # fmt: skip


def test_throttled_spinner_equals_the_kernel(run_container: RunContainer) -> None:
    """CPU %, throttled % (Δnr_throttled / Δnr_periods) and throttled seconds per second of a
    spinner limited to 0.1 CPU, against cpu.stat and cpuacct.usage read around each sample.
    For its first 3 s it only wakes every 0.1 s (periods elapse, none throttled), so its
    lifetime ratio is far from the window's: the rates must be the window's."""
    ctr = run_container(BASE_IMAGE, WAKE_THEN_SPIN, nano_cpus=100_000_000, mem_limit="48m",
                        pids_limit=50)  # fmt: skip
    pid = ctr.attrs["State"]["Pid"]
    collector = Collector()
    try:

        def spinning() -> bool:  # the wake-up loop is over (seen through its root)
            return os.path.exists(f"/proc/{pid}/root/tmp/spinning")

        wait_for(spinning, 30, "the spinner to spin at its quota")
        wait_for(lambda: kernel_cpu(pid).nr_throttled > 0, 10, "the quota to bite")
        first = bracketed(collector, pid)
        time.sleep(deadline_s(2.0))  # the measured window
        second = bracketed(collector, pid)
    finally:
        collector.close()
    for b in (first, second):
        assert_counters_between(b, find(b.sample, ctr.id))
    view = next(v for v in derive(first.sample, second.sample).containers if v.id == ctr.id)
    assert view.name == ctr.name and view.raw.runtime == "docker"
    assert view.raw.image == BASE_IMAGE and view.raw.state == "running"
    assert view.limits.cpu_quota_cores == pytest.approx(0.1)
    assert view.limits.memory_max_bytes == 48 * 1024 * 1024
    assert view.limits.pids_max == 50

    cpu, throttled = view.usage.cpu_percent, view.throttling.throttled_percent
    throttled_per_s = view.throttling.throttled_seconds_per_s
    assert cpu is not None and throttled is not None and throttled_per_s is not None
    low, high = rate_bounds(first, second, "usage_ns")
    assert low * 100 <= cpu <= high * 100
    assert view.usage.cpu_percent_of_quota == pytest.approx(cpu / 0.1)
    low, high = rate_bounds(first, second, "nr_throttled", "nr_periods")
    assert low * 100 <= throttled <= high * 100
    low, high = rate_bounds(first, second, "throttled_ns")
    assert low <= throttled_per_s <= high
    assert view.usage.pids_current == 1
    assert view.raw.pids == (pid,)


def test_cpu_percent_equals_kernel_counters(run_container: RunContainer) -> None:
    """CPU % against cpuacct.usage read around both samples. The bounds are as wide as the two
    samples are long against the window between them (a full sample of a loaded shared host
    took > 75 ms, and 1.5 s let the bounds drift apart by more than 0.1): the second sample is
    taken again, later, until they are narrower than 0.1; every one taken must be within."""
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=500_000_000)
    pid = ctr.attrs["State"]["Pid"]
    collector = Collector()
    try:
        first = bracketed(collector, pid)
        assert_counters_between(first, find(first.sample, ctr.id))
        time.sleep(deadline_s(1.5))
        until = time.monotonic() + deadline_s(30)
        while True:
            second = bracketed(collector, pid)
            assert_counters_between(second, find(second.sample, ctr.id))
            view = next(v for v in derive(first.sample, second.sample).containers if v.id == ctr.id)
            low, high = rate_bounds(first, second, "usage_ns")
            assert view.usage.cpu_percent is not None
            assert low * 100 <= view.usage.cpu_percent <= high * 100
            if high - low < 0.1:  # the bracket is tight enough to mean something
                break
            assert time.monotonic() < until, f"bounds never narrower than 0.1: {low}..{high}"
            time.sleep(0.5)
    finally:
        collector.close()


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


_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


def docker_size(text: str) -> tuple[float, float]:
    """`docker stats` prints sizes with 4 significant digits ("2.051MiB"): the value it shows
    and how far the true value may be from it (half a unit of the last digit)."""
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]+)", text.strip())
    assert match, text
    number, unit = match.groups()
    decimals = len(number.split(".")[1]) if "." in number else 0
    scale = _UNITS[unit]
    return float(number) * scale, 0.5 * 10**-decimals * scale


def test_memory_used_equals_docker_stats(run_container: RunContainer) -> None:
    """Memory used (usage minus inactive file cache) against `docker stats`' own output."""
    ctr = run_container(BASE_IMAGE, ["sh", "-c", "dd if=/dev/zero of=/tmp/f bs=1k count=2048; "
                                     "echo written; sleep 3600"], mem_limit="64m")  # fmt: skip
    wait_for(lambda: b"written" in ctr.logs(), 30, "the container to write its file")
    collector = Collector()
    try:
        for _ in range(5):  # until memory holds still across the `docker stats` call
            before = find(collector.sample(), ctr.id).cgroup
            stats = subprocess.run(
                ["docker", "stats", "--no-stream", "--format", "{{json .}}", ctr.id],
                capture_output=True, text=True, timeout=deadline_s(60),
            )  # fmt: skip
            after = find(collector.sample(), ctr.id).cgroup
            assert before is not None and after is not None
            if before.memory.used_bytes == after.memory.used_bytes:
                break
    finally:
        collector.close()
    assert stats.returncode == 0, stats.stderr
    assert after is not None and after.memory.current_bytes is not None
    shown = json.loads(stats.stdout)
    used_text, limit_text = shown["MemUsage"].split(" / ")
    used, slack = docker_size(used_text)
    assert after.memory.used_bytes is not None
    assert abs(after.memory.used_bytes - used) <= slack, (after.memory.used_bytes, used_text)
    assert after.memory.current_bytes >= 2048 * 1024  # the file written is cached (inactive)
    limit, slack = docker_size(limit_text)
    assert after.limits.memory_max_bytes == 64 * 1024 * 1024
    assert abs(after.limits.memory_max_bytes - limit) <= slack
    percent = float(shown["MemPerc"].rstrip("%"))
    assert abs(100 * after.memory.used_bytes / after.limits.memory_max_bytes - percent) <= 0.005


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


def test_snapshot_json_cli(run_container: RunContainer, docker_client: Any) -> None:
    """Every value of `snapshot --json` that can be known is checked against the kernel and
    `docker inspect`; cumulative counters lie between the kernel's reads around the run."""
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, pids_limit=50)
    pid = ctr.attrs["State"]["Pid"]
    inspect = docker_client.api.inspect_container(ctr.id)
    before, rx_before = kernel_cpu(pid), net_dev_rx(pid)
    result = _cli("snapshot", "--interval", "1", "--json", ctr.name)
    after, rx_after = kernel_cpu(pid), net_dev_rx(pid)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["host"]["cpus"] == os.cpu_count()
    v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    assert data["host"]["cgroup_version"] == (2 if v2 else 1)
    meminfo = flat_keyed_kb(Path("/proc/meminfo"))
    assert data["host"]["memory_bytes"] == meminfo["MemTotal"] * 1024
    assert data["interval_s"] >= 1.0
    (c,) = data["containers"]
    assert (c["id"], c["name"], c["runtime"], c["image"], c["state"]) == (
        ctr.id, ctr.name, "docker", inspect["Config"]["Image"], "running",
    )  # fmt: skip
    assert c["init_pid"] == pid and c["pids"] == [pid]
    cgroup_dir = kernel_cgroup_dir(pid, "cpu")
    expected_path = "/" + str(cgroup_dir.relative_to(
        Path("/sys/fs/cgroup") if v2 else Path("/sys/fs/cgroup") / cgroup_dir.parts[4]
    ))  # fmt: skip
    cgroup = c["cgroup"]
    assert (cgroup["version"], cgroup["path"], cgroup["gone"]) == (
        2 if v2 else 1,
        expected_path,
        False,
    )
    for ns_type, inode in c["namespaces"].items():
        assert os.readlink(f"/proc/{pid}/ns/{ns_type}") == f"{ns_type}:[{inode}]"
    host = inspect["HostConfig"]
    assert c["limits"]["cpu_quota_cores"] == pytest.approx(host["NanoCpus"] / 1e9)
    assert c["limits"]["memory_max_bytes"] is None and host["Memory"] == 0  # null, not 0
    assert c["limits"]["pids_max"] == host["PidsLimit"]
    assert c["usage"]["pids_current"] == 1
    assert c["usage"]["cpu_percent_of_quota"] == pytest.approx(c["usage"]["cpu_percent"] / 0.1)
    for name in ("usage_ns", "nr_periods", "nr_throttled", "throttled_ns"):
        assert getattr(before, name) <= c["cpu"][name] <= getattr(after, name), name
    assert c["throttling"]["nr_throttled"] == c["cpu"]["nr_throttled"]
    assert rx_before <= c["net"]["rx_bytes"] <= rx_after
    assert c["usage"]["net_rx_bytes_per_s"] <= (rx_after - rx_before) / data["interval_s"]
    assert c["usage"]["io_read_bytes_per_s"] == 0 and c["usage"]["io_write_bytes_per_s"] == 0


def test_snapshot_table_and_ns_cli(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP, pid_mode="host")
    pid = ctr.attrs["State"]["Pid"]
    result = _cli("snapshot", "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[:4] == ["NAME", "RUNTIME", "ID", "STATE"]
    (row,) = [line.split() for line in result.stdout.splitlines() if line.startswith(ctr.name)]
    assert row[:4] == [ctr.name, "docker", ctr.id[:12], "running"]
    result = _cli("ns", "--json")
    assert result.returncode == 0, result.stderr
    namespaces = json.loads(result.stdout)
    host_pid = [n for n in namespaces if n["type"] == "pid" and n["is_host"]]
    assert len(host_pid) == 1 and ctr.name in host_pid[0]["containers"]
    assert os.readlink("/proc/self/ns/pid") == f"pid:[{host_pid[0]['inode']}]"
    own_net = [n for n in namespaces if n["type"] == "net" and ctr.name in n["containers"]]
    assert len(own_net) == 1 and not own_net[0]["is_host"]
    assert own_net[0]["pids"] == [pid]  # `sleep` alone in its network namespace
    assert os.readlink(f"/proc/{pid}/ns/net") == f"net:[{own_net[0]['inode']}]"
