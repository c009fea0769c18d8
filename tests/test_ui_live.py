"""The app over the live host: real containers, the real collector, the real loaders."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, Tree

from ctop_py.host import HostRoot
from ctop_py.layers.tree import Mark
from ctop_py.sources import LiveSource
from ctop_py.ui.app import CtopApp, make_app
from ctop_py.ui.screens.layers import ImageLayersScreen
from ctop_py.ui.source import SelfStats, fixed_probe
from ctop_py.ui.widgets.container_table import ContainerTable
from ctop_py.ui.widgets.detail_pane import DetailPane
from ctop_py.ui.widgets.layer_explorer import LayerExplorer
from tests.conftest import LAYERED_IMAGE, SLEEP, RunContainer
from tests.test_stacks_live import spinner  # noqa: F401 - a fixture
from tests.test_ui import TEST_OPTIONS, drive, key_of, step
from tests.test_ui_layers import settle

pytestmark = pytest.mark.docker


def pane_text(app: CtopApp, tab: str) -> str:
    content = app.screen.query_one(f"#pane-{tab}", DetailPane).query_one(Static).content
    return content.plain if isinstance(content, Text) else str(content)


def _rows(explorer: LayerExplorer) -> list[list[object]]:
    table = explorer.query_one("#lx-layers", DataTable)
    return [table.get_row_at(i) for i in range(table.row_count)]


def test_live_app_container_screen(run_container: RunContainer, docker_client: Any) -> None:
    ctr = run_container(
        LAYERED_IMAGE, SLEEP, nano_cpus=100_000_000, mem_limit="48m", tmpfs={"/scratch": ""}
    )
    ctr.exec_run(["sh", "-c", "echo changed >> /app/hello.txt"])
    root = HostRoot()
    source = LiveSource(root)
    app = make_app(source, TEST_OPTIONS, probe=fixed_probe(SelfStats(1.0, 1 << 20)))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        rows = app.screen.query_one(ContainerTable)
        key = key_of(app, ctr.name)
        assert key in [str(r.key.value) for r in rows.ordered_rows]
        assert source.detail == frozenset()  # no per-process reads for the table
        app.open_container(key)
        await pilot.pause()
        assert source.detail == frozenset({ctr.id})  # the open container's processes only
        await step(app, pilot)
        await pilot.press("5")  # Layers: the explorer, the container layer selected
        await settle(pilot)
        explorer = app.screen.query_one("#pane-layers", LayerExplorer)
        assert explorer.chain is not None and explorer.selected == explorer.chain.top == 5
        made_by = [str(row[3]) for row in _rows(explorer)]
        assert made_by[0] == "Imported from -" and made_by[-1] == "container layer (rw)"
        assert "RUN mkdir /app && echo hello > /app/hello.txt" in made_by
        tree = explorer.query_one("#lx-files", Tree)
        (app_dir,) = [n for n in tree.root.children if n.data and n.data.name == "app"]
        assert app_dir.data is not None and app_dir.data.mark is Mark.MODIFIED
        app_dir.expand()
        await settle(pilot)
        changed = [n.data for n in app_dir.children if n.data is not None]
        assert [(n.name, n.mark) for n in changed] == [("hello.txt", Mark.MODIFIED)]
        mounts = explorer.query_one("#lx-mounts", Static).render()
        mounts_text = mounts.plain if isinstance(mounts, Text) else str(mounts)
        assert "/scratch  tmpfs rw" in mounts_text
        hosts = f"/etc/hosts  bind rw  /var/lib/docker/containers/{ctr.id}/hosts"
        assert hosts in mounts_text
        await pilot.press("m")  # the tree has the focus: the explorer's keys work at once
        await settle(pilot)
        assert explorer.merged and "bin" in [n.data.name for n in tree.root.children if n.data]
        await pilot.press("i")  # the image's layers, from the image store
        await settle(pilot)
        assert isinstance(app.screen, ImageLayersScreen)
        image = app.screen.query_one(LayerExplorer)
        assert image.chain is not None and image.chain.image_id == ctr.attrs["Image"]
        assert [str(row[3]) for row in _rows(image)] == made_by[:4]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("6")  # Network
        await app.workers.wait_for_complete()
        await pilot.pause()
        network = pane_text(app, "network")
        assert "eth0" in network and "docker0" in network
        await pilot.press("7")  # Stacks: busybox has no Python
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no Python process" in pane_text(app, "stacks")
        await pilot.press("escape")
        await pilot.pause()
        assert source.detail == frozenset()

    try:
        drive(app, scenario)
    finally:
        source.close()


def test_stacks_of_a_selected_process(spinner: Any) -> None:  # noqa: F811 - the fixture
    """Processes tab, `t` on the Python process: its stacks in the Stacks tab."""
    root = HostRoot()
    source = LiveSource(root)
    app = make_app(source, TEST_OPTIONS, probe=fixed_probe(SelfStats(1.0, 1 << 20)))

    async def scenario(app: CtopApp, pilot: Pilot[int]) -> None:
        await step(app, pilot, 2)
        app.open_container(key_of(app, spinner.name))
        await pilot.pause()
        await step(app, pilot)
        await pilot.press("3")  # Processes
        await pilot.pause()
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.stack_targets[key_of(app, spinner.name)] == spinner.attrs["State"]["Pid"]
        text = pane_text(app, "stacks")
        assert "ctop_test_hot_loop" in text and "ctop_test_idle_waiter" in text

    try:
        drive(app, scenario)
    finally:
        source.close()
