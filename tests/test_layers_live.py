"""The mount stack and changes against the real Docker engine.

The code under test reads only /proc and /var/lib/docker; the Docker API is used here only to
get the answers to compare with (inspect, history, diff).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ctop_py.export.json import to_json
from ctop_py.host import HostRoot
from ctop_py.layers import compute_changes, provenance, read_stack
from tests.conftest import LAYERED_IMAGE, REPO, SLEEP, DockerClient, RunContainer

pytestmark = pytest.mark.docker

# add files (one with a space and non-ASCII, one hard link), modify a lower file, delete a lower
# file, mv a lower dir (a copy + whiteout without redirect_dir), recreate the moved dir (opaque),
# rm -rf and recreate an empty dir, a copy-up that changes nothing, a symlink and a FIFO.
SCENARIO = """
set -e
echo more >> /app/hello.txt
echo more >> /etc/group
rm /bin/vi
mv /app /app2
mkdir /app && echo n > /app/n
rm -rf /root && mkdir /root
mkdir -p /new/deep/dir && echo hi > '/new/deep/dir/sp ace é'
ln '/new/deep/dir/sp ace é' /new/hard
chown 0:0 /etc/passwd
ln -s /etc/passwd /lnk
mkfifo /fifo
touch /tmp/t && rm /tmp/t
"""


def _exec(container: Any, script: str) -> None:
    code, output = container.exec_run(["sh", "-c", script])
    assert code == 0, output


def _layerdb_size(chain_id: str) -> int:
    path = Path("/var/lib/docker/image/overlay2/layerdb/sha256") / chain_id[7:] / "size"
    return int(path.read_text())


def test_stack_equals_inspect_and_history(
    run_container: RunContainer, docker_client: DockerClient
) -> None:
    container = run_container(LAYERED_IMAGE, SLEEP, tmpfs={"/scratch": ""})
    pid = container.attrs["State"]["Pid"]
    stack = read_stack(HostRoot(), pid, None)

    assert stack.runtime == "docker"
    assert stack.container_id == container.id  # found on disk from the mount-id
    assert stack.image_id == container.attrs["Image"]
    graph = container.attrs["GraphDriver"]["Data"]
    assert stack.init is not None and stack.upper is not None
    assert [stack.init.path] + [layer.path for layer in stack.lowers] == graph["LowerDir"].split(
        ":"
    )
    assert stack.upper.path == graph["UpperDir"]
    assert stack.merged_path == graph["MergedDir"]
    assert stack.warnings == ()

    # docker history: newest first; entries with a layer are those with a size here.
    history = [h for h in reversed(docker_client.api.history(stack.image_id)) if h["Size"] > 0]
    assert len(history) == len(stack.lowers) == 4
    bottom_up = list(reversed(stack.lowers))
    assert [layer.created_by or "" for layer in bottom_up] == [h["CreatedBy"] for h in history]
    assert bottom_up[0].instruction == "Imported from -" == history[0]["Comment"]
    assert bottom_up[1].instruction == "RUN mkdir /app && echo hello > /app/hello.txt"
    assert [layer.size for layer in bottom_up] == [h["Size"] for h in history]
    assert [layer.size for layer in bottom_up] == [
        _layerdb_size(layer.chain_id or "") for layer in bottom_up
    ]
    assert [layer.position for layer in bottom_up] == [1, 2, 3, 4]

    by_target = {m.mount_point: m for m in stack.mounts}
    assert by_target["/scratch"].kind == "tmpfs"
    assert by_target["/etc/hosts"].root.endswith(f"/containers/{container.id}/hosts")
    assert by_target["/proc"].fstype == "proc"


def test_changes_equal_docker_diff(
    run_container: RunContainer, docker_client: DockerClient
) -> None:
    container = run_container(LAYERED_IMAGE, SLEEP)
    _exec(container, SCENARIO)
    stack = read_stack(HostRoot(), container.attrs["State"]["Pid"], container.id)
    changes = compute_changes(HostRoot(), stack)

    ours = {(c.path, int(c.kind)) for c in changes.changes}
    theirs = {(d["Path"], d["Kind"]) for d in docker_client.api.diff(container.id)}
    assert ours == theirs
    assert ("/new/deep/dir/sp ace é", 1) in ours and ("/app2/hello.txt", 1) in ours
    assert ("/etc/passwd", 0) not in ours  # copied up, but nothing changed
    assert changes.skipped == () and not changes.truncated

    # SizeRw is overlay2's DiffSize: the upper directory's size, hard links once.
    inspect = docker_client.api._result(
        docker_client.api._get(
            docker_client.api._url("/containers/{0}/json", container.id), params={"size": 1}
        ),
        True,
    )
    assert changes.upper_size == inspect["SizeRw"]

    moved = provenance(HostRoot(), stack, "/app/hello.txt")
    assert not moved.exists and moved.hidden_by == "hidden: /app is opaque in upper"
    assert [h.layer.label for h in moved.hits] == ["lower 2"]
    vi = provenance(HostRoot(), stack, "/bin/vi")
    assert vi.hidden_by == "/bin/vi is deleted (whiteout) in upper"
    group = provenance(HostRoot(), stack, "/etc/group")
    assert group.provider is not None and group.provider.layer.label == "upper"
    assert [h.layer.label for h in group.shadowed] == ["lower 1"]


def test_disk_only_code_path(run_container: RunContainer) -> None:
    """The mapping in a fresh interpreter that never imports the Docker SDK."""
    container = run_container(LAYERED_IMAGE, SLEEP)
    _exec(container, "echo x > /added")
    script = (
        "import json, sys\n"
        "from ctop_py.host import HostRoot\n"
        "from ctop_py.export.json import to_json\n"
        "from ctop_py.layers import compute_changes, read_stack\n"
        f"stack = read_stack(HostRoot(), {container.attrs['State']['Pid']}, None)\n"
        "changes = compute_changes(HostRoot(), stack)\n"
        "assert 'docker' not in sys.modules and 'requests' not in sys.modules\n"
        "print(json.dumps({'stack': to_json(stack),"
        " 'changes': [[c.path, c.kind.letter] for c in changes.changes]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    here = to_json(read_stack(HostRoot(), container.attrs["State"]["Pid"], container.id))
    assert result["stack"] == json.loads(json.dumps(here))
    assert result["stack"]["container_id"] == container.id
    assert [layer["instruction"] for layer in result["stack"]["layers"]][-1] == "Imported from -"
    assert result["changes"] == [["/added", "A"]]
