"""OpenMetrics: values equal the cgroup files; a real Prometheus scrapes them and answers PromQL."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from ctop_py.collect import Collector
from ctop_py.export.openmetrics import SampleExporter
from tests.conftest import BASE_IMAGE, SPIN, RunContainer, deadline_s, require, wait_for
from tests.fakeroot import FakeHost, v2_files
from tests.groundtruth import KernelSeries

ID = "d89ef6da903ab9e80ab773ffad6eb38d24832a7a06551e4817552ce19ffd7008"


def scrape(exporter: SampleExporter) -> dict[tuple[str, str], float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    values = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            values[(s.name, s.labels.get("event") or s.labels.get("runtime", ""))] = s.value
    return values


def test_values_equal_cgroup_files(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/system.slice/docker-{ID}.scope"
    host.write_cgroup(path, v2_files(usage_usec=2_500_000, periods=40, throttled=30,
                                     throttled_usec=1_500_000, memory_max="max"))  # fmt: skip
    host.add_process(100, "sh", cgroup_path=path, namespaces={"pid": 4026532200}, nspid=(100, 1))
    exporter = SampleExporter(Collector(host.root, engines=[]).sample, interval=60)
    assert scrape(exporter)[("ctop_sample_timestamp_seconds", "")] == 0.0  # nothing yet
    exporter.sample_once()
    v = scrape(exporter)
    assert v[("container_cpu_usage_seconds_total", "docker")] == pytest.approx(2.5)
    assert v[("container_cpu_cfs_periods_total", "docker")] == 40
    assert v[("container_cpu_cfs_throttled_periods_total", "docker")] == 30
    assert v[("container_cpu_cfs_throttled_seconds_total", "docker")] == pytest.approx(1.5)
    assert v[("container_spec_cpu_quota", "docker")] == 10000
    assert v[("container_spec_cpu_period", "docker")] == 100000
    assert ("container_spec_memory_limit_bytes", "docker") not in v  # no limit: no sample
    assert v[("container_memory_working_set_bytes", "docker")] == (10 << 20) - (2 << 20)
    assert v[("container_threads_max", "docker")] == 50
    assert v[("ctop_container_memory_events_total", "oom_kill")] == 1
    assert v[("container_pressure_cpu_waiting_seconds_total", "docker")] == pytest.approx(0.001)
    assert v[("ctop_containers", "docker")] == 1


def test_a_failing_sample_keeps_the_last_good_one(tmp_path: Path) -> None:
    host = FakeHost(tmp_path)
    path = f"/docker/{ID}"
    host.write_cgroup(path, v2_files())
    host.add_process(100, "sh", cgroup_path=path, namespaces={"pid": 4026532200}, nspid=(100, 1))
    collector = Collector(host.root, engines=[])
    calls = {"n": 0}

    def flaky() -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError("host went away")
        return collector.sample()

    exporter = SampleExporter(flaky, interval=60)
    exporter.sample_once()
    exporter.sample_once()
    assert exporter.error is not None and "host went away" in exporter.error
    assert scrape(exporter)[("container_cpu_cfs_periods_total", "docker")] == 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def prometheus_bin() -> str:
    found = shutil.which("prometheus")
    require(found is not None, "prometheus is not installed (Debian package `prometheus`)")
    assert found is not None
    return found


@pytest.fixture
def exporter_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctop_py",
            "exporter",
            "--listen",
            f"127.0.0.1:{port}",
            "--interval",
            "0.5",
        ],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:

        def serving() -> bool:
            assert proc.poll() is None, "the exporter exited"
            try:
                urllib.request.urlopen(url, timeout=2).read()
                return True
            except OSError:
                return False

        wait_for(serving, 20, "the exporter to serve", interval=0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.docker
def test_prometheus_scrapes_throttling(
    run_container: RunContainer, prometheus_bin: str, exporter_url: str, tmp_path: Path
) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000)
    web = f"127.0.0.1:{free_port()}"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
        f"scrape_configs:\n  - job_name: ctop\n    static_configs:\n"
        f"      - targets: ['{exporter_url}']\n"
    )
    pid = ctr.attrs["State"]["Pid"]
    # The kernel's counters read from before Prometheus starts: whatever it holds was sampled by
    # the exporter after the first of these reads (its interval is shorter than the pause).
    series = KernelSeries(pid).__enter__()
    time.sleep(deadline_s(1))
    prom = subprocess.Popen(
        [
            prometheus_bin,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address={web}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    query = (
        f'container_cpu_cfs_throttled_periods_total{{name="{ctr.name}"}}'
        f' / container_cpu_cfs_periods_total{{name="{ctr.name}"}}'
    )
    try:
        url = f"http://{web}/api/v1/query?query=" + urllib.parse.quote(query)

        def scraped() -> list[Any] | None:
            try:
                found = get_json(url)["data"]["result"]
            except OSError:
                return None
            return found if found and float(found[0]["value"][1]) > 0 else None

        result = wait_for(scraped, 45, "Prometheus to have the series", interval=0.5)
        mono_minus_wall = time.monotonic() - time.time()
        asked = int((float(result[0]["value"][0]) + mono_minus_wall) * 1e9)
        series.wait_past(asked, deadline_s(10))  # kernel reads after the query's time, too
        series.__exit__()
        ratio = float(result[0]["value"][1])
        # The value Prometheus holds was sampled by the exporter (every 0.5 s) and scraped (every
        # 1 s) before the query's time: within 4 s of it. The kernel's cumulative counters then
        # bound the ratio of the two counters.
        sampled_after = max(asked - int(deadline_s(4) * 1e9), series.reads[0][1])
        early, late = series.at_most(sampled_after), series.at_least(asked)
        assert early.nr_throttled / late.nr_periods <= ratio <= late.nr_throttled / early.nr_periods
        labels = result[0]["metric"]
        assert labels["id"] == ctr.id and labels["image"] == BASE_IMAGE
        assert labels["runtime"] == "docker"
        quota = get_json(
            f"http://{web}/api/v1/query?query="
            + urllib.parse.quote(f'container_spec_cpu_quota{{name="{ctr.name}"}}')
        )["data"]["result"]
        assert float(quota[0]["value"][1]) == 10000
    finally:
        series.__exit__()
        prom.terminate()
        prom.wait(timeout=10)
