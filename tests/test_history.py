"""The per-container histories keep, in their columns, exactly the newest points: the values
read back are the snapshots' own (unknowns stay None), in order, across the ring's wrap."""

from __future__ import annotations

from dataclasses import replace

from ctop_py import demo
from ctop_py.model import ContainerView, Snapshot
from ctop_py.ui.history import FIELDS, INT_NONE, Histories, History, Point, container_key

SNAPSHOTS = demo.snapshots(40)


def _expected(name: str, snapshots: list[Snapshot]) -> list[Point]:
    """What the snapshots themselves say about `name`, one Point a snapshot (ground truth:
    read from each ContainerView, not from a History)."""
    out = []
    for snapshot in snapshots:
        view = next((v for v in snapshot.containers if v.name == name), None)
        if view is not None:
            out.append(Point.of(view, snapshot.time, snapshot.interval_s))
    return out


def test_history_keeps_the_newest_points_in_order_across_the_wrap() -> None:
    for maxlen in (1, 7, 16, 300):
        histories = Histories(maxlen=maxlen)
        for count, snapshot in enumerate(SNAPSHOTS, 1):
            histories.feed(snapshot)
            for name in ("db", "spinner", "web"):
                want = _expected(name, SNAPSHOTS[:count])[-maxlen:]
                history = histories.get(container_key(_view(snapshot, name)))
                assert list(history.points) == want
                assert len(history.points) == len(want)
                assert history.points[-1] == want[-1] and history.points[0] == want[0]
                assert history.cpu() == [p.cpu_percent for p in want]
                assert history.recent_cpu(5) == tuple(p.cpu_percent for p in want[-5:])
                assert history.throttled() == [p.throttled_percent for p in want]
                assert history.cpu_of_quota() == [p.cpu_percent_of_quota for p in want]
                assert history.memory() == [
                    None if p.memory_used_bytes is None else float(p.memory_used_bytes)
                    for p in want
                ]
                for field in FIELDS:
                    assert history.column(field) == [getattr(p, field) for p in want]


def _view(snapshot: Snapshot, name: str) -> ContainerView:
    return next(v for v in snapshot.containers if v.name == name)


def test_unknown_values_read_back_as_none_not_as_zero() -> None:
    history = History(maxlen=3)
    unknown = Point(5.0, None, None, None, None, None, None, None, None, None, None, None)
    known = Point(6.0, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0, 0, 0, 0.0, 0)
    history.points.append(unknown)
    history.points.append(known)
    assert list(history.points) == [unknown, known]
    assert history.cpu() == [None, 0.0]
    assert history.throttled_periods() == [None, None]
    # A counter too large for the column (a corrupt cgroup file) is unknown, not a crash.
    huge = replace(known, time=7.0, nr_throttled=1 << 70, memory_used_bytes=-(1 << 64))
    history.points.append(huge)
    assert history.points[-1] == replace(huge, nr_throttled=None, memory_used_bytes=None)
    assert INT_NONE not in history.column("nr_throttled")


def test_a_slice_of_points_is_the_same_as_the_list() -> None:
    history = History(maxlen=5)
    for snapshot in SNAPSHOTS[:9]:
        history.append_view(_view(snapshot, "db"), snapshot.time, snapshot.interval_s)
    points = list(history.points)
    assert history.points[1:4] == points[1:4]
    assert history.points[::-1] == points[::-1]
    assert history.appended == 9 and len(points) == 5


def test_an_empty_history_reads_as_empty() -> None:
    empty = Histories().get("docker:nothing-here")
    assert (len(empty), list(empty.points), empty.cpu(), empty.memory()) == (0, [], [], [])
    assert empty.recent_cpu(5) == () and empty.oom_kills_recent() == 0
    assert empty.throttled_periods() == []


def test_points_read_now_and_then_are_always_the_newest() -> None:
    """The Points kept for a history that is read every tick follow every append; left
    unread they are dropped and built again when read: the same points either way."""
    history = History(maxlen=7)
    fed: list[Snapshot] = []
    for i, snapshot in enumerate(SNAPSHOTS):
        history.append_view(_view(snapshot, "spinner"), snapshot.time, snapshot.interval_s)
        fed.append(snapshot)
        if i % 11 < 4 or i % 11 == 9:  # read for a while, then not for longer than kept
            want = _expected("spinner", fed)[-7:]
            assert list(history.points) == want
            assert history.points[-1] == want[-1] and history.points[2:5] == want[2:5]
