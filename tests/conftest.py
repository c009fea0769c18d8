"""Shared fixtures: a real Docker engine and containers with unique names.

Every test that lacks something it needs calls `require` (or `missing`): under CI=true that
FAILS the test, elsewhere it skips it. Nothing in the suite calls pytest.skip directly, and
under CI=true any skip that still happens fails the run (see pytest_terminal_summary).

Waits poll for their condition (`wait_for`); every deadline goes through `deadline_s`, scaled
by CTOP_TEST_SLOWNESS (e.g. 4 in the TCG guest of `make test-v2`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

REPO = Path(__file__).resolve().parent.parent
BASE_IMAGE = "ctop-test-base:1"
LAYERED_IMAGE = "ctop-test-layered:1"
HISTORY_IMAGE = "ctop-test-history:1"  # a file deleted and a directory replaced in lower layers
# overwritten, deleted and replaced files and directories, many small files (Dockerfile.explore)
EXPLORE_IMAGE = os.environ.get("CTOP_EXPLORE_IMAGE", "ctop-test-explore:1")
TEST_LABEL = "ctop-py-test"
# Every container a test starts is labelled TEST_LABEL=RUN_ID: this session's id, so that the
# clean-up takes this run's containers and not those of another run on the same engine (two
# agents, CI beside a developer's run), however young.
RUN_ID = uuid.uuid4().hex[:12]
RUN_LABELS = {TEST_LABEL: RUN_ID}
# Containers are named PREFIX<random>; CTOP_TEST_NAME_PREFIX sets it (parallel runs on one engine).
NAME_PREFIX = os.environ.get("CTOP_TEST_NAME_PREFIX", "ctop-test-")
# Another run's container is a leftover (of a crashed run) only when older than any run lasts:
# the whole suite takes ~6 min here, `make stress` and the v2 guest (4x slower) well under 1 h.
STALE_AGE_S = 2 * 3600

DockerClient = Any  # docker.DockerClient; kept loose so tests type-check without the engine


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> NoReturn:
    """What this test needs is not here: fail under CI=true, skip elsewhere."""
    if in_ci():
        pytest.fail(f"required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    if not condition:
        missing(reason)


def slowness() -> float:
    """How much slower than this 2-core host the machine is (CTOP_TEST_SLOWNESS, default 1)."""
    try:
        return max(1.0, float(os.environ.get("CTOP_TEST_SLOWNESS", "1")))
    except ValueError:
        return 1.0


def deadline_s(seconds: float) -> float:
    return seconds * slowness()


def wait_settled(*containers: Any) -> None:
    """Until each container's init process is collect.LIMITS_SETTLE_S old, by the kernel's
    start time of it: a younger one has its limits read every tick (its runtime may not have
    written them yet), so a test that counts a tick's reads waits for this first."""
    from ctop_py.collect import LIMITS_SETTLE_S
    from ctop_py.procfs import parse_stat

    ticks = os.sysconf("SC_CLK_TCK")
    for container in containers:
        container.reload()
        path = f"/proc/{container.attrs['State']['Pid']}/stat"
        started = parse_stat(Path(path).read_bytes(), path).start_ticks / ticks
        wait = started + LIMITS_SETTLE_S + 0.1 - time.clock_gettime(time.CLOCK_BOOTTIME)
        if wait > 0:
            time.sleep(wait)


T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `check` until it returns something truthy (returned) or `timeout` (scaled) passes."""
    until = time.monotonic() + deadline_s(timeout)
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > until:
            raise AssertionError(f"timed out after {deadline_s(timeout):.0f} s waiting for {what}")
        time.sleep(interval)


@contextlib.contextmanager
def refreshes_asked(widget: Any) -> Iterator[list[tuple[Any, ...]]]:
    """The regions of each refresh that reached Textual's Widget.refresh for `widget` in the
    block, in order; () is the whole widget (every line of its height painted again)."""
    from textual.widget import Widget

    asked: list[tuple[Any, ...]] = []
    refresh = Widget.refresh

    def recorded(self: Widget, *regions: Any, **kwargs: Any) -> Any:
        if self is widget:
            asked.append(regions)
        return refresh(self, *regions, **kwargs)

    Widget.refresh = recorded  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        Widget.refresh = refresh  # type: ignore[method-assign]


def _skipped(config: Any) -> list[Any]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return list(reporter.stats.get("skipped", [])) if reporter is not None else []


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Under CI=true a skipped test is a failure of the run: nothing may pass unseen."""
    if in_ci() and _skipped(session.config) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = _skipped(terminalreporter.config)
    if in_ci() and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} test(s) skipped, and a skip under CI fails the run",
            red=True,
        )


def _no_docker(reason: str) -> None:
    missing(f"Docker unavailable: {reason}")


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
    _remove_leftovers(client)  # what a test of this run failed to remove
    client.close()


def created_age_s(created: str, now: float) -> float | None:
    """Seconds since Docker's `Created` ("2026-11-30T13:25:41.123456789Z", UTC), or None when it
    is not such a time."""
    try:
        stamp = datetime.fromisoformat(created[:19] + "+00:00").timestamp()
    except ValueError:
        return None
    return now - stamp


def is_leftover(labels: dict[str, str], created: str, now: float) -> bool:
    """A test container to remove: this run's, or another run's older than STALE_AGE_S (one
    whose age cannot be read is kept: it may be live)."""
    if TEST_LABEL not in labels:
        return False
    if labels[TEST_LABEL] == RUN_ID:
        return True
    age = created_age_s(created, now)
    return age is not None and age > STALE_AGE_S


def _remove_leftovers(client: DockerClient) -> list[str]:
    """Remove this run's containers and other runs' stale ones; their names."""
    removed: list[str] = []
    now = time.time()
    # Another run may remove one of its containers between the listing and its inspection.
    listed = client.containers.list(all=True, filters={"label": TEST_LABEL}, ignore_removed=True)
    for container in listed:
        labels = container.attrs.get("Config", {}).get("Labels") or {}
        if is_leftover(labels, str(container.attrs.get("Created", "")), now):
            with contextlib.suppress(Exception):  # removed meanwhile by its own test
                container.remove(force=True)
                removed.append(container.name)
    return removed


RunContainer = Callable[..., Any]


@pytest.fixture
def run_container(docker_client: DockerClient) -> Iterator[RunContainer]:
    """Start a container with a unique name; removed at the end of the test."""
    started: list[Any] = []

    def run(image: str = BASE_IMAGE, command: Any = None, **kwargs: Any) -> Any:
        name = kwargs.pop("name", None) or f"{NAME_PREFIX}{uuid.uuid4().hex[:10]}"
        labels = {**RUN_LABELS, **kwargs.pop("labels", {})}
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
