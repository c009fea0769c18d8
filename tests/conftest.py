"""Shared fixtures: a real Docker engine and containers with unique names.

Under CI=true a test that needs Docker fails when no engine answers; elsewhere it is skipped.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
BASE_IMAGE = "ctop-test-base:1"
LAYERED_IMAGE = "ctop-test-layered:1"
HISTORY_IMAGE = "ctop-test-history:1"  # a file deleted and a directory replaced in lower layers
# overwritten, deleted and replaced files and directories, many small files (Dockerfile.explore)
EXPLORE_IMAGE = os.environ.get("CTOP_EXPLORE_IMAGE", "ctop-test-explore:1")
TEST_LABEL = "ctop-py-test"
# Containers are named PREFIX<random>; CTOP_TEST_NAME_PREFIX sets it (parallel runs on one engine).
NAME_PREFIX = os.environ.get("CTOP_TEST_NAME_PREFIX", "ctop-test-")
# Leftovers of a crashed run are removed, but only old ones: other runs may be live right now.
LEFTOVER_AGE_S = 3600

DockerClient = Any  # docker.DockerClient; kept loose so tests type-check without the engine


def _no_docker(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Docker is required in CI: {reason}")
    pytest.skip(f"Docker unavailable: {reason}")


@pytest.fixture(scope="session")
def docker_client() -> Iterator[DockerClient]:
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        _no_docker(str(exc))
        raise AssertionError("unreachable") from exc
    build = subprocess.run(
        [str(REPO / "tests" / "images" / "build.sh")], capture_output=True, text=True
    )
    if build.returncode != 0:
        pytest.fail(f"building test images failed: {build.stderr.strip()}")
    _remove_leftovers(client)
    yield client
    client.close()


def _remove_leftovers(client: DockerClient) -> None:
    now = time.time()
    for container in client.containers.list(all=True, filters={"label": TEST_LABEL}):
        created = container.attrs.get("Created", "")
        try:
            from datetime import datetime

            age = now - datetime.fromisoformat(created[:26].rstrip("Z")).timestamp()
        except ValueError:
            age = LEFTOVER_AGE_S + 1
        if age > LEFTOVER_AGE_S:
            container.remove(force=True)


RunContainer = Callable[..., Any]


@pytest.fixture
def run_container(docker_client: DockerClient) -> Iterator[RunContainer]:
    """Start a container with a unique name; removed at the end of the test."""
    started: list[Any] = []

    def run(image: str = BASE_IMAGE, command: Any = None, **kwargs: Any) -> Any:
        name = kwargs.pop("name", None) or f"{NAME_PREFIX}{uuid.uuid4().hex[:10]}"
        labels = {TEST_LABEL: "1", **kwargs.pop("labels", {})}
        container = docker_client.containers.run(
            image, command, name=name, labels=labels, detach=True, **kwargs
        )
        started.append(container)
        container.reload()
        return container

    yield run
    for container in started:
        with contextlib.suppress(Exception):
            container.remove(force=True)


SPIN = ["sh", "-c", "while true; do :; done"]
SLEEP = ["sleep", "3600"]
