"""The app over the live host: real containers, the real collector, the real loaders."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from ctop_py.host import HostRoot
from ctop_py.sources import LiveSource
from ctop_py.ui.app import CtopApp, make_app
from ctop_py.ui.source import SelfStats, fixed_probe
from ctop_py.ui.widgets.container_table import ContainerTable
from ctop_py.ui.widgets.detail_pane import DetailPane
from tests.conftest import LAYERED_IMAGE, SLEEP, RunContainer
from tests.test_stacks_live import spinner  # noqa: F401 - a fixture
from tests.test_ui import TEST_OPTIONS, drive, key_of, step

pytestmark = pytest.mark.docker


def pane_text(app: CtopApp, tab: str) -> str:
    content = app.screen.query_one(f"#pane-{tab}", DetailPane).query_one(Static).content
    return content.plain if isinstance(content, Text) else str(content)


def test_live_app_container_screen(run_container: RunContainer, docker_client: Any) -> None:
    ctr = run_container(LAYERED_IMAGE, SLEEP, nano_cpus=100_000_000, mem_limit="48m")
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
        await pilot.press("5")  # Layers
        await app.workers.wait_for_complete()
        await pilot.pause()
        layers = pane_text(app, "layers")
        assert "container layer" in layers and "RUN mkdir /app" in layers
        assert "/app/hello.txt" in layers  # the change made by exec
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
