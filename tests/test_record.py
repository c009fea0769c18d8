"""Recordings: exact round trip, replay re-derives the same rates, crash safety, disk full."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ctop_py.collect import Collector
from ctop_py.derive import derive
from ctop_py.model import RawSample
from ctop_py.record import MAGIC, Recorder, RecordingError, read_recording
from ctop_py.sources import ReplaySource, snapshot_at
from tests.conftest import deadline_s, require, wait_for
from tests.fakeroot import FakeHost, net_dev, v2_files

ID = "d89ef6da903ab9e80ab773ffad6eb38d24832a7a06551e4817552ce19ffd7008"
CTR_NS = {"pid": 4026532200, "net": 4026532201, "mnt": 4026532202}


def fake_host(base: Path) -> FakeHost:
    host = FakeHost(base)
    path = f"/system.slice/docker-{ID}.scope"
    host.write_cgroup(path, v2_files(usage_usec=1_000_000, periods=10, throttled=5))
    host.add_process(100, "sh\x1b[31m", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(1000, 500), cmdline=("sh", "-c", "\xff odd"))  # fmt: skip
    host.add_process(55, "host-daemon", cgroup_path="/system.slice/cron.service")
    return host


def two_samples(host: FakeHost) -> tuple[RawSample, RawSample]:
    collector = Collector(host.root, engines=[])
    first = collector.sample()
    path = f"/system.slice/docker-{ID}.scope"
    host.write_cgroup(path, v2_files(usage_usec=1_100_000, periods=20, throttled=14))
    host.add_process(100, "sh\x1b[31m", cgroup_path=path, namespaces=CTR_NS, nspid=(100, 1),
                     net=net_dev(3000, 1500), cmdline=("sh", "-c", "\xff odd"))  # fmt: skip
    second = dataclasses.replace(
        collector.sample(),
        monotonic_ns=first.monotonic_ns + 1_000_000_000,
        time=first.time + 1.0,
    )
    return first, second


def test_round_trip_is_exact(tmp_path: Path) -> None:
    first, second = two_samples(fake_host(tmp_path / "root"))
    path = tmp_path / "rec"
    with Recorder(path) as recorder:
        recorder.append(first)
        recorder.append(second)
    recording = read_recording(path)
    assert not recording.truncated and len(recording.samples) == 2
    replayed = recording.samples[1]
    # Only the containers' processes are stored; everything else is exact.
    assert [p.pid for p in replayed.processes] == [100]
    assert replayed.processes[0].cgroups == ()
    assert dataclasses.replace(second, processes=replayed.processes) == replayed
    original = next(p for p in second.processes if p.pid == 100)
    assert dataclasses.replace(original, cgroups=()) == replayed.processes[0]
    assert replayed.processes[0].comm == "sh\x1b[31m"
    assert replayed.processes[0].cmdline == ("sh", "-c", "\xff odd")
    live = derive(first, second).containers[0]
    again = derive(recording.samples[0], replayed).containers[0]
    assert again.usage == live.usage and again.throttling == live.throttling
    assert again.throttling.throttled_percent == pytest.approx(90.0)


def test_replay_cursor(tmp_path: Path) -> None:
    first, second = two_samples(fake_host(tmp_path / "root"))
    source = ReplaySource([first, second])
    assert source.current().containers[0].usage.cpu_percent is None  # first: no rate
    assert source.step().containers[0].usage.cpu_percent == pytest.approx(10.0)
    assert source.step().raw.time == second.time  # stays at the end
    assert source.step(-5).raw.time == first.time
    assert source.seek(second.time + 100).raw.time == second.time
    assert snapshot_at([first, second], first.time + 0.5).raw.time == first.time


def test_killed_recorder_leaves_a_readable_file(tmp_path: Path) -> None:
    host = fake_host(tmp_path / "root")
    path = tmp_path / "killed.rec"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ctop_py",
            "record",
            str(path),
            "--interval",
            "0.05",
            "--root",
            str(host.base),
        ],
        stderr=subprocess.PIPE,
    )
    wait_for(
        lambda: path.exists() and len(read_recording(path).samples) >= 3,
        30,
        "three samples recorded",
        interval=0.05,
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    whole = read_recording(path)
    assert len(whole.samples) >= 3 and not whole.truncated
    # A torn tail (as a power cut or a full disk mid-write would leave) is dropped, and said.
    with open(path, "ab") as f:
        f.write(b"\x00\x00\x10\x00\x12\x34\x56\x78" + b"partial")
    torn = read_recording(path)
    assert torn.truncated and torn.samples == whole.samples


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctop_py", *args], capture_output=True, text=True, timeout=60
    )


def one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], result.stderr


def test_unwritable_and_foreign_files(tmp_path: Path) -> None:
    host = fake_host(tmp_path / "root")
    root = ["--root", str(host.base), "--duration", "0.1"]
    one_line_error(run_cli("record", str(tmp_path / "no/such/dir/f"), *root), "No such file")
    foreign = tmp_path / "notes.txt"
    foreign.write_text("my notes\n")
    one_line_error(run_cli("record", str(foreign), *root), "not a ctop-py recording")
    assert foreign.read_text() == "my notes\n"  # untouched
    one_line_error(run_cli("snapshot", "--replay", str(foreign)), "not a ctop-py recording")
    empty = tmp_path / "empty.rec"
    empty.write_bytes(MAGIC)
    one_line_error(run_cli("snapshot", "--replay", str(empty)), "no complete sample")


def test_disk_full_is_a_clear_error_and_leaves_whole_records(tmp_path: Path) -> None:
    """A 12 KiB tmpfs fills up under `record`. It is mounted in a private mount namespace
    (`unshare --mount`, plus a user namespace when not root), so nothing shows on the host;
    the recording is copied out before the namespace ends."""
    require(shutil.which("unshare") is not None, "unshare is not installed (util-linux)")
    host = fake_host(tmp_path / "root")
    full = tmp_path / "full"
    full.mkdir()
    kept = tmp_path / "rec"
    userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    script = (
        'mount -t tmpfs -o size=12k tmpfs "$1" || exit 99; '
        '"$2" -m ctop_py record "$1/rec" --interval 0.01 --root "$3"; rc=$?; '
        'cp "$1/rec" "$4"; exit $rc'
    )
    result = subprocess.run(
        ["unshare", *userns, "--mount", "--propagation", "private", "--", "sh", "-c", script,
         "sh", str(full), sys.executable, str(host.base), str(kept)],
        capture_output=True, text=True, timeout=deadline_s(120),
    )  # fmt: skip
    require(result.returncode != 99, f"cannot mount a tmpfs: {result.stderr.strip()}")
    one_line_error(result, "No space left on device")
    recording = read_recording(kept)
    assert not recording.truncated  # the failed record was cut back off
    assert len(recording.samples) >= 1
    assert os.listdir(full) == []  # the tmpfs was private to the namespace


def test_write_error_in_library_raises_typed(tmp_path: Path) -> None:
    first, _ = two_samples(fake_host(tmp_path / "root"))
    with pytest.raises(RecordingError, match="/dev/full"), Recorder("/dev/full") as recorder:
        recorder.append(first)


def test_snapshot_replay_at(tmp_path: Path) -> None:
    first, second = two_samples(fake_host(tmp_path / "root"))
    path = tmp_path / "rec"
    with Recorder(path) as recorder:
        recorder.append(first)
        recorder.append(second)
    at0 = run_cli("snapshot", "--replay", str(path), "--at", "0", "--json")
    assert at0.returncode == 0, at0.stderr
    c0 = json.loads(at0.stdout)["containers"][0]
    assert c0["usage"]["cpu_percent"] is None
    at1 = run_cli("snapshot", "--replay", str(path), "--at", "1", "--json")
    c1 = json.loads(at1.stdout)["containers"][0]
    assert c1["usage"]["cpu_percent"] == pytest.approx(10.0)
    assert c1["throttling"]["throttled_percent"] == pytest.approx(90.0)
    last = run_cli("snapshot", "--replay", str(path))
    assert last.returncode == 0 and ID[:12] in last.stdout
    one_line_error(run_cli("snapshot", "--replay", str(path), "--at", "yesterday"), "not a time")
    one_line_error(run_cli("snapshot", "--at", "1"), "--at needs --replay")


def test_record_only_labelled(tmp_path: Path) -> None:
    host = fake_host(tmp_path / "root")
    uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    pod = f"/kubepods/burstable/pod{uid}/{'c' * 64}"
    host.write_cgroup(pod, v2_files())
    host.add_process(300, "pause", cgroup_path=pod, namespaces={"pid": 4026532999}, nspid=(300, 1))
    path = tmp_path / "pod.rec"
    result = run_cli("record", str(path), "--duration", "0.1", "--root", str(host.base),
                     "--label", f"io.kubernetes.pod.uid={uid}")  # fmt: skip
    assert result.returncode == 0, result.stderr
    (sample,) = read_recording(path).samples
    assert [c.id for c in sample.containers] == ["c" * 64]
    assert [p.pid for p in sample.processes] == [300]
    one_line_error(run_cli("record", str(path), "--label", "novalue"), "KEY=VALUE")


def test_replay_command_errors(tmp_path: Path) -> None:
    foreign = tmp_path / "x.txt"
    foreign.write_text("hello\n")
    one_line_error(run_cli("replay", str(foreign)), "not a ctop-py recording")
    empty = tmp_path / "empty.rec"
    empty.write_bytes(MAGIC)
    one_line_error(run_cli("replay", str(empty)), "no complete sample")
    one_line_error(run_cli("replay", str(tmp_path / "missing.rec")), "No such file")


def test_demo_recording_ships_and_replays() -> None:
    import importlib.resources

    from ctop_py.derive import derive

    resource = importlib.resources.files("ctop_py").joinpath("data", "demo.rec")
    with importlib.resources.as_file(resource) as path:
        recording = read_recording(path)
    assert not recording.truncated and len(recording.samples) >= 60
    names = {c.name for c in recording.samples[-1].containers}
    assert {"demo-api", "demo-db", "demo-worker", "demo-web", "demo-sidecar"} <= names
    last = derive(recording.samples[-2], recording.samples[-1])
    api = next(c for c in last.containers if c.name == "demo-api")
    assert api.limits.cpu_quota_cores == pytest.approx(0.25)
    assert api.throttling.throttled_percent is not None and api.throttling.throttled_percent > 50
