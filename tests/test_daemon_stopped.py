"""With dockerd stopped, ctop-py still maps every layer and lists every container: it reads
the kernel and Docker's files, not the daemon. The daemon is restarted afterwards.

The dockerd stopped here is the test's OWN, never the shared one: it runs in a private mount
namespace where its data root (a temporary directory) is bind-mounted on /var/lib/docker, with
its own socket, exec-root and pidfile, no bridge and no iptables rules, and in its own network
namespace: a dockerd started with --bridge=none DELETES the `docker0` link of the namespace it
runs in (moby's removeDefaultBridgeInterface), which would break the shared engine's networking.
ctop-py runs in the same mount namespace (and the host's network namespace), so it finds
Docker's files where it always looks; DOCKER_HOST points it at the private socket. The daemon
runs with --live-restore, so stopping it leaves the container running, as on a production host.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from tests.conftest import LAYERED_IMAGE, RUN_LABELS, SLEEP, deadline_s, require

pytestmark = pytest.mark.docker


@dataclass
class PrivateDockerd:
    tmp: Path
    holder: subprocess.Popen[str]  # `sleep` in the private mount namespace: keeps it alive
    argv: list[str]
    socket: str
    log: IO[bytes]
    pid: int = 0

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def in_ns(self, *argv: str, net: bool = False) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "-m", *(["-n"] if net else []), "--", *argv]

    def start(self) -> None:
        proc = subprocess.Popen(
            self.in_ns(*self.argv, net=True),
            stdout=self.log,
            stderr=self.log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid = proc.pid  # nsenter without --fork execs dockerd in place
        until = time.monotonic() + deadline_s(60)
        while True:
            try:
                self.client().close()
                return
            except Exception:
                if proc.poll() is not None or time.monotonic() > until:
                    raise AssertionError(
                        f"private dockerd did not answer (rc {proc.poll()}); "
                        f"log {self.tmp / 'dockerd.log'}: {self.log_tail()}"
                    ) from None
                time.sleep(0.3)

    def stop(self) -> None:
        if not self.pid or not os.path.exists(f"/proc/{self.pid}"):
            return
        os.kill(self.pid, signal.SIGTERM)
        until = time.monotonic() + deadline_s(60)
        while time.monotonic() < until:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    break
            if not os.path.exists(f"/proc/{self.pid}"):
                break
            time.sleep(0.2)
        assert not os.path.exists(f"/proc/{self.pid}"), "private dockerd did not stop"

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.url, timeout=60)

    def log_tail(self) -> str:
        return (self.tmp / "dockerd.log").read_text(errors="replace")[-2000:]


@pytest.fixture
def private_dockerd(docker_client: Any) -> Iterator[PrivateDockerd]:
    for tool in ("dockerd", "nsenter", "unshare"):
        require(shutil.which(tool) is not None, f"{tool} is not installed")
    require(os.geteuid() == 0, "a private dockerd needs root")
    host_links = _host_links()
    tmp = Path(tempfile.mkdtemp(prefix="ctopt-dockerd-", dir="/var/tmp"))
    (tmp / "data").mkdir()
    tag = uuid.uuid4().hex[:8]
    driver = docker_client.info().get("CgroupDriver", "cgroupfs")
    (tmp / "daemon.json").write_text("{}\n")  # not the host's /etc/docker/daemon.json
    argv = [
        "dockerd",
        f"--config-file={tmp}/daemon.json",
        "--data-root=/var/lib/docker",  # tmp/data, bind-mounted there in the namespace
        f"--exec-root={tmp}/exec",
        f"--pidfile={tmp}/dockerd.pid",
        f"--host=unix://{tmp}/docker.sock",
        "--bridge=none",
        "--iptables=false",
        "--ip-masq=false",
        "--live-restore",
        "--storage-driver=overlay2",
        f"--exec-opt=native.cgroupdriver={driver}",
    ]
    cgroup_parent = f"ctopt-dockerd-{tag}"
    if driver == "cgroupfs":
        argv.append(f"--cgroup-parent=/{cgroup_parent}")
    holder = subprocess.Popen(
        ["unshare", "--mount", "--net", "--propagation", "private", "--", "sh", "-c",
         'mount --bind "$1" /var/lib/docker && { ip link set lo up 2>/dev/null; true; }'
         # A system containerd (a service on the v2 guest) would be used by dockerd, and its
         # runc would not see this namespace's mounts: hidden, so dockerd starts its own.
         " && { [ ! -d /run/containerd ] || mount -t tmpfs tmpfs /run/containerd; }"
         " && echo ready"
         " && exec sleep 86400",
         "sh", str(tmp / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    ready = holder.stdout.readline().strip()
    log = (tmp / "dockerd.log").open("ab")
    daemon = PrivateDockerd(tmp, holder, argv, str(tmp / "docker.sock"), log)
    try:
        assert ready == "ready", f"mount namespace: {holder.stderr and holder.stderr.read()}"
        daemon.start()
        yield daemon
    finally:
        _tear_down(daemon, cgroup_parent)
    # The shared engine's network is untouched: docker0 and the host's other links are there.
    assert _host_links() == host_links


def _host_links() -> list[str]:
    """The host's network links but the veths of containers (other runs start and stop them)."""
    return sorted(n for n in os.listdir("/sys/class/net") if not n.startswith("veth"))


def _tear_down(daemon: PrivateDockerd, cgroup_parent: str) -> None:
    """Start the private daemon again if the test stopped it, remove its containers, stop it,
    end the namespace, and delete every file and cgroup it made."""
    with contextlib.suppress(Exception):
        if not daemon.pid or not os.path.exists(f"/proc/{daemon.pid}"):
            daemon.start()
        client = daemon.client()
        for container in client.containers.list(all=True):
            container.remove(force=True)
        client.close()
    with contextlib.suppress(Exception):
        daemon.stop()
    daemon.holder.kill()
    daemon.holder.wait()
    daemon.log.close()
    # containerd (started by dockerd) may outlive it by a moment; the namespace ends after it.
    until = time.monotonic() + deadline_s(30)
    while time.monotonic() < until and _mounted_under(daemon.tmp):
        time.sleep(0.3)
    shutil.rmtree(daemon.tmp, ignore_errors=True)
    for controller in Path("/sys/fs/cgroup").iterdir():
        with contextlib.suppress(OSError):
            (controller / cgroup_parent).rmdir()
    with contextlib.suppress(OSError):
        Path("/sys/fs/cgroup", cgroup_parent).rmdir()


def _mounted_under(tmp: Path) -> bool:
    """Some process still runs in the private namespace (its mounts are not ours to see, but
    its processes are: they have tmp's exec-root open)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if str(tmp) in (proc / "cmdline").read_bytes().decode(errors="replace"):
                return True
    return False


def test_layers_and_containers_with_the_daemon_stopped(
    private_dockerd: PrivateDockerd, docker_client: Any
) -> None:
    private = private_dockerd.client()
    private.images.load(b"".join(docker_client.images.get(LAYERED_IMAGE).save(named=True)))
    ctr = private.containers.run(
        LAYERED_IMAGE,
        SLEEP,
        name=f"ctop-test-{uuid.uuid4().hex[:10]}",
        labels=RUN_LABELS,
        network_mode="none",
        nano_cpus=200_000_000,
        detach=True,
    )
    ctr.exec_run(["sh", "-c", "echo x >> /app/hello.txt; rm /app/blob; mkdir /opt/new"])
    expected_diff = {(c["Path"], c["Kind"]) for c in private.api.diff(ctr.id)}
    inspect = private.api.inspect_container(ctr.id)
    graph = inspect["GraphDriver"]["Data"]
    init_pid = inspect["State"]["Pid"]
    private.close()

    private_dockerd.stop()
    assert os.path.exists(f"/proc/{init_pid}"), "live-restore: the container outlives dockerd"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            private_dockerd.in_ns(sys.executable, "-m", "ctop_py", *args),
            capture_output=True,
            text=True,
            timeout=deadline_s(120),
            env={**os.environ, "DOCKER_HOST": private_dockerd.url},
        )

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
    assert found["id"] == ctr.id
    assert found["limits"]["cpu_quota_cores"] == pytest.approx(0.2)
