"""`--root /host`: ctop-py inside a container, with the host's /proc, /sys and /var/lib/docker
mounted read-only under /host (and --pid=host), finds the host's containers.

No registry is reachable, so the container is busybox with this host's Python, the project
and its venv bind-mounted read-only. The shipped Dockerfile itself is NOT built or tested here
(its base image needs a registry)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_IMAGE, REPO, SPIN, RunContainer, deadline_s
from tests.groundtruth import kernel_cpu, net_dev_rx

pytestmark = pytest.mark.docker


def ro(path: str | Path, target: str | Path | None = None) -> tuple[str, dict[str, str]]:
    return str(path), {"bind": str(target or path), "mode": "ro"}


def test_root_host_from_a_container(
    run_container: RunContainer, docker_client: Any, tmp_path: Path
) -> None:
    """snapshot (limits, usage, net counters), layers (against GraphDriver and `docker diff`)
    and ns (against readlink on the host), all run inside one container with --root /host."""
    target = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, pids_limit=42)
    target.exec_run(["sh", "-c", "echo x >> /etc/hostname.new; rm /bin/true"])
    pid = target.attrs["State"]["Pid"]
    python = Path(sys.executable)  # the venv's python: its site-packages has the dependencies
    out = tmp_path / "out"
    out.mkdir()
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
    mounts[str(out)] = {"bind": "/out", "mode": "rw"}
    ctop = f"{python} -m ctop_py --root /host"
    script = (
        f"{ctop} snapshot --json --interval 0.5 > /out/snapshot.json"
        f" && {ctop} layers {target.name} --json --changes > /out/layers.json"
        f" && {ctop} ns --json > /out/ns.json"
    )
    before, rx_before = kernel_cpu(pid), net_dev_rx(pid)
    reader = run_container(
        BASE_IMAGE,
        ["sh", "-c", script],
        volumes=mounts,
        pid_mode="host",
        cap_add=["SYS_PTRACE"],  # as the README runs it: other processes' ns links
        working_dir=str(REPO),
        environment={"PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp"},
    )
    status = reader.wait(timeout=deadline_s(180))
    after, rx_after = kernel_cpu(pid), net_dev_rx(pid)
    errors = reader.logs(stdout=False, stderr=True).decode()
    assert status["StatusCode"] == 0, errors

    data = json.loads((out / "snapshot.json").read_text())
    by_id = {c["id"]: c for c in data["containers"]}
    assert target.id in by_id, errors
    found = by_id[target.id]
    # No socket was mounted: the name comes from the daemon's own files under /host.
    assert found["name"] == target.name
    assert found["limits"]["cpu_quota_cores"] == pytest.approx(0.1)
    assert found["limits"]["pids_max"] == 42
    assert found["init_pid"] == pid and found["pids"] == [pid]  # host pids (--pid=host)
    assert data["host"]["cpus"] == os.cpu_count()
    # Usage and network counters: the host kernel's, read while the reader ran.
    for name in ("usage_ns", "nr_periods", "nr_throttled", "throttled_ns"):
        assert getattr(before, name) <= found["cpu"][name] <= getattr(after, name), name
    assert found["usage"]["pids_current"] == 1
    assert found["usage"]["cpu_percent"] > 0 and found["throttling"]["throttled_percent"] > 0
    assert rx_before <= found["net"]["rx_bytes"] <= rx_after
    for ns_type, inode in found["namespaces"].items():
        assert os.readlink(f"/proc/{pid}/ns/{ns_type}") == f"{ns_type}:[{inode}]"
    # The reader sees itself as a container too, and does not take its own namespaces for the
    # host's.
    assert reader.id in by_id
    assert by_id[reader.id]["shared_namespaces"].get("mnt") != "host"

    layers = json.loads((out / "layers.json").read_text())
    graph = docker_client.api.inspect_container(target.id)["GraphDriver"]["Data"]
    assert layers["upper"]["path"] == graph["UpperDir"]
    assert [x["path"] for x in reversed(layers["lowers"])] == graph["LowerDir"].split(":")[1:]
    kinds = {"modified": 0, "added": 1, "deleted": 2}
    expected = {(c["Path"], c["Kind"]) for c in docker_client.api.diff(target.id)}
    assert {(c["path"], kinds[c["kind"]]) for c in layers["upper"]["changes"]} == expected

    namespaces = json.loads((out / "ns.json").read_text())
    net_inode = int(os.readlink(f"/proc/{pid}/ns/net").split("[")[1].rstrip("]"))
    (own_net,) = [n for n in namespaces if n["type"] == "net" and n["inode"] == net_inode]
    assert own_net["pids"] == [pid] and target.name in own_net["containers"]
    host_net = int(os.readlink("/proc/self/ns/net").split("[")[1].rstrip("]"))
    assert [n["inode"] for n in namespaces if n["type"] == "net" and n["is_host"]] == [host_net]
