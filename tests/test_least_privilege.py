"""As a non-root user: every command runs or fails in one line, shows what it can (cgroup
files are world-readable), and says plainly what needs root."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from typing import Any

import pytest

from tests.conftest import BASE_IMAGE, REPO, SPIN, RunContainer

pytestmark = pytest.mark.docker
NOBODY = 65534


@functools.cache
def nobody_python() -> list[str] | None:
    """A command line that runs this project's code as nobody, or None."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    env_path = f"{REPO}:{sysconfig.get_paths()['purelib']}:{sysconfig.get_paths()['platlib']}"
    for python in (os.path.realpath(sys.executable), "/usr/bin/python3"):
        command = [
            "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            "env", "HOME=/tmp", f"PYTHONPATH={env_path}", "PYTHONDONTWRITEBYTECODE=1", python,
        ]  # fmt: skip
        probe = subprocess.run([*command, "-c", "import ctop_py.cli"], capture_output=True)
        if probe.returncode == 0:
            return command
    return None


def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    command = nobody_python()
    if command is None:
        pytest.skip("no interpreter this project runs under as nobody (needs root and setpriv)")
    return subprocess.run(
        [*command, "-m", "ctop_py", *args], capture_output=True, text=True, timeout=120, cwd="/"
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr


def test_unprivileged_user(run_container: RunContainer, docker_client: Any) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, pids_limit=33)
    snap = as_nobody("snapshot", "--json", "--interval", "0.5")
    no_traceback(snap)
    assert snap.returncode == 0, snap.stderr
    data = json.loads(snap.stdout)
    found = {c["id"]: c for c in data["containers"]}[ctr.id]
    # The kernel's cgroup files are world-readable: limits and usage are all there.
    assert found["limits"]["cpu_quota_cores"] == pytest.approx(0.1)
    assert found["limits"]["pids_max"] == 33
    assert found["throttling"]["throttled_percent"] > 0
    assert found["name"] == ctr.id[:12]  # the socket is root's: ids, not names
    assert "needs root or the docker group" in data["engines"]["docker"]
    assert any("needs root" in n for n in data["notes"])

    table = as_nobody("snapshot", "--interval", "0.2")
    no_traceback(table)
    assert table.returncode == 0 and ctr.id[:12] in table.stdout
    assert "needs root or the docker group" in table.stderr
    assert "namespaces of other users' processes: permission denied (needs root)" in table.stderr

    ns = as_nobody("ns")
    no_traceback(ns)
    assert ns.returncode == 0 and "need root" in ns.stderr

    for command in (["layers", ctr.id[:12]], ["layers", ctr.id[:12], "--changes"],
                    ["net", ctr.id[:12]], ["stacks", ctr.id[:12]],
                    ["layers", ctr.name]):  # fmt: skip
        result = as_nobody(*command)
        no_traceback(result)
        if result.returncode == 0:
            assert "needs root" in result.stdout + result.stderr, command
        else:
            assert result.returncode == 2, (command, result.stderr)
            assert len(result.stderr.strip().splitlines()) == 1, (command, result.stderr)
    unknown = as_nobody("layers", ctr.name)
    assert "names are unknown" in unknown.stderr and "docker group" in unknown.stderr


def test_never_writes_under_proc_sys_or_runtime_state(run_container: RunContainer) -> None:
    """Read-only by default: run the commands under strace and look for any write-open."""
    if shutil.which("strace") is None:
        pytest.skip("strace not installed")
    ctr = run_container(BASE_IMAGE, SPIN)
    for command in (["snapshot", "--interval", "0.2"], ["layers", ctr.name], ["ns"]):
        trace = subprocess.run(
            [
                "strace",
                "-f",
                "-qq",
                "-e",
                "trace=open,openat,creat,unlink,unlinkat,rename,"
                "renameat,renameat2,mkdir,mkdirat,rmdir,truncate,ftruncate",
                sys.executable,
                "-m",
                "ctop_py",
                *command,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert trace.returncode == 0, trace.stderr[-2000:]
        for line in trace.stderr.splitlines():
            if not any(p in line for p in ('"/proc', '"/sys', '"/var/lib/docker', '"/run')):
                continue
            writes = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "unlink", "rename", "mkdir")
            assert not any(w in line for w in writes), line


APP_AS_NOBODY = """
import asyncio, sys
from rich.text import Text
from textual.widgets import Static
from ctop_py.host import HostRoot
from ctop_py.sources import LiveSource
from ctop_py.launch import AppOptions
from ctop_py.ui.app import make_app
from ctop_py.ui.history import container_key
from ctop_py.ui.widgets.detail_pane import DetailPane

async def main() -> None:
    source = LiveSource(HostRoot())
    app = make_app(source, AppOptions(autostart=False))
    async with app.run_test(size=(200, 50)) as pilot:
        for _ in range(2):
            await app.collect().wait()
            await pilot.pause()
        header = app.screen.query_one("HostHeader", Static).content
        print("HEADER", header.plain if isinstance(header, Text) else header)
        view = next(v for v in app.snapshot.containers if v.id == sys.argv[1])
        print("ROW", view.name, view.limits.pids_max)
        app.open_container(container_key(view))
        await pilot.pause()
        await pilot.press("5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = app.screen.query_one("#pane-layers", DetailPane).query_one(Static).content
        print("LAYERS", pane.plain if isinstance(pane, Text) else pane)
    source.close()

asyncio.run(main())
"""


def test_the_app_as_nobody(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, pids_limit=21)
    command = nobody_python()
    if command is None:
        pytest.skip("no interpreter this project runs under as nobody (needs root and setpriv)")
    result = subprocess.run(
        [*command, "-c", APP_AS_NOBODY, ctr.id],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"ROW {ctr.id[:12]} 21" in out  # cgroup limits, by id (names need the socket)
    assert "docker group" in out.split("ROW")[0]  # the header says why there are no names
    assert "needs root" in out.split("LAYERS", 1)[1]
