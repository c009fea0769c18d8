"""The suite's clean-up of containers left behind takes this run's containers and other runs'
stale ones only: a container another run (another agent, CI beside a developer) labelled and
started minutes ago is kept, however the two runs interleave."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import docker.errors
import pytest

from tests.conftest import (
    NAME_PREFIX,
    RUN_ID,
    SLEEP,
    STALE_AGE_S,
    TEST_LABEL,
    RunContainer,
    _remove_leftovers,
    created_age_s,
    is_leftover,
)


def _docker_created(seconds_ago: float) -> str:
    """A `Created` as Docker writes it (nanoseconds, Z) for a time `seconds_ago`."""
    stamp = datetime.fromtimestamp(time.time() - seconds_ago, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def test_this_runs_containers_and_other_runs_stale_ones_are_leftovers() -> None:
    now = time.time()
    other = {TEST_LABEL: "another-run"}
    young, stale = _docker_created(60), _docker_created(STALE_AGE_S + 60)
    assert is_leftover({TEST_LABEL: RUN_ID}, young, now)
    assert not is_leftover(other, young, now)
    assert not is_leftover(other, _docker_created(STALE_AGE_S - 60), now)
    assert is_leftover(other, stale, now)
    assert not is_leftover(other, "not a time", now)  # may be live: kept
    assert not is_leftover({"another-label": RUN_ID}, stale, now)  # not a test's
    age = created_age_s(young, now)
    assert age is not None and 59 <= age <= 61  # read as UTC, whatever the local zone


@pytest.mark.docker
def test_another_runs_young_container_is_kept_and_this_runs_is_removed(
    docker_client: Any, run_container: RunContainer
) -> None:
    other_run = uuid.uuid4().hex[:12]
    theirs = run_container(command=SLEEP, labels={TEST_LABEL: other_run}, network_mode="none")
    ours = run_container(command=SLEEP, network_mode="none")
    assert theirs.name.startswith(NAME_PREFIX) and ours.name.startswith(NAME_PREFIX)
    assert docker_client.api.inspect_container(ours.id)["Config"]["Labels"][TEST_LABEL] == RUN_ID
    # Docker's own record of when it was made: just now, so not stale.
    created = docker_client.api.inspect_container(theirs.id)["Created"]
    age = created_age_s(created, time.time())
    assert age is not None and -5 <= age < 300

    removed = _remove_leftovers(docker_client)

    assert ours.name in removed and theirs.name not in removed
    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_container(ours.id)
    inspect = docker_client.api.inspect_container(theirs.id)  # still there, still running
    assert inspect["Config"]["Labels"][TEST_LABEL] == other_run
    assert inspect["State"]["Running"]


@pytest.mark.docker
def test_the_benchmarks_fleet_keeps_another_runs_young_containers(
    docker_client: Any, run_container: RunContainer
) -> None:
    from benchmarks.dockerenv import LABEL, Fleet

    fleet = Fleet(docker_client)  # not closed: the session's client
    theirs = run_container(command=SLEEP, labels={LABEL: "another-run"}, network_mode="none")
    ours = run_container(command=SLEEP, labels={LABEL: fleet.run_id}, network_mode="none")

    assert fleet.remove_leftovers() >= 1

    with pytest.raises(docker.errors.NotFound):
        docker_client.api.inspect_container(ours.id)
    assert docker_client.api.inspect_container(theirs.id)["State"]["Running"]
