"""`ctop-py layers`: the CLI over the mount stack, against the live engine."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from ctop_py import present
from tests.conftest import LAYERED_IMAGE, SLEEP, RunContainer


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctop_py", *args], capture_output=True, text=True, timeout=120
    )


def test_safe_clips_only_longer_text() -> None:
    assert present.safe("abc", 3) == "abc"
    assert present.safe("abcd", 3) == "abc…"
    assert present.safe("a\x1b[1mb") == "a\\x1b[1mb"


@pytest.mark.docker
def test_layers_json_equals_docker(run_container: RunContainer, docker_client: Any) -> None:
    ctr = run_container(LAYERED_IMAGE, SLEEP)
    ctr.exec_run(["sh", "-c", "echo more >> /app/hello.txt; rm /app/blob; mkdir -p /srv/x"])
    result = run("layers", ctr.name, "--json", "--path", "/app/hello.txt")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["id"] == ctr.id and data["name"] == ctr.name and data["driver"] == "overlay2"
    diff = {(c["Path"], c["Kind"]) for c in docker_client.api.diff(ctr.id)}
    kinds = {"modified": 0, "added": 1, "deleted": 2}
    ours = {(c["path"], kinds[c["kind"]]) for c in data["upper"]["changes"]}
    assert ours == diff
    inspect = docker_client.api.inspect_container(ctr.id)["GraphDriver"]["Data"]
    assert data["upper"]["path"] == inspect["UpperDir"]
    assert data["init"]["path"] == inspect["LowerDir"].split(":")[0]
    # lowers: base first, as `docker history` lists them last
    history = [
        h["CreatedBy"] for h in reversed(docker_client.api.history(LAYERED_IMAGE)) if h["Size"]
    ]
    assert [x["created_by"] or "" for x in data["lowers"] if x["size_bytes"]] == history
    assert [x["path"] for x in reversed(data["lowers"])] == inspect["LowerDir"].split(":")[1:]
    assert all(x["diff_id"].startswith("sha256:") for x in data["lowers"])
    assert data["provenance"]["path"] == "/app/hello.txt"
    text = run("layers", ctr.name)
    assert text.returncode == 0 and "container layer" in text.stdout


def test_layers_unknown_container() -> None:
    result = run("layers", "no-such-container-xyz")
    assert result.returncode == 2
    assert result.stderr.strip() == "ctop-py: no such container: no-such-container-xyz"
