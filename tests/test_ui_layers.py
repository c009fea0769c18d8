"""The layers explorer widget under Pilot, over layer directories built in tmp_path."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, Tree
from textual.worker import WorkerState

from ctop_py.host import HostRoot
from ctop_py.layers.explore import ExploreSource
from ctop_py.layers.image import LayerChain
from ctop_py.ui.widgets.layer_explorer import LayerExplorer
from tests.test_layers_support import OPAQUE, WHITEOUT
from tests.test_layers_tree import chain_of


class Harness(App[None]):
    def __init__(self, chain: LayerChain) -> None:
        super().__init__()
        self.chain = chain

    def compose(self) -> ComposeResult:
        yield LayerExplorer(ExploreSource(HostRoot()), "placeholder", id="lx")

    def on_mount(self) -> None:
        explorer = self.query_one(LayerExplorer)
        explorer.open("k", lambda: self.chain)
        explorer.query_one("#lx-files", Tree).focus()


def labels(app: App[None]) -> list[str]:
    tree = app.query_one("#lx-files", Tree)
    out = []

    def visit(node: object, depth: int) -> None:
        for child in getattr(node, "children", []):
            label = child.label
            out.append("  " * depth + (label.plain if isinstance(label, Text) else str(label)))
            if child.is_expanded:
                visit(child, depth + 1)

    visit(tree.root, 0)
    return out


def text_of(app: App[None], selector: str) -> str:
    content = app.screen.query_one(selector, Static).render()
    return content.plain if isinstance(content, Text) else str(content)


async def settle(pilot: Pilot[Any]) -> None:
    """Until no worker runs and the messages they posted are handled."""
    for _ in range(400):
        busy = [
            w for w in pilot.app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        await pilot.pause(0.02)
        if not busy:
            break
    await pilot.pause()


def layers_for(tmp: Path) -> LayerChain:
    return chain_of(
        tmp,
        [
            {"d/a": b"a" * 1000, "d/s/b": b"b" * 200, "f": b"f" * 50, "o/old": b"o" * 70},
            {"d": WHITEOUT, "f": WHITEOUT, "o": OPAQUE, "o/new": b"n" * 5},
            {"f": b"g" * 7, "big": b"x" * 3000, "o/new": b"m" * 6},
        ],
    )


def test_explorer_layers_tree_marks_and_modes(tmp_path: Path) -> None:
    asyncio.run(_explorer(tmp_path))


async def _explorer(tmp_path: Path) -> None:
    chain = layers_for(tmp_path)
    app = Harness(chain)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        explorer = app.query_one(LayerExplorer)
        table = app.query_one("#lx-layers", DataTable)
        assert table.row_count == 3 and explorer.selected == 2
        # the top layer: added big, f; o is modified (o/new replaced)
        assert [line.split()[0] for line in labels(app)] == ["+", "+", "~"]
        assert [line.split()[-1] for line in labels(app)] == ["big", "f", "o/"]
        assert "efficiency" in text_of(app, "#lx-eff")
        assert "wasted" in text_of(app, "#lx-eff") and "/f" in text_of(app, "#lx-eff")

        # the layer below: the removed directory shows the bytes it removes; fold with enter
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert explorer.selected == 1
        lines = labels(app)
        assert lines[0].startswith("-") and "1.2 KiB" in lines[0] and lines[0].endswith("d/")
        tree = app.query_one("#lx-files", Tree)
        tree.move_cursor(tree.root.children[0])
        await pilot.press("space")
        await settle(pilot)
        assert [line.strip().split()[-1] for line in labels(app)[1:3]] == ["a", "s/"]
        assert "from layer" in text_of(app, "#lx-prov") or "not in the view" in text_of(
            app, "#lx-prov"
        )

        # merged view up to layer 1: o/ holds only new; d and f are gone (shown removed)
        await pilot.press("m")
        await settle(pilot)
        assert explorer.merged
        names = {line.split()[-1 if "opaque" not in line else -2]: line.split()[0]
                 for line in labels(app)}  # fmt: skip
        assert names == {"d/": "-", "f": "-", "o/": "~"}
        assert "(opaque)" in labels(app)[2]
        await pilot.press("c")  # changes only: unchanged entries hidden (none here)
        await settle(pilot)
        assert explorer.changes_only

        # sort by size on the top layer's merged view: big first
        await pilot.press("c", "right_square_bracket", "s")
        await settle(pilot)
        assert explorer.selected == 2 and explorer.by_size
        assert labels(app)[0].split()[-1] == "big"

        # filter by path
        await pilot.press("slash")
        await pilot.press(*"new", "enter")
        await settle(pilot)
        assert explorer.filter_text == "new"
        assert [line.strip().split()[3] for line in labels(app)] == ["o/", "new"]
        tree.move_cursor(tree.root.children[0].children[0])
        await settle(pilot)
        prov = text_of(app, "#lx-prov")
        assert prov.startswith("/o/new: file from layer 2") and "shadows layers 1" in prov


def test_untrusted_names_stay_literal(tmp_path: Path) -> None:
    asyncio.run(_untrusted(tmp_path))


async def _untrusted(tmp_path: Path) -> None:
    chain = chain_of(tmp_path, [{"[bold]x[red]\x1b[2J": b"1"}])
    app = Harness(chain)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        (line,) = labels(app)
        assert "[bold]x[red]\\x1b[2J" in line and "\x1b" not in line


def test_palette_opens_an_image_and_help_lists_the_keys(tmp_path: Path) -> None:
    from ctop_py.ui.commands import CtopCommands
    from ctop_py.ui.screens.help import HelpScreen
    from ctop_py.ui.screens.layers import ImageLayersScreen
    from tests.test_layers_support import build_docker_root
    from tests.test_ui import SNAPSHOTS, _help_lines, drive, make_app, step

    fake = build_docker_root(tmp_path, [{"a": b"1"}, {"a": b"22", "b/c": b"333"}])
    repos = tmp_path / "var/lib/docker/image/overlay2/repositories.json"
    repos.write_text(json.dumps({"Repositories": {"shop/web": {"shop/web:1": fake.image_id}}}))
    app = make_app(SNAPSHOTS)
    app.explore = ExploreSource(fake.root)

    async def scenario(app: Any, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        provider = CtopCommands(app.screen)
        await provider.startup()
        hits = [h async for h in provider.search("layers of image shop/web:1")]
        max(hits, key=lambda h: h.score).command()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImageLayersScreen) and screen.ref == "shop/web:1"
        explorer = screen.query_one(LayerExplorer)
        assert explorer.chain is not None and explorer.chain.image_id == fake.image_id
        assert explorer.selected == 1
        tree = explorer.query_one("#lx-files", Tree)
        assert [(n.data.name, n.data.mark.value) for n in tree.root.children if n.data] == [
            ("a", "modified"),
            ("b", "added"),
        ]
        assert "wasted 3 B" in text_of(app, "#lx-eff")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = "\n".join(_help_lines(app))
        assert "layers explorer" in help_text
        for needle in ("Merged/layer", "Changes only", "Sort by size", "Filter", "Image layers"):
            assert needle in help_text, needle
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, ImageLayersScreen)

    drive(app, scenario)
