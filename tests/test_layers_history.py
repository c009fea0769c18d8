"""An image whose own layers delete a file and replace a directory: the stack, and provenance
through whiteouts and opaque directories in *lower* layers, against the engine's view."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from ctop_py.host import HostRoot
from ctop_py.layers import compute_changes, provenance, read_stack
from tests.conftest import HISTORY_IMAGE, SLEEP, RunContainer

pytestmark = pytest.mark.docker


def sh(container: Any, script: str) -> str:
    result = container.exec_run(["sh", "-c", script])
    return str(result.output.decode())


def test_lower_whiteouts_and_opaque_dirs(run_container: RunContainer, docker_client: Any) -> None:
    ctr = run_container(HISTORY_IMAGE, SLEEP)
    stack = read_stack(HostRoot(), ctr.attrs["State"]["Pid"], ctr.id)
    image = docker_client.api.inspect_image(HISTORY_IMAGE)
    bottom_up = list(reversed(stack.lowers))
    # one lower per layer of the image (ENV and CMD made none), in the image's order
    assert [layer.diff_id for layer in bottom_up] == image["RootFS"]["Layers"]
    instructions = [layer.instruction or "" for layer in bottom_up]
    assert instructions[-3:] == [
        "RUN mkdir -p /data/old && echo a > /data/old/a.txt && echo keep > /data/keep.txt",
        "RUN rm /data/keep.txt",
        "RUN rm -rf /data/old && mkdir /data/old && echo b > /data/old/b.txt",
    ]
    top = len(bottom_up)

    deleted = provenance(HostRoot(), stack, "/data/keep.txt")
    assert not deleted.exists and sh(ctr, "ls /data/keep.txt 2>&1; true").strip().endswith(
        "No such file or directory"
    )
    assert deleted.hidden_by is not None and f"lower {top - 1}" in deleted.hidden_by
    assert [h.layer.label for h in deleted.hits] == [f"lower {top - 1}", f"lower {top - 2}"]

    replaced = provenance(HostRoot(), stack, "/data/old/a.txt")
    assert not replaced.exists
    assert replaced.hidden_by is not None and "opaque" in replaced.hidden_by
    kept = provenance(HostRoot(), stack, "/data/old/b.txt")
    assert kept.exists and kept.provider is not None
    assert kept.provider.layer.label == f"lower {top}"
    assert sh(ctr, "cat /data/old/b.txt") == "b\n"

    # The container itself changed nothing: docker diff is empty, and so are we.
    assert docker_client.api.diff(ctr.id) in (None, [])
    assert compute_changes(HostRoot(), stack).changes == ()


def test_history_image_cli_text(run_container: RunContainer) -> None:
    ctr = run_container(HISTORY_IMAGE, SLEEP)
    out = subprocess.run(
        [sys.executable, "-m", "ctop_py", "layers", ctr.name, "--path", "/data/keep.txt"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "whiteout" in out.stdout
