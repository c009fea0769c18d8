"""The UI's pure parts: cell formatting, the throttling sentence, history, sorting, the process
tree, and the screenshot script."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from ctop_py import demo
from ctop_py.model import ContainerView, Limits, Throttling, Usage
from ctop_py.ui import columns as cols
from ctop_py.ui import detail, fmt
from ctop_py.ui.history import Histories, History, Point, container_key
from ctop_py.ui.screens.containers import matches

SNAPSHOTS = demo.snapshots(25)


def view(name: str, index: int = -1) -> ContainerView:
    return next(v for v in SNAPSHOTS[index].containers if v.name == name)


def test_short_sizes_fit_five_characters() -> None:
    assert fmt.short_size(None) == "–"
    assert fmt.short_size(0) == "0B"
    assert fmt.short_size(999) == "999B"
    assert fmt.short_size(1536) == "1.5K"
    assert fmt.short_size(512 * 1024 * 1024) == "512M"
    assert fmt.short_size(1.25 * 2**30) == "1.2G"
    assert all(len(fmt.short_size(2**e)) <= 5 for e in range(60))
    assert fmt.short_limit(None, known=True) == "∞"
    assert fmt.short_limit(None, known=False) == "–"


def test_sparkline_leaves_unknown_values_blank() -> None:
    assert fmt.spark([None, 0.0, 50.0, 100.0], 4, 100.0) == " ▁▅█"
    assert fmt.spark([1.0], 3) == "  █"  # right-aligned: the newest sample is on the right
    assert fmt.spark([], 2) == "  "


def test_throttle_sentence_for_a_throttled_busy_loop() -> None:
    sentence = detail.throttle_sentence(view("spinner"))
    assert sentence.startswith("throttled in 9")
    assert "it used 0.10 of its 0.10 CPU quota" in sentence
    assert "it would need ~1.0 CPU to run unthrottled" in sentence


def test_throttle_sentence_without_a_quota_or_a_cgroup() -> None:
    assert detail.throttle_sentence(view("web")) == "no CPU quota: never throttled"
    assert detail.throttle_sentence(view("bash[7310]")).startswith("no cgroup of its own")


def test_throttle_sentence_is_honest_when_demand_is_unknowable() -> None:
    spinner = view("spinner")
    unknown = replace(spinner, throttling=replace(spinner.throttling, throttled_seconds_per_s=None))
    sentence = detail.throttle_sentence(unknown)
    assert "at least 0.10 CPU" in sentence
    assert "cannot be measured while throttled" in sentence
    first = view("spinner", 0)  # one sample: no rates yet
    assert "known after two samples" in detail.throttle_sentence(first)
    idle = replace(
        spinner,
        usage=replace(spinner.usage, cpu_percent=2.0),
        throttling=Throttling(throttled_percent=0.0, periods_in_window=10),
    )
    assert detail.throttle_sentence(idle) == "not throttled: it used 0.02 of its 0.10 CPU quota"


def test_history_is_bounded_and_sees_oom_kills_rise() -> None:
    histories = Histories(maxlen=10)
    for snapshot in SNAPSHOTS:
        histories.feed(snapshot)
    db = histories.get(container_key(view("db")))
    assert len(db.points) == 10
    assert db.oom_kills_recent() == 1  # demo: the OOM killer strikes db at tick 20
    assert histories.get(container_key(view("cache"))).oom_kills_recent() == 0
    # Before the kill, or with only the kill's own sample in the window: nothing rose.
    early = Histories()
    for snapshot in SNAPSHOTS[:20]:
        early.feed(snapshot)
    assert early.get(container_key(view("db"))).oom_kills_recent() == 0


def test_oom_kills_recent_follows_every_appended_point() -> None:
    """The answer is remembered for the newest and oldest point: asked again after each new
    point (and after old ones fell out of a bounded history, and for another window), it is
    what counting over the points says."""
    from ctop_py.ui.history import History, Point

    def point(t: float, oom: int | None) -> Point:
        return Point(t, 1.0, None, None, None, None, None, None, None, None, None, oom)

    def counted(points: list[Point], window: float) -> int:
        latest = points[-1].oom_kill
        inside = [p.oom_kill for p in points if p.time >= points[-1].time - window]
        base = next((o for o in inside if o is not None), None)
        if latest is None or base is None or latest < base:
            return 0
        return latest - base

    history = History(maxlen=8)
    kills = [0, 0, 1, 1, None, 3, 3, 3, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 5]
    for t, oom in enumerate(kills):
        history.points.append(point(float(t), oom))
        for window in (300.0, 3.0, 3.0, 300.0):
            assert history.oom_kills_recent(window) == counted(list(history.points), window)


def test_history_forgets_vanished_containers_unless_pinned() -> None:
    histories = Histories()
    histories.feed(SNAPSHOTS[0])
    web = container_key(view("web"))
    db = container_key(view("db"))
    histories.pin(db)
    without = replace(
        SNAPSHOTS[1],
        containers=tuple(v for v in SNAPSHOTS[1].containers if v.name not in ("web", "db")),
    )
    histories.feed(without)
    assert web not in histories.by_key
    assert db in histories.by_key


def test_throttled_periods_per_interval() -> None:
    history = History()
    for snapshot in SNAPSHOTS[:4]:
        spinner = next(v for v in snapshot.containers if v.name == "spinner")
        history.points.append(Point.of(spinner, snapshot.time, snapshot.interval_s))
    counts = history.throttled_periods()
    assert counts[0] is None
    assert all(c is not None and 9 <= c <= 10 for c in counts[1:])


def test_sort_order_puts_unknown_values_last_both_ways() -> None:
    snapshot = SNAPSHOTS[-1]
    rows = {container_key(v): cols.RowInput(v, History()) for v in snapshot.containers}
    name = {container_key(v): v.name for v in snapshot.containers}
    down = [name[k] for k in cols.order(rows, cols.BY_KEY["thr"], reverse=False)]
    up = [name[k] for k in cols.order(rows, cols.BY_KEY["thr"], reverse=True)]
    assert down[0] == "spinner"
    assert up[-1] == "web-envoy"  # unknown (no quota), last by name: still last reversed
    assert down.index("web") > down.index("cache") and up.index("web") > up.index("api")
    names = [name[k] for k in cols.order(rows, cols.BY_KEY["name"], reverse=False)]
    assert names == sorted(names, key=str.lower)


def test_filter_matches_name_image_id_and_runtime() -> None:
    api = view("api")
    assert matches(api, "API")
    assert matches(api, "ghcr.io/acme")
    assert matches(api, api.id[:6])
    assert matches(api, "podman")
    assert not matches(api, "postgres")
    assert matches(api, "  ")


def test_process_tree_by_ppid() -> None:
    rows = detail.process_rows(view("db").processes, {999: "postgres"})
    commands = [r.cells[7][0] for r in rows]
    assert commands[0] == "postgres"
    assert commands[1].startswith("├─ postgres: ")
    assert commands[-1].startswith("└─ postgres: shop")
    assert rows[0].cells[1][0] == "1"  # pid inside the container
    assert {r.cells[2][0] for r in rows} == {"postgres"}


def test_cells_mark_danger() -> None:
    histories = Histories()
    for snapshot in SNAPSHOTS:
        histories.feed(snapshot)

    def row(name: str) -> dict[str, tuple[str, str]]:
        v = view(name)
        cells = cols.cells(cols.RowInput(v, histories.get(container_key(v))))
        return {c.key: cell for c, cell in zip(cols.COLUMNS, cells, strict=True)}

    assert row("spinner")["thr"][1] == fmt.DANGER
    assert row("db")["state"] == ("OOM×1", fmt.DANGER)
    assert row("db")["memp"][1] == fmt.DANGER
    assert row("api")["pids"][1] == fmt.DANGER  # 96 of 100
    assert row("cache")["thr"] == ("0.0", "")


def test_quota_free_usage_shows_no_limit() -> None:
    web = view("web")
    unlimited = replace(web, usage=Usage(cpu_percent=3.0))
    assert web.limits == Limits()
    rendered = cols.cells(cols.RowInput(unlimited, History()))
    by_key = {c.key: cell[0] for c, cell in zip(cols.COLUMNS, rendered, strict=True)}
    # A percentage of no limit is none: "–", not "∞" (which read as a figure); the limit
    # itself still says ∞.
    assert by_key["cpuq"] == "–"
    assert by_key["memp"] == "–"
    assert by_key["mem"] == "– / ∞"


def test_state_column_fits_every_docker_state() -> None:
    """ "restarting" (the longest state Docker reports) is not cut to "restarti"."""
    states = ("created", "running", "paused", "restarting", "removing", "exited", "dead")
    by_key = {c.key: c for c in cols.COLUMNS}
    width = by_key["state"].width
    assert width is not None and width >= max(len(s) for s in states)
    for state in states:
        v = replace(view("web"), raw=replace(view("web").raw, state=state))
        cell = by_key["state"].cell(cols.RowInput(v, History()))
        assert cell[0] == state


def test_screenshots_script_writes_svgs(tmp_path: Path) -> None:
    from ctop_py.ui import screenshots

    written = asyncio.run(screenshots.render(tmp_path))
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "containers.svg",
            "container-overview.svg",
            "container-throttling.svg",
            "container-processes.svg",
            "help.svg",
            "namespaces.svg",
            "container-events.svg",
            "events.svg",
        ]
    )
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<svg") and "ctop-py" in text


def test_scrollbar_thumb_is_whole_cells() -> None:
    """The "▆▆" / "▁▁" seen at the right edge of the Throttling and Layers tabs were the
    vertical scrollbar thumb's eighth-cell ends (two cells wide), moving as the content grew:
    the app draws whole-cell thumbs, so no block glyph is ever left at the edge."""
    from textual.scrollbar import ScrollBar

    import ctop_py.ui.app  # noqa: F401  (installs the app's scrollbar renderer)

    blocks = set("▁▂▃▄▅▆▇█▉▊▋▌▍▎▏")
    for position in range(0, 33):
        for vertical in (True, False):
            segments = ScrollBar.renderer.render_bar(
                size=43, virtual_size=76, window_size=43, position=position,
                thickness=2, vertical=vertical,
            )  # fmt: skip
            text = "".join(s.text for s in segments.segments)
            assert not blocks & set(text), (position, vertical, text)
