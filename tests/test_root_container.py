"""`--root /host`: ctop-py inside a container, with the host's /proc, /sys and /var/lib/docker
mounted read-only under /host (and --pid=host), finds the host's containers.

No registry is reachable, so the container is busybox with this host's Python, the project
and its venv bind-mounted read-only (the shipped Dockerfile is the way for real hosts)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_IMAGE, REPO, SPIN, RunContainer

pytestmark = pytest.mark.docker


def ro(path: str | Path, target: str | Path | None = None) -> tuple[str, dict[str, str]]:
    return str(path), {"bind": str(target or path), "mode": "ro"}


def test_root_host_from_a_container(run_container: RunContainer, docker_client: Any) -> None:
    target = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, pids_limit=42)
    python = Path(sys.executable)  # the venv's python: its site-packages has the dependencies
    mounts = dict(
        [
            ro("/usr"),
            ro("/lib"),
            ro("/lib64"),
            ro(sys.base_prefix),
            ro(sys.prefix),  # the venv, wherever it lives
            ro(REPO),
            ro("/proc", "/host/proc"),
            ro("/sys", "/host/sys"),
            ro("/var/lib/docker", "/host/var/lib/docker"),
        ]
    )
    command = [str(python), "-m", "ctop_py", "--root", "/host", "snapshot", "--json",
               "--interval", "0.5"]  # fmt: skip
    reader = run_container(
        BASE_IMAGE,
        command,
        volumes=mounts,
        pid_mode="host",
        working_dir=str(REPO),
        environment={"PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp"},
    )
    status = reader.wait(timeout=120)
    output = reader.logs(stdout=True, stderr=False).decode()
    errors = reader.logs(stdout=False, stderr=True).decode()
    assert status["StatusCode"] == 0, errors
    data = json.loads(output)
    by_id = {c["id"]: c for c in data["containers"]}
    assert target.id in by_id, errors
    found = by_id[target.id]
    # No socket was mounted: the name comes from the daemon's own files under /host.
    assert found["name"] == target.name
    assert found["limits"]["cpu_quota_cores"] == pytest.approx(0.1)
    assert found["limits"]["pids_max"] == 42
    assert found["throttling"]["throttled_percent"] is not None
    assert found["throttling"]["throttled_percent"] > 0
    assert found["init_pid"] == target.attrs["State"]["Pid"]  # host pids, thanks to --pid=host
    assert data["host"]["cpus"] == os.cpu_count()
    # The reader sees itself as a container too, and does not take its own namespaces for the
    # host's.
    assert reader.id in by_id
    assert by_id[reader.id]["shared_namespaces"].get("mnt") != "host"
