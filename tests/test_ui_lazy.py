"""The live app imports what a screen needs when that screen is first opened: on the containers
list (all that most runs show) none of the container screen, the layers explorer, the loaders'
network and py-spy modules or the Logs tab is in memory (issue 16: they are ~2 MiB of heap at
start); opening a container brings them in, and its screen, the layers explorer and the Logs
tab (the engine's stream) work."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO, SLEEP, RunContainer

pytestmark = pytest.mark.docker

# Imported only by the container screen, its tabs and their loaders.
LAZY = (
    "ctop_py.ui.screens.container",
    "ctop_py.ui.widgets.layer_explorer",
    "ctop_py.ui.widgets.logs_view",
    "ctop_py.logs",
    "ctop_py.ui.widgets.detail_pane",
    "ctop_py.layers",
    "ctop_py.layers.explore",
    "ctop_py.present.layers",
    "ctop_py.present.net",
    "ctop_py.present.stacks",
    "ctop_py.net",
    "ctop_py.stacks",
)

# The app as `ctop-py` makes it over this host (make_app over a LiveSource), in a fresh process:
# the test process has imported everything already.
SCRIPT = """
import asyncio, json, sys
from ctop_py.host import HostRoot
from ctop_py.launch import AppOptions
from ctop_py.sources import LiveSource
from ctop_py.ui.app import make_app
from ctop_py.ui.history import container_key

LAZY, NAME, MARK = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]


def loaded():
    return [m for m in LAZY if m in sys.modules]


async def main():
    source = LiveSource(HostRoot())
    app = make_app(source, AppOptions(autostart=False))
    out = {}
    async with app.run_test(size=(160, 40)) as pilot:
        for _ in range(2):
            await app.collect().wait()
            await pilot.pause()
        out["rows"] = len(app.snapshot.containers)
        out["list"] = loaded()
        out["list_screen"] = type(app.screen).__name__
        key = next(container_key(v) for v in app.snapshot.containers if v.name == NAME)
        app.open_container(key)
        await pilot.pause()
        await pilot.press("5")  # the Layers tab: the explorer over this container's layers
        await app.workers.wait_for_complete()
        await pilot.pause()
        out["screen"] = type(app.screen).__name__
        out["explore"] = type(app.explore).__name__
        out["opened"] = loaded()
        await pilot.press("9")  # the Logs tab: the engine's log stream of this container
        from ctop_py.ui.widgets.logs_view import LogsView

        view = app.screen.query_one(LogsView)
        deadline = asyncio.get_running_loop().time() + 20
        while not any(MARK in line for line in view.lines_log.plain_lines()):
            assert asyncio.get_running_loop().time() < deadline, view.lines_log.plain_lines()
            view.drain()
            await pilot.pause(0.1)
        out["logs"] = [line for line in view.lines_log.plain_lines() if MARK in line]
    source.close()
    print(json.dumps(out))


asyncio.run(main())
"""


def test_container_screen_is_imported_when_first_opened(run_container: RunContainer) -> None:
    mark = "ctop-lazy-log-line"
    ctr: Any = run_container(command=["sh", "-c", f"echo {mark}; exec {' '.join(SLEEP)}"])
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(LAZY), ctr.name, mark],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["rows"] >= 1 and seen["list_screen"] == "ContainersScreen"
    assert seen["list"] == []  # the list: none of them
    assert seen["screen"] == "ContainerScreen" and seen["explore"] == "ExploreSource"
    # The screen and its Layers tab brought in what they use (the network and py-spy loaders
    # run only when their tabs are shown).
    opened = set(seen["opened"])
    assert {
        "ctop_py.ui.screens.container",
        "ctop_py.ui.widgets.layer_explorer",
        "ctop_py.layers.explore",
    } <= opened
    # The Logs tab's stream, opened through the engine on first use, shows what it printed.
    assert [mark in line for line in seen["logs"]] == [True]
