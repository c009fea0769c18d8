"""Each finding kind proven against a real container that causes it, the row that survives a
crash-loop, and the engine-down case. Ground truth: the kernel's files, `docker inspect`,
`docker events` (read by the test, not through ctop-py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ctop_py import cli
from ctop_py.cgroupfs import detect_layout
from ctop_py.collect import Collector
from ctop_py.host import HostRoot
from ctop_py.model import ContainerRaw, RawSample
from ctop_py.runtimes.docker import EngineClient
from ctop_py.thresholds import THRESHOLDS
from tests.conftest import BASE_IMAGE, SPIN, RunContainer, deadline_s
from tests.groundtruth import docker_inspect, flat_keyed

pytestmark = pytest.mark.docker
V2 = detect_layout(HostRoot()).mode == "v2"
REPO = Path(__file__).resolve().parent.parent


def find(sample: RawSample, cid: str) -> ContainerRaw | None:
    return next((c for c in sample.containers if c.id == cid), None)


def cgroup_dir(c: ContainerRaw, v1_controller: str) -> Path:
    layout = detect_layout(HostRoot())
    assert c.cgroup_path is not None
    if layout.mode == "v2":
        assert layout.unified is not None
        return layout.unified / c.cgroup_path.lstrip("/")
    return layout.controllers[v1_controller] / c.cgroup_path.lstrip("/")


def diagnose_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert cli.main(["diagnose", "--json", *args]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def only_container(data: dict[str, Any]) -> dict[str, Any]:
    (entry,) = data["containers"]
    return entry  # type: ignore[no-any-return]


def by_kind(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["kind"]: f for f in entry["findings"]}


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def docker_events(cid: str, since: float, action: str) -> int:
    out = subprocess.run(
        ["docker", "events", "--since", f"{since:.3f}", "--until", f"{time.time():.3f}",
         "--filter", f"container={cid}", "--filter", f"event={action}", "--format", "{{.Action}}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return len(out.split())


def engine_ooms_caught_up(cid: str, since: float, kernel_kills: int) -> int:
    """The engine's "oom" events since `since`, once they number `kernel_kills` or after a
    (scaled) 10 s: the engine reports a kill after the kernel counts it, and a crash loop
    goes on killing meanwhile."""
    wait_until = time.monotonic() + deadline_s(10)
    while (count := docker_events(cid, since, "oom")) < kernel_kills:
        if time.monotonic() > wait_until:
            break
        time.sleep(0.5)
    return count


def sampled(cid: str) -> ContainerRaw:
    """The container as one collection sees it (its cgroup path, its counters)."""
    collector = Collector(engines=[])
    try:
        c = find(collector.sample(), cid)
    finally:
        collector.close()
    assert c is not None
    return c


def throttled_spinner(run_container: RunContainer) -> Any:
    """A spinner held to a tenth of a core, running for a second."""
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, network_mode="none")
    time.sleep(1.0)
    return ctr


# An inner shell forks more sleeps than allowed and dies at the refusal (busybox sh exits on
# "can't fork"); the outer one, whose own fork always finds the slot the inner freed, starts it
# again.
FORKER = 'while :; do sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done" 2>/dev/null; done'


def forker(run_container: RunContainer) -> Any:
    """FORKER under a limit of 8 pids, refused forks already counted."""
    ctr = run_container(
        BASE_IMAGE,
        ["sh", "-c", FORKER],
        pids_limit=8,
        nano_cpus=200_000_000,
        network_mode="none",
    )
    time.sleep(1.5)
    return ctr


def test_cpu_throttled_spinner(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    ctr = throttled_spinner(run_container)
    c = sampled(ctr.id)
    stat = cgroup_dir(c, "cpu") / "cpu.stat"
    before, t0 = flat_keyed(stat), time.monotonic()
    entry = only_container(diagnose_json(capsys, ctr.name, "--window", "3"))
    after, seconds = flat_keyed(stat), time.monotonic() - t0
    finding = by_kind(entry)["cpu-throttled"]
    ev = finding["evidence"]
    # The periods counted lie within the kernel's over (a superset of) the same window.
    assert 0 < ev["periods"] <= after["nr_periods"] - before["nr_periods"]
    assert 0 < ev["throttled_periods"] <= after["nr_throttled"] - before["nr_throttled"]
    assert ev["throttled_percent"] == pytest.approx(
        100 * ev["throttled_periods"] / ev["periods"], abs=0.1
    )
    assert ev["throttled_percent"] >= THRESHOLDS.throttled_warning_percent
    assert ev["quota_cores"] == pytest.approx(
        docker_inspect(ctr.id)["HostConfig"]["NanoCpus"] / 1e9
    )
    assert ev["used_cores"] == pytest.approx(0.1, abs=0.03)
    # needed = used + time spent throttled per second: the kernel's over (a superset of) the
    # window; on a loaded host the spinner also waits for a CPU, so it is below a whole core.
    waited = (
        (after["throttled_usec"] - before["throttled_usec"]) * 1000
        if V2
        else after["throttled_time"] - before["throttled_time"]
    )
    needed = ev["used_cores"] + waited / seconds / 1e9
    assert ev["needed_cores"] > ev["quota_cores"]
    assert ev["needed_cores"] == pytest.approx(needed, abs=0.2)
    assert entry["state"] == "running"


def test_oom_crash_loop_keeps_its_row(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.time() - 1
    ctr = run_container(
        BASE_IMAGE,
        ["sh", "-c", "sleep 1; tail /dev/zero"],
        mem_limit="24m",
        memswap_limit="24m",
        restart_policy={"Name": "always"},
        network_mode="none",
    )
    # The row: one per id in every sample, shown by default (running or restarting).
    collector = Collector(watch_engines=True)
    states = []
    try:
        # At least 12 s, and until it has restarted three times (slow hosts scale the deadline).
        minimum = time.monotonic() + 12
        deadline = time.monotonic() + deadline_s(30)
        while time.monotonic() < deadline:
            c = find(collector.sample(), ctr.id)
            assert c is not None, "the crash-looping container lost its row"
            assert c.active, f"not in the default view: state {c.state}"
            states.append(c.state)
            if time.monotonic() >= minimum and docker_inspect(ctr.id)["RestartCount"] >= 3:
                break
            time.sleep(0.5)
        restarts_before = docker_inspect(ctr.id)["RestartCount"]
        last = find(collector.sample(), ctr.id)
        restarts_after = docker_inspect(ctr.id)["RestartCount"]
    finally:
        collector.close()
    assert restarts_before >= 3, "the container did not crash-loop"
    assert last is not None and last.lifecycle is not None
    life = last.lifecycle
    assert restarts_before <= (life.restart_count or 0) <= restarts_after
    assert life.oom_killed is True
    assert life.last_exit_code == 137
    assert life.oom_kills is not None and life.oom_kills >= 3
    assert life.oom_kills <= engine_ooms_caught_up(ctr.id, started, life.oom_kills)

    # snapshot --json: the lifecycle object, exactly the keys.
    capsys.readouterr()
    assert cli.main(["snapshot", "--json", "--interval", "0.3"]) == 0
    data = json.loads(capsys.readouterr().out)
    (entry,) = [e for e in data["containers"] if e["id"] == ctr.id]  # in the default view
    lifecycle = entry["lifecycle"]
    assert set(lifecycle) == {
        "restart_count", "last_exit_code", "oom_killed", "oom_kills", "started_at",
        "finished_at",
    }  # fmt: skip
    truth = docker_inspect(ctr.id)
    assert abs(lifecycle["restart_count"] - truth["RestartCount"]) <= 1
    assert lifecycle["oom_killed"] is True and lifecycle["last_exit_code"] == 137
    assert lifecycle["started_at"] is not None and lifecycle["finished_at"] is not None

    # diagnose: oom-killed and crash-loop, with the engine's counts as evidence.
    t0 = time.time()
    entry = only_container(diagnose_json(capsys, ctr.id, "--window", "2"))
    kinds = by_kind(entry)
    oom = kinds["oom-killed"]
    assert oom["severity"] == "critical"
    window_start = t0 - 120
    kills = oom["evidence"]["oom_kills"]
    assert docker_events(ctr.id, max(window_start, started), "oom") - 1 <= kills
    assert kills <= engine_ooms_caught_up(ctr.id, started, kills)
    assert oom["evidence"]["memory_max_bytes"] == truth["HostConfig"]["Memory"]
    peak = oom["evidence"]["memory_peak_bytes"]  # null when no sample caught a run
    assert peak is None or 0 < peak <= truth["HostConfig"]["Memory"]
    loop = kinds["crash-loop"]
    assert loop["evidence"]["last_exit_code"] == 137
    assert loop["evidence"]["restart_count"] >= restarts_after
    assert entry["findings"][0]["kind"] == "oom-killed"


def test_pids_limit_refused_forks(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    ctr = forker(run_container)
    c = sampled(ctr.id)
    events_file = cgroup_dir(c, "pids") / "pids.events"
    before = flat_keyed(events_file)["max"]
    entry = only_container(diagnose_json(capsys, ctr.name, "--window", "3"))
    after = flat_keyed(events_file)["max"]
    finding = by_kind(entry)["pids-limit"]
    assert finding["severity"] == "critical"
    assert finding["evidence"]["pids_max"] == int((cgroup_dir(c, "pids") / "pids.max").read_text())
    assert finding["evidence"]["pids_max"] == docker_inspect(ctr.id)["HostConfig"]["PidsLimit"]
    # Refused forks counted by ctop-py lie within the kernel's count around the window.
    assert 0 < finding["evidence"]["refused"] <= after - before


def test_memory_high_through_the_cgroup(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    """On v2 (make test-v2): memory.high set through the container's cgroup, and a container
    that keeps allocating past it, is a memory-high finding with the kernel's counts. On v1
    there is no memory.high: ctop-py must say none rather than make one up (never a skip:
    under CI=true a skip fails the run)."""
    # Writes 40 MiB to tmpfs (charged to the container's memory) over and over.
    hog = (
        "while :; do dd if=/dev/zero of=/dev/shm/x bs=1M count=40 2>/dev/null; rm /dev/shm/x; done"
    )
    ctr = run_container(BASE_IMAGE, ["sh", "-c", hog], network_mode="none")
    time.sleep(1.0)
    c = sampled(ctr.id)
    assert c.cgroup is not None
    directory = cgroup_dir(c, "memory")
    if not V2:
        assert not (directory / "memory.high").exists()
        assert c.cgroup.limits.memory_high_bytes is None
        entry = only_container(diagnose_json(capsys, ctr.name, "--window", "2"))
        assert "memory-high" not in by_kind(entry)
        return
    (directory / "memory.high").write_text(str(16 << 20))
    before = flat_keyed(directory / "memory.events")["high"]
    entry = only_container(diagnose_json(capsys, ctr.name, "--window", "3"))
    after = flat_keyed(directory / "memory.events")["high"]
    finding = by_kind(entry)["memory-high"]
    assert finding["evidence"]["memory_high_bytes"] == 16 << 20
    assert 0 < finding["evidence"]["high_events"] <= after - before


def test_engine_down_kernel_events_still_come(run_container: RunContainer) -> None:
    ctr = forker(run_container)
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/ctop-py-i14.sock"}
    done = subprocess.run(
        [sys.executable, "-m", "ctop_py", "events", "--since", "1m", "--json", "--interval", "2"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "events are missing" in done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(e["source"] == "kernel" for e in events)
    mine = [e for e in events if e["container_id"] == ctr.id]
    assert "pids-max" in [e["kind"] for e in mine], events
    assert all(e["numbers"]["refused"] > 0 for e in mine if e["kind"] == "pids-max")
    # The engine's part of a live collector is said to be missing, not silently empty.
    engine = EngineClient("docker", "unix:///nonexistent/ctop-py-i14.sock")
    collector = Collector(engines=[engine], watch_engines=True)
    try:
        sample = collector.sample()
    finally:
        collector.close()
    assert (sample.engine_status["docker"].problem or "").startswith("unreachable")
    assert find(sample, ctr.id) is not None


def test_bad_input_is_one_line_and_exit_2() -> None:
    for args in (["diagnose", "no-such-container"], ["events", "--since", "yesterday-ish"]):
        done = subprocess.run(
            [sys.executable, "-m", "ctop_py", *args],
            capture_output=True, text=True, cwd=REPO, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr


def test_config_thresholds_reach_the_cli(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`diagnose` uses the config file's [diagnose] thresholds, as the app does: the same
    throttled spinner is critical on the defaults and only a warning when the critical
    threshold is raised past 100 %; a broken file is one line and the defaults."""
    ctr = throttled_spinner(run_container)

    def severity(*config: str) -> tuple[str, str]:
        capsys.readouterr()
        assert cli.main([*config, "diagnose", "--json", ctr.name, "--window", "2"]) == 0
        out, err = capsys.readouterr()
        return by_kind(only_container(json.loads(out)))["cpu-throttled"]["severity"], err

    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert severity("--config", str(empty)) == ("critical", "")
    raised = tmp_path / "config.toml"
    raised.write_text("[diagnose]\nthrottled_critical_percent = 101.0\n")
    assert severity("--config", str(raised)) == ("warning", "")
    broken = tmp_path / "broken.toml"
    broken.write_text("[diagnose]\nno_such_threshold = 1\n")
    level, err = severity("--config", str(broken))
    assert level == "critical"
    assert len(err.strip().splitlines()) == 1 and str(broken) in err
