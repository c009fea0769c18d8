"""Record a few seconds of live containers (a throttled spinner among them), replay, and
compare with the kernel's counters, read by the test every few milliseconds during the
recording (issue 13, item 11)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ctop_py.record import read_recording
from ctop_py.sources import snapshot_at
from tests.conftest import BASE_IMAGE, SLEEP, SPIN, RunContainer, deadline_s, wait_for
from tests.groundtruth import KernelSeries, kernel_cpu

pytestmark = pytest.mark.docker

INTERVAL = 1.0
# The longest a warm sample may take after its time stamp (taken when it starts): the counters
# it holds were read between the stamp and this much later. The first sample of a process is
# not warm (imports, cgroup discovery, the engine's list): only the next stamp bounds it.
SAMPLE_TAKES_NS = int(deadline_s(0.5) * 1e9)


def test_recording_replays_the_kernels_counters(
    run_container: RunContainer, tmp_path: Path
) -> None:
    spinner = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000)
    idle = run_container(BASE_IMAGE, SLEEP)
    pid = spinner.attrs["State"]["Pid"]
    wait_for(lambda: kernel_cpu(pid).nr_throttled > 0, 10, "the spinner to hit its quota")
    path = tmp_path / "live.rec"
    with KernelSeries(pid) as series:
        time.sleep(0.1)
        recorded = subprocess.run(
            [sys.executable, "-m", "ctop_py", "record", str(path),
             "--interval", str(INTERVAL), "--duration", "5"],
            capture_output=True, text=True, timeout=deadline_s(60),
        )  # fmt: skip
        time.sleep(SAMPLE_TAKES_NS / 1e9 + 0.05)
    assert recorded.returncode == 0, recorded.stderr
    samples = read_recording(path).samples
    assert len(samples) >= 5
    names = {c.id for c in samples[-1].containers}
    assert {spinner.id, idle.id} <= names

    previous = None
    for index, sample in enumerate(samples):
        (raw,) = [c for c in sample.containers if c.id == spinner.id]
        assert raw.cgroup is not None
        t = sample.monotonic_ns
        following = samples[index + 1].monotonic_ns if index + 1 < len(samples) else None
        # The recording holds the kernel's counters as they were while it sampled.
        low, latest = series.at_most(t), series.at_least(following or t + SAMPLE_TAKES_NS)
        for name in ("usage_ns", "nr_periods", "nr_throttled", "throttled_ns"):
            value = getattr(raw.cgroup.cpu, name)
            assert getattr(low, name) <= value <= getattr(latest, name), (index, name)
        high = series.at_least(t + SAMPLE_TAKES_NS)
        if index >= 1:
            for name in ("usage_ns", "nr_periods", "nr_throttled", "throttled_ns"):
                assert getattr(raw.cgroup.cpu, name) <= getattr(high, name), (index, name)
        if previous is not None and index >= 2:  # both ends warm
            view = next(
                v for v in snapshot_at(samples, sample.time).containers if v.id == spinner.id
            )
            t0, low0, high0 = previous
            seconds = (t - t0) / 1e9
            cpu = view.usage.cpu_percent
            assert cpu is not None
            # What replay can show, given where the kernel's counters were at both ends.
            assert 100 * (low.usage_ns - high0.usage_ns) / (t - t0) <= cpu
            assert cpu <= 100 * (high.usage_ns - low0.usage_ns) / (t - t0)
            throttled = view.throttling.throttled_percent
            assert throttled is not None
            fewest = max(0, low.nr_throttled - high0.nr_throttled)
            assert 100 * fewest / (high.nr_periods - low0.nr_periods) <= throttled
            most = high.nr_throttled - low0.nr_throttled
            assert throttled <= 100 * most / max(1, low.nr_periods - high0.nr_periods)
            per_s = view.throttling.throttled_seconds_per_s
            assert per_s is not None
            assert (low.throttled_ns - high0.throttled_ns) / 1e9 / seconds <= per_s
            assert per_s <= (high.throttled_ns - low0.throttled_ns) / 1e9 / seconds
        previous = (t, low, high)
