"""With dockerd stopped, ctop-py still maps every layer and lists every container: it reads
the kernel and Docker's files, not the daemon. The daemon is restarted afterwards.

Needs a daemon with live-restore (scripts/ensure-docker.sh starts it so), or stopping it
would stop the containers too."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LAYERED_IMAGE, SLEEP, RunContainer

pytestmark = pytest.mark.docker


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctop_py", *args], capture_output=True, text=True, timeout=120
    )


def dockerd_pid() -> int:
    found = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    assert len(pids) == 1, f"expected one dockerd, found {pids}"
    return pids[0]


def systemd_managed(pid: int) -> bool:
    """dockerd runs as systemd's docker.service (a stock install), not started by hand: killing it
    would not stop it (Restart=always, and docker.socket starts it on the next API call)."""
    if shutil.which("systemctl") is None:
        return False
    cgroups = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    return any(line.endswith("/docker.service") for line in cgroups)


def test_layers_and_containers_with_the_daemon_stopped(
    run_container: RunContainer, docker_client: Any
) -> None:
    if not docker_client.info().get("LiveRestoreEnabled"):
        message = "dockerd runs without --live-restore: stopping it would stop the containers"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    ctr = run_container(LAYERED_IMAGE, SLEEP, nano_cpus=200_000_000)
    ctr.exec_run(["sh", "-c", "echo x >> /app/hello.txt; rm /app/blob; mkdir /opt/new"])
    expected_diff = {(c["Path"], c["Kind"]) for c in docker_client.api.diff(ctr.id)}
    graph = docker_client.api.inspect_container(ctr.id)["GraphDriver"]["Data"]

    pid = dockerd_pid()
    command = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    managed = systemd_managed(pid)
    if managed:
        subprocess.run(["systemctl", "stop", "docker.socket", "docker.service"], check=True)
    else:
        os.kill(pid, signal.SIGTERM)
    try:
        deadline = time.monotonic() + 60
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not os.path.exists(f"/proc/{pid}"), "dockerd did not stop"

        layers = cli("layers", ctr.name, "--json")  # the name comes from Docker's files
        assert layers.returncode == 0, layers.stderr
        data = json.loads(layers.stdout)
        kinds = {"modified": 0, "added": 1, "deleted": 2}
        assert {(c["path"], kinds[c["kind"]]) for c in data["upper"]["changes"]} == expected_diff
        assert data["upper"]["path"] == graph["UpperDir"]
        assert [x["path"] for x in reversed(data["lowers"])] == graph["LowerDir"].split(":")[1:]
        assert all(x["created_by"] is not None for x in data["lowers"][1:])

        snap = cli("snapshot", "--json", "--interval", "0.5", ctr.name)
        assert snap.returncode == 0, snap.stderr
        snapshot = json.loads(snap.stdout)
        assert snapshot["engines"]["docker"].startswith("unreachable")
        (found,) = snapshot["containers"]
        assert found["limits"]["cpu_quota_cores"] == pytest.approx(0.2)
    finally:
        if managed:
            subprocess.run(["systemctl", "start", "docker.socket", "docker.service"], check=True)
        else:
            with open("/var/log/ctop-py-dockerd.log", "ab") as log:
                subprocess.Popen(
                    [c.decode() for c in command],
                    stdout=log,
                    stderr=log,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                docker_client.ping()
                break
            except Exception:
                time.sleep(0.5)
        docker_client.ping()
