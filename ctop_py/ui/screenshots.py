"""Render SVG screenshots of the app from made-up but realistic Snapshots (ctop_py.demo).

    python -m ctop_py.ui.screenshots DIR

writes containers.svg, container-overview.svg (a database near its memory limit, OOM-killed),
container-events.svg (its Events tab), container-throttling.svg (a `--cpus 0.1` busy loop),
container-processes.svg, help.svg, namespaces.svg and events.svg (the host's events) to DIR,
and replay.svg: the recording shipped in ctop_py/data/demo.rec (real containers), replayed,
and layers-explorer.svg: the explorer over a made-up image whose layers are written to a
temporary directory (a pip cache installed, then deleted in a later layer), and
container-logs.svg (a canned log, no engine read) and actions-menu.svg. Nothing is read
from this host; replay times are shown in UTC and the replay clock is a ManualClock, so every
file is the same from run to run.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import sys
import threading
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from ctop_py import demo
from ctop_py.launch import AppOptions, Recorded
from ctop_py.logs import LogLine
from ctop_py.model import RawSample
from ctop_py.record import read_recording
from ctop_py.ui.app import CtopApp, make_app
from ctop_py.ui.history import container_key
from ctop_py.ui.replay import ManualClock
from ctop_py.ui.screens.container import ContainerScreen
from ctop_py.ui.source import SelfStats, StaticSource, fixed_names, fixed_probe
from ctop_py.ui.widgets.container_table import ContainerTable

SIZE = (160, 44)
USERS = {0: "root", 101: "nginx", 999: "postgres", 1000: "app", 65534: "nobody"}
OWN = SelfStats(cpu_percent=0.9, rss_bytes=54 * 1024 * 1024)
REPLAY_AT_S = 45.0  # where the replay screenshot stops: the histories hold 45 s of the past


def demo_recording() -> tuple[RawSample, ...]:
    """The samples of ctop_py/data/demo.rec (shipped with the package)."""
    resource = importlib.resources.files("ctop_py").joinpath("data", "demo.rec")
    with importlib.resources.as_file(resource) as path:
        return read_recording(path).samples


def demo_app(count: int = 60, show_all: bool = True) -> CtopApp:
    app = make_app(
        StaticSource(demo.snapshots(count)),
        AppOptions(autostart=False, show_all=show_all),
        probe=fixed_probe(OWN),
        users=fixed_names(USERS),
    )
    app.animation_level = "none"  # a tab's underline caught mid-slide differs run to run
    return app


async def fill(app: CtopApp, pilot: Pilot[Any]) -> None:
    """Collect until the static source has nothing new: every demo snapshot applied."""
    while True:
        before = app.generation
        await app.collect().wait()
        await pilot.pause()
        if app.generation == before:
            break


def _key(app: CtopApp, name: str) -> str:
    assert app.snapshot is not None
    return next(container_key(v) for v in app.snapshot.containers if v.name == name)


async def render(out_dir: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    app = demo_app()
    written: list[Path] = []

    def shot(name: str, title: str) -> None:
        path = out_dir / f"{name}.svg"
        path.write_text(app.export_screenshot(title=title), encoding="utf-8")
        written.append(path)

    async with app.run_test(size=size) as pilot:
        await fill(app, pilot)
        shot("containers", "ctop-py — containers")

        app.open_container(_key(app, "db"))
        await pilot.pause()
        shot("container-overview", "ctop-py — db: overview")

        screen = app.screen
        assert isinstance(screen, ContainerScreen)
        screen.action_tab("events")
        await pilot.pause()
        shot("container-events", "ctop-py — db: events")

        await pilot.press("escape")
        app.open_container(_key(app, "spinner"))
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        shot("container-throttling", "ctop-py — spinner: throttling")

        await pilot.press("escape")
        app.open_container(_key(app, "db"))
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        shot("container-processes", "ctop-py — db: processes")

        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        shot("help", "ctop-py — help")

        await pilot.press("escape")
        await pilot.press("n")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        shot("namespaces", "ctop-py — namespaces")

        await pilot.press("escape")
        await pilot.press("E")
        await pilot.pause()
        shot("events", "ctop-py — host events")
    return written


async def render_replay(out_dir: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    """replay.svg: the demo recording played to REPLAY_AT_S, every container shown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = ManualClock()
    app = make_app(
        Recorded(demo_recording(), "demo.rec", clock, UTC),
        AppOptions(autostart=False, show_all=True),
        probe=fixed_probe(OWN),
    )
    app.animation_level = "none"
    player = app.replay
    assert player is not None
    path = out_dir / "replay.svg"
    async with app.run_test(size=size) as pilot:
        # The first frame must be shown before the jump: a slow machine could otherwise let the
        # jump's frame replace it, and the table's columns (which only widen) would differ.
        await app.collect().wait()
        await pilot.pause()
        while app.replay_index != player.index:
            await app.collect().wait()
            await pilot.pause()
        player.jump_to(player.index_near(player.samples[0].time + REPLAY_AT_S))
        while player.pending or app.replay_index != player.index:
            await app.collect().wait()
            await pilot.pause()
        path.write_text(app.export_screenshot(title="ctop-py — replay"), encoding="utf-8")
    return [path]


class _CannedLogs:
    """A made-up nginx log (no engine read): what the Logs tab shows of a busy web server."""

    def __init__(self) -> None:
        from ctop_py.logs import STDERR, STDOUT, LogLine

        lines = []
        for i in range(40):
            clock = f"21:10:{i:02d}"
            second = f"2026-11-29T{clock}.{i * 7919 % 10**9:09d}Z"
            if i % 9 == 4:
                text = f"2026/11/29 {clock} [warn] 29#29: *{i} an upstream response is buffered"
                lines.append(LogLine(STDERR, text, second))
            else:
                path = ("/", "/api/orders", "/static/app.js", "/healthz")[i % 4]
                code = 200 if i % 13 else 502
                request = f'"GET {path} HTTP/1.1" {code} {512 + i * 37} "-" "curl/8.5.0"'
                lines.append(
                    LogLine(STDOUT, f"172.17.0.1 - - [29/Nov/2026:{clock}] {request}", second)
                )
        hostile = '172.17.0.1 - - "GET /[bold red]pwn[/] \x1b]0;owned\x07 HTTP/1.1" 404 0'
        lines.append(LogLine(STDOUT, hostile, "2026-11-29T21:10:40.000000001Z"))
        self.lines = lines
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[LogLine]:
        yield from self.lines
        self.closed.wait(60)  # following: nothing more until the tab closes

    def close(self) -> None:
        self.closed.set()


async def render_acting(out_dir: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    """container-logs.svg (the Logs tab, timestamps on) and actions-menu.svg (x on a row)."""
    from ctop_py.actions import Actions
    from ctop_py.ui.widgets.logs_view import LogsView

    def no_engine() -> object:
        raise RuntimeError("screenshots read no engine")

    out_dir.mkdir(parents=True, exist_ok=True)
    app = make_app(
        StaticSource(demo.snapshots(60)),
        AppOptions(autostart=False, show_all=True),
        probe=fixed_probe(OWN),
        users=fixed_names(USERS),
        acting=Actions(no_engine),
        open_logs=lambda ref, options: _CannedLogs(),
    )
    app.animation_level = "none"
    written = []
    async with app.run_test(size=size) as pilot:
        for _ in range(60):
            await app.collect().wait()
        await pilot.pause()
        app.open_container(_key(app, "web"))
        await pilot.pause()
        await pilot.press("9")
        view = app.screen.query_one(LogsView)
        while len(view.buffer) < 41:
            await pilot.pause(0.05)
            view.drain()
        await pilot.press("T")
        await pilot.pause()
        path = out_dir / "container-logs.svg"
        path.write_text(app.export_screenshot(title="ctop-py — web: logs"), encoding="utf-8")
        written.append(path)
        await pilot.press("escape")
        await pilot.pause()
        app.screen.query_one(ContainerTable).select_key(_key(app, "web"))
        await pilot.press("x")
        await pilot.pause()
        path = out_dir / "actions-menu.svg"
        path.write_text(app.export_screenshot(title="ctop-py — actions"), encoding="utf-8")
        written.append(path)
    return written


EXPLORER_LAYERS: tuple[tuple[str, dict[str, int | str]], ...] = (
    ("Imported from -", {"bin/busybox": 1_015_000, "etc/passwd": 412, "etc/group": 218}),
    (
        "RUN apk add python3",
        {
            "usr/bin/python3.11": 14_216,
            "var/cache/apk/APKINDEX.tar.gz": 1_204_223,
            **{
                f"usr/lib/python3.11/{m}.py": 8_000 + 731 * i
                for i, m in enumerate(("os", "re", "json", "typing", "asyncio", "pathlib"))
            },
        },
    ),
    ("COPY requirements.txt /app/", {"app/requirements.txt": 64}),
    (
        "RUN apk update && pip install -r /app/requirements.txt",
        {
            "var/cache/apk/APKINDEX.tar.gz": 1_250_871,
            **{
                f"usr/lib/python3.11/site-packages/{p}/__init__.py": 4_000 + 997 * i
                for i, p in enumerate(("flask", "jinja2", "werkzeug", "click"))
            },
            "root/.cache/pip/http/wheels.tar": 5_242_880,
            "root/.cache/pip/selfcheck.json": 180,
        },
    ),
    ("RUN rm -rf /root/.cache/pip", {"root/.cache/pip": "whiteout"}),
    ("COPY . /app", {"app/main.py": 1_830, "app/requirements.txt": 64}),
)


def _write_layers(top: Path) -> tuple[Path, ...]:
    import os
    import stat

    dirs = []
    for i, (_, files) in enumerate(EXPLORER_LAYERS):
        layer = top / f"layer{i}"
        layer.mkdir(parents=True)
        for rel, what in files.items():
            path = layer / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if what == "whiteout":
                os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(0, 0))
            else:
                path.write_bytes(b"\0" * int(what))
        dirs.append(layer)
    return tuple(dirs)


async def render_explorer(out_dir: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    """layers-explorer.svg: layer 4 (the pip cache deleted) of a made-up Python image."""
    import tempfile

    from textual.app import App
    from textual.worker import WorkerState

    from ctop_py.host import HostRoot
    from ctop_py.layers.explore import ExploreSource
    from ctop_py.layers.image import LayerChain
    from ctop_py.layers.stack import Layer, LayerRole
    from ctop_py.ui.screens.layers import ImageLayersScreen
    from ctop_py.ui.widgets.layer_explorer import LayerExplorer

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "layers-explorer.svg"
    with tempfile.TemporaryDirectory(prefix="ctop-shot-") as tmp:
        dirs = _write_layers(Path(tmp))
        layers = tuple(
            Layer(LayerRole.LOWER, i + 1, str(d), str(d), True, True,
                  diff_id="sha256:" + f"{i:x}" * 64, size=sum(
                      int(v) for v in EXPLORER_LAYERS[i][1].values() if v != "whiteout"),
                  instruction=EXPLORER_LAYERS[i][0])
            for i, d in enumerate(dirs)
        )  # fmt: skip
        chain = LayerChain("shop/web:1.4", "sha256:" + "5e" * 32, None, layers)

        class Fixed(ExploreSource):
            def image_chain(self, ref: str) -> LayerChain:
                return chain

        class Shot(App[None]):
            def on_mount(self) -> None:
                self.push_screen(ImageLayersScreen(Fixed(HostRoot()), "shop/web:1.4"))

        app = Shot()
        app.animation_level = "none"

        async def settle() -> None:
            for _ in range(400):
                await pilot.pause(0.02)
                if not [w for w in app.workers
                        if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]:  # fmt: skip
                    break
            await pilot.pause()

        async with app.run_test(size=size) as pilot:
            await settle()
            explorer = app.screen.query_one(LayerExplorer)
            await pilot.press("left_square_bracket")
            await settle()
            tree = explorer.query_one("#lx-files")
            pending = list(tree.root.children)  # type: ignore[attr-defined]
            while pending:
                node = pending.pop(0)
                if node.allow_expand and not node.is_expanded:
                    node.expand()
                    await settle()
                    pending[:0] = list(node.children)
                if node.data is not None and node.data.name == "wheels.tar":
                    tree.move_cursor(node)  # type: ignore[attr-defined]
                    tree.focus()
                    await settle()
            path.write_text(app.export_screenshot(title="ctop-py — layers"), encoding="utf-8")
    return [path]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m ctop_py.ui.screenshots DIR\n")
        return 2

    async def both() -> list[Path]:
        out = Path(args[0])
        return [
            *await render(out),
            *await render_replay(out),
            *await render_explorer(out),
            *await render_acting(out),
        ]

    for path in asyncio.run(both()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
