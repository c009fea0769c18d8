"""The event timeline and the lifecycle tracker on literal samples."""

from __future__ import annotations

import types
from pathlib import Path

from ctop_py.cgroupfs import CgroupLayout
from ctop_py.commands.events import parse_since
from ctop_py.events import EventLog, from_engine, kernel_events
from ctop_py.export.json import lifecycle_to_dict
from ctop_py.lifecycle import LifecycleTracker
from ctop_py.model import CgroupMode, CgroupStats, ContainerRaw, Lifecycle
from ctop_py.thresholds import THRESHOLDS
from tests.diagfixtures import CID, MiB, container, engine, sample, stats


def test_engine_events_die_then_start_is_a_restart() -> None:
    died: set[str] = set()
    first = from_engine(engine(0, "start"), died, {})
    die = from_engine(engine(1, "die", exitCode="137"), died, {})
    oom = from_engine(engine(1, "oom"), died, {})
    again = from_engine(engine(2, "start"), died, {})
    assert first and die and oom and again
    assert [first.kind, die.kind, oom.kind, again.kind] == ["start", "die", "oom-kill", "restart"]
    assert die.numbers == {"exit_code": 137}
    assert from_engine(engine(3, "exec_start"), died, {}) is None


def test_kernel_counter_changes() -> None:
    a = stats(
        usage_ns=0, periods=0, throttled=0, quota_us=10_000, memory_high=8 * MiB,
        events={"high": 1, "max": 0, "oom_kill": 0}, pids_max=8, pids_events={"max": 2},
    )  # fmt: skip
    b = stats(
        usage_ns=10**8, periods=10, throttled=9, quota_us=10_000, memory_high=8 * MiB,
        events={"high": 41, "max": 3, "oom_kill": 1}, pids=8, pids_max=8,
        pids_events={"max": 14},
    )  # fmt: skip
    bursting: set[str] = set()
    events = kernel_events(sample(0, container(a)), sample(1, container(b)), bursting)
    got = {e.kind: e.numbers for e in events}
    assert got["memory-high"]["events"] == 40
    assert got["memory-max"]["events"] == 3
    assert got["oom-kill"]["kills"] == 1
    assert got["pids-max"]["refused"] == 12 and got["pids-max"]["pids_max"] == 8
    assert got["throttle-start"]["throttled_percent"] == 90.0
    assert bursting == {CID}
    assert all(e.source == "kernel" for e in events)
    # The burst ends when an interval falls below half the threshold.
    c = stats(usage_ns=2 * 10**8, periods=20, throttled=9, quota_us=10_000)
    ended = kernel_events(sample(1, container(b)), sample(2, container(c)), bursting)
    assert [e.kind for e in ended] == ["throttle-end"]
    assert THRESHOLDS.burst_percent / 2 > 0 and bursting == set()


def test_cgroup_recreated_removed_and_created() -> None:
    a = container(stats(usage_ns=10**9), init_pid=100)
    b = container(stats(usage_ns=10**6), init_pid=200)  # a new init, counters from 0
    events = kernel_events(sample(0, a), sample(1, b), set())
    assert [e.kind for e in events] == ["cgroup-recreated"]
    gone = kernel_events(sample(1, b), sample(2, container(None, state="restarting")), set())
    assert [e.kind for e in gone] == ["cgroup-removed"]
    back = kernel_events(sample(2, container(None)), sample(3, b), set())
    assert [e.kind for e in back] == ["cgroup-recreated"]
    new = kernel_events(sample(3), sample(4, b), set())
    assert [e.kind for e in new] == ["cgroup-created"]
    # A container that had no cgroup (stopped) leaving the list: no cgroup was removed.
    assert kernel_events(sample(5, container(None, state="exited")), sample(6), set()) == []


def test_oom_kills_counted_by_the_lifecycle_become_events() -> None:
    before = container(stats(), lifecycle=Lifecycle(kernel_oom_kills=1))
    after = container(stats(), lifecycle=Lifecycle(kernel_oom_kills=3), init_pid=300)
    events = kernel_events(sample(0, before), sample(1, after), set())
    assert [(e.kind, e.numbers.get("kills")) for e in events] == [
        ("cgroup-recreated", None),
        ("oom-kill", 2),
    ]


def test_event_log_is_bounded_and_newest_first() -> None:
    log = EventLog(bound=5)
    for i in range(20):
        log.observe(sample(i, container(stats()), events=(engine(i, "kill", signal="9"),)))
    assert len(log.events) == 5
    recent = log.recent()
    assert [e.time for e in recent] == sorted((e.time for e in recent), reverse=True)
    assert recent[0].time == 1_000_019.0
    assert log.recent(limit=2) == recent[:2]
    assert log.recent(container_id="nope") == []


def test_parse_since() -> None:
    assert parse_since("10m", now=1000.0) == 400.0
    assert parse_since("90s", now=1000.0) == 910.0
    assert parse_since("30", now=1000.0) == 970.0
    assert parse_since("1h", now=7200.0) == 3600.0
    assert parse_since("2026-01-01T00:00:00+00:00") == 1767225600.0


def v1() -> CgroupLayout:
    return CgroupLayout(CgroupMode.V1, None, {"memory": Path("/nonexistent")})


def test_lifecycle_counts_oom_kills_across_recreations() -> None:
    tracker = LifecycleTracker(v1())
    # First sight: kills from before ctop-py started are a baseline, not counted.
    (c,) = tracker.update([container(stats(events={"oom_kill": 3}), init_pid=1)], [], 0.0)
    assert c.lifecycle and c.lifecycle.kernel_oom_kills == 0
    (c,) = tracker.update([container(stats(events={"oom_kill": 4}), init_pid=1)], [], 1.0)
    assert c.lifecycle and c.lifecycle.kernel_oom_kills == 1
    # Gone (between two restarts), then a new cgroup whose counter starts from 0.
    (c,) = tracker.update([container(None, state="exited")], [], 2.0)
    (c,) = tracker.update([container(stats(events={"oom_kill": 1}), init_pid=2)], [], 3.0)
    assert c.lifecycle and c.lifecycle.kernel_oom_kills == 2 and c.lifecycle.recreations == 1
    # The engine saw more (kills whose cgroup vanished between samples): the larger counts.
    events = [engine(3.5, "oom"), engine(3.5, "die", exitCode="137")] * 3
    (c,) = tracker.update([container(None, state="exited")], events, 4.0)
    assert c.lifecycle == Lifecycle(
        oom_killed=True, oom_kills=3, last_exit_code=137, kernel_oom_kills=2,
        memory_peak_bytes=MiB, recreations=1,
    )  # fmt: skip
    assert lifecycle_to_dict(c.lifecycle) == {
        "restart_count": None, "last_exit_code": 137, "oom_killed": True, "oom_kills": 3,
        "started_at": None, "finished_at": None,
    }  # fmt: skip


def test_lifecycle_memory_peak_over_recreations() -> None:
    tracker = LifecycleTracker(v1())
    tracker.update([container(stats(peak=20 * MiB), init_pid=1)], [], 0.0)
    (c,) = tracker.update([container(stats(peak=5 * MiB), init_pid=2)], [], 1.0)
    assert c.lifecycle and c.lifecycle.memory_peak_bytes == 20 * MiB


def test_parse_inspect() -> None:
    from ctop_py.runtimes.engine_events import parse_docker_time, parse_inspect

    running = parse_inspect(
        {
            "RestartCount": 4,
            "State": {
                "Status": "running", "Running": True, "OOMKilled": True, "ExitCode": 0,
                "StartedAt": "2026-11-29T21:37:54.965945777Z",
                "FinishedAt": "2026-11-29T21:37:53.934605733Z",
            },
        }
    )  # fmt: skip
    assert running.restart_count == 4 and running.oom_killed is True
    assert running.exit_code is None  # a start resets it to 0: not the last run's code
    assert running.started_at == parse_docker_time("2026-11-29T21:37:54.965945Z")
    fresh = parse_inspect({"State": {"Status": "created", "FinishedAt": "0001-01-01T00:00:00Z"}})
    assert fresh.exit_code is None and fresh.finished_at is None
    assert parse_docker_time("2026-01-01T00:00:00+00:00") == 1767225600.0
    assert parse_docker_time("2026-01-01T01:00:00.5+01:00") == 1767225600.5


def test_v2_parent_hierarchical_oom_kills_go_to_the_container_that_went(tmp_path: Path) -> None:
    parent = tmp_path / "system.slice"
    parent.mkdir()
    events = parent / "memory.events"
    layout = CgroupLayout(CgroupMode.V2, tmp_path)
    tracker = LifecycleTracker(layout)
    other = "d" * 64
    running = container(stats(events={"oom_kill": 0}), init_pid=1)
    bystander = container(stats(events={"oom_kill": 0}), cid=other, name="other")
    events.write_text("low 0\nhigh 0\nmax 5\noom 2\noom_kill 0\n")
    tracker.update([running, bystander], [], 0.0)
    # Killed and gone between two samples: its own counter was never seen above 0, the
    # parent's hierarchical one keeps the 2 kills.
    events.write_text("low 0\nhigh 0\nmax 9\noom 4\noom_kill 2\n")
    gone, still = tracker.update([container(None, state="exited"), bystander], [], 1.0)
    assert gone.lifecycle and gone.lifecycle.kernel_oom_kills == 2
    assert still.lifecycle and still.lifecycle.kernel_oom_kills == 0
    # A rise that a visible child explains is not given twice.
    events.write_text("low 0\nhigh 0\nmax 9\noom 5\noom_kill 3\n")
    grown = container(stats(events={"oom_kill": 1}), cid=other, name="other")
    _, still = tracker.update([container(None, state="exited"), grown], [], 2.0)
    assert still.lifecycle and still.lifecycle.kernel_oom_kills == 1


def test_lifecycle_and_engine_events_survive_a_recording(tmp_path: Path) -> None:
    from ctop_py.record import Recorder, read_recording

    life = Lifecycle(restart_count=2, last_exit_code=137, oom_killed=True, oom_kills=2)
    s = sample(0, container(stats(), lifecycle=life), events=(engine(0, "die", exitCode="137"),))
    with Recorder(tmp_path / "r") as recorder:
        recorder.append(s)
    (back,) = read_recording(tmp_path / "r").samples
    assert back.containers[0].lifecycle == life
    assert back.engine_events == s.engine_events


def test_a_limit_hit_for_a_while_is_told_once() -> None:
    log = EventLog()
    for i in range(5):
        log.observe(sample(i, container(stats(pids_max=8, pids_events={"max": 3 * i}))))
    log.observe(sample(5, container(stats(pids_max=8, pids_events={"max": 12}))))  # quiet
    log.observe(sample(6, container(stats(pids_max=8, pids_events={"max": 20}))))  # again
    told = [(e.time - 1_000_000, e.numbers["refused"]) for e in log.events if e.kind == "pids-max"]
    assert told == [(1.0, 3), (6.0, 8)]


def test_an_idle_record_given_back_tells_what_an_equal_copy_tells() -> None:
    """The collector gives an idle container's very record back; kernel_events then skips
    it. What it tells (nothing), and the burst and limit-streak state it leaves, must be what
    an equal record that is another object gives (which takes every comparison)."""
    busy = stats(usage_ns=10**8, periods=10, throttled=9, quota_us=10_000, pids_max=8,
                 pids_events={"max": 5})  # fmt: skip
    before = stats(usage_ns=0, periods=0, throttled=0, quota_us=10_000, pids_max=8,
                   pids_events={"max": 0})  # fmt: skip
    other = "e" * 64
    gone_soon = container(stats(), cid=other, name="leaves")
    for copied in (False, True):
        bursting: set[str] = set()
        streaks: set[tuple[str, str]] = set()
        first = sample(0, container(before), gone_soon)
        hit = container(busy)
        told = kernel_events(first, sample(1, hit, gone_soon), bursting, streaks=streaks)
        assert {e.kind for e in told} == {"throttle-start", "pids-max"}
        assert bursting == {CID} and streaks == {(CID, "pids-max")}
        again = container(busy) if copied else hit
        assert (again is hit) is not copied and again == hit
        quiet = kernel_events(
            sample(1, hit, gone_soon), sample(2, again), bursting, streaks=streaks
        )
        # Nothing moved: no event but the one that left; the burst goes on (no interval to
        # end it), the pids.max streak ends (not hit in this interval).
        assert [(e.kind, e.container_id) for e in quiet] == [("cgroup-removed", other)]
        assert bursting == {CID} and streaks == set()


def test_a_container_not_seen_for_long_is_forgotten_and_counted_anew() -> None:
    from ctop_py.lifecycle import FORGET_AFTER_S

    tracker = LifecycleTracker(v1())
    other = container(stats(), cid="f" * 64, name="stays")
    tracker.update([container(stats(events={"oom_kill": 3}), init_pid=1), other], [], 0.0)
    (c, _) = tracker.update([container(stats(events={"oom_kill": 4}), init_pid=1), other], [], 1)
    assert c.lifecycle and c.lifecycle.kernel_oom_kills == 1
    tracker.update([other], [], 2.0)
    # Back within the window: the same life (its cgroup re-created, its counter from 0).
    (c, _) = tracker.update([container(stats(events={"oom_kill": 2}), init_pid=2), other], [], 3)
    assert c.lifecycle and (c.lifecycle.kernel_oom_kills, c.lifecycle.recreations) == (3, 1)
    tracker.update([other], [], 4.0)
    tracker.update([other], [], 5.0 + FORGET_AFTER_S)
    # Back after it: forgotten, its counter a baseline again.
    (c, _) = tracker.update([container(stats(events={"oom_kill": 2}), init_pid=3), other], [], 6e3)
    assert c.lifecycle and (c.lifecycle.kernel_oom_kills, c.lifecycle.recreations) == (0, 0)


def test_a_new_record_equal_to_the_last_one_is_the_last_one() -> None:
    """The collector carries a container's counters while no file changed, but makes a new
    record of new, equal objects when it reads the engine's list again: the tracker hands
    back the previous record itself, so what comes after (ring, derive, diagnosis, list)
    sees an unchanged container. Either way each record's JSON is exactly that of the
    record the collector made."""
    import dataclasses

    from ctop_py.record import sample_json

    tracker = LifecycleTracker(v1())
    quiet = stats(memory_max=64 * MiB, psi={"cpu": (5, 1), "memory": (0, 0)})
    stalled = stats(memory_max=64 * MiB, psi={"cpu": (9, 1), "memory": (0, 0)})

    def made(cgroup: CgroupStats) -> ContainerRaw:  # all but the counters new objects
        c = container(cgroup)
        return dataclasses.replace(
            c, name="".join(["ap", "p"]), labels={"a": "1"}, namespaces={"pid": 4026531}
        )

    def json_of(c: ContainerRaw) -> bytes:
        return sample_json(sample(0.0, c))

    given = [made(quiet), made(quiet), made(stalled), made(stalled), made(stalled)]
    out = []
    for t, c in enumerate(given):
        (o,) = tracker.update([c], [], float(t))
        assert json_of(o) == json_of(dataclasses.replace(c, lifecycle=o.lifecycle))
        out.append(o)
    assert out[1] is out[0]  # equal: the same record
    assert out[2] is not out[1] and out[2].cgroup is stalled  # PSI changed: a new record
    assert out[3] is out[2] and out[4] is out[2]
    # The collector's very record again: the record settled from it before.
    (again,) = tracker.update([given[4]], [], 5.0)
    assert again is out[2]
    # A part of another type, however equal, is not taken for the previous one.
    typed = dataclasses.replace(given[4], labels=types.MappingProxyType({"a": "1"}))
    (o,) = tracker.update([typed], [], 6.0)
    assert o is not out[2] and type(o.labels) is types.MappingProxyType
    assert json_of(o) == json_of(dataclasses.replace(typed, lifecycle=o.lifecycle))
    # A label changed: a new record.
    (o,) = tracker.update([dataclasses.replace(typed, labels={"a": "2"})], [], 7.0)
    assert o.labels == {"a": "2"}
