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


def _oom_truth(points: list[Point], window_s: float) -> int:
    """oom_kills_recent worked out from the points themselves."""
    if not points or points[-1].oom_kill is None:
        return 0
    since = points[-1].time - window_s
    baseline = next(
        (p.oom_kill for p in points if p.time >= since and p.oom_kill is not None), None
    )
    latest = points[-1].oom_kill
    return 0 if baseline is None or latest < baseline else latest - baseline


def test_still_runs_answer_as_a_fresh_computation_and_a_change_shows_at_once() -> None:
    # Long runs of one CPU % (known, unknown) and of one oom_kill counter, broken by changes
    # (a rise, a fall: a re-created cgroup), read every tick or after a few ticks unread.
    cpus = [0.0] * 12 + [None] * 9 + [3.5] + [0.0] * 10 + [float("nan")] * 3 + [0.0] * 4
    ooms = [None] * 5 + [2] * 10 + [3] + [3] * 8 + [0] * 6 + [1] + [1] * 12
    history, points = History(maxlen=7), []
    for t, (cpu, oom) in enumerate(zip(cpus, ooms, strict=False)):
        cpu = None if cpu is not None and cpu != cpu else cpu
        point = Point(float(t), 1.0, cpu, None, None, None, None, None, None, None, None, oom)
        history.append(point)
        points.append(point)
        if t % 5 == 3:
            continue  # unread this tick: the caches must not carry over wrongly
        kept = points[-7:]
        for count in (1, 3, 7, 10):
            assert history.recent_cpu(count) == tuple(p.cpu_percent for p in kept[-count:])
        for window in (2.0, 4.0, 300.0):
            assert history.oom_kills_recent(window) == _oom_truth(kept, window)


def test_the_same_view_again_appends_its_values_with_the_new_time() -> None:
    snapshot = SNAPSHOTS[5]
    view, other = _view(snapshot, "spinner"), _view(SNAPSHOTS[6], "spinner")
    history = History(maxlen=4)
    for t in (1.0, 2.0, 3.0):
        history.append_view(view, t, 1.0 if t > 1 else None)
    history.append_view(other, 4.0, 1.0)  # a changed view shows on the next point
    history.append_view(view, 5.0, 2.0)
    assert list(history.points) == [
        Point.of(view, 2.0, 1.0),
        Point.of(view, 3.0, 1.0),
        Point.of(other, 4.0, 1.0),
        Point.of(view, 5.0, 2.0),
    ]
    assert history.recent_cpu(3) == (view.usage.cpu_percent, other.usage.cpu_percent,
                                     view.usage.cpu_percent)  # fmt: skip


def test_a_point_appended_between_two_of_the_same_view_breaks_its_run() -> None:
    """The same view again takes a shortcut (its values are the newest point's); a point
    appended in between (another source) must end that, or a still run would count a point
    it does not match: the oom_kill rise inside the window would read as none."""
    view = _view(SNAPSHOTS[5], "spinner")
    assert view.raw.cgroup is not None
    events = {**view.raw.cgroup.memory.events, "oom_kill": 7}
    memory = replace(view.raw.cgroup.memory, events=events)
    view = replace(view, raw=replace(view.raw, cgroup=replace(view.raw.cgroup, memory=memory)))
    history, points = History(maxlen=4), []
    for step in range(6):
        history.append_view(view, float(step), 1.0)
        points.append(Point.of(view, float(step), 1.0))
    lower = replace(points[-1], time=6.0, oom_kill=5, cpu_percent=99.0)
    history.append(lower)
    points.append(lower)
    for at in (7.0, 8.0, 9.0):
        history.append_view(view, at, 1.0)
        points.append(Point.of(view, at, 1.0))
        kept = points[-4:]
        assert list(history.points) == kept
        assert history.oom_kills_recent(300.0) == _oom_truth(kept, 300.0)
        assert history.recent_cpu(4) == tuple(p.cpu_percent for p in kept)
    assert _oom_truth(points[-4:], 300.0) == 2


def test_histories_follow_their_containers_when_the_list_changes_order() -> None:
    """Histories finds a view that is the very one of the last snapshot at its place first;
    containers reordered, added and removed must each still feed their own history."""
    base = SNAPSHOTS[8]
    views = {v.name: v for v in base.containers}
    a, b, c = (views[name] for name in ("db", "spinner", "web"))
    orders = [(a, b, c), (a, b, c), (b, a, c), (c, b), (a, c, b), (a, c, b)]
    histories = Histories(maxlen=10)
    fed: dict[str, list[Point]] = {}
    for t, order in enumerate(orders):
        snapshot = replace(base, time=float(t), containers=order)
        histories.feed(snapshot)
        for v in order:
            fed.setdefault(v.name, []).append(Point.of(v, float(t), snapshot.interval_s))
        if a not in order:
            fed.pop(a.name)  # dropped with its history, unless pinned
        for v in order:
            assert list(histories.get(container_key(v)).points) == fed[v.name]
        assert set(histories.by_key) == {container_key(v) for v in order}
