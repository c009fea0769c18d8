"""Each runtime's cgroup path patterns, claimed by the right module and nothing else."""

from __future__ import annotations

import pytest

from ctop_py.runtimes import claim

ID = "be9081512b165b53ef999afd4719d411089a869b0d54be394f7dbed42d161358"
UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.mark.parametrize(
    ("path", "runtime", "cid", "cgroup"),
    [
        (f"/docker/{ID}", "docker", ID, f"/docker/{ID}"),
        (f"/system.slice/docker-{ID}.scope", "docker", ID, f"/system.slice/docker-{ID}.scope"),
        (f"/my-parent/{ID}", "docker", ID, f"/my-parent/{ID}"),  # --cgroup-parent
        (
            f"/user.slice/user-1000.slice/user@1000.service/docker-{ID}.scope",
            "docker",
            ID,
            f"/user.slice/user-1000.slice/user@1000.service/docker-{ID}.scope",
        ),
        (f"/machine.slice/libpod-{ID}.scope", "podman", ID, f"/machine.slice/libpod-{ID}.scope"),
        (
            f"/machine.slice/libpod-{ID}.scope/container",  # crun's payload child
            "podman",
            ID,
            f"/machine.slice/libpod-{ID}.scope",
        ),
        (f"/libpod_parent/libpod-{ID}", "podman", ID, f"/libpod_parent/libpod-{ID}"),
        (
            f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
            f"{UID.replace('-', '_')}.slice/cri-containerd-{ID}.scope",
            "containerd",
            ID,
            f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
            f"{UID.replace('-', '_')}.slice/cri-containerd-{ID}.scope",
        ),
        (
            f"/kubepods/burstable/pod{UID}/{ID}",
            "containerd",
            ID,
            f"/kubepods/burstable/pod{UID}/{ID}",
        ),
        (f"/kubepods.slice/crio-{ID}.scope", "crio", ID, f"/kubepods.slice/crio-{ID}.scope"),
        ("/lxc.payload.web1", "lxc", "web1", "/lxc.payload.web1"),
        ("/lxc.payload.web1/init.scope", "lxc", "web1", "/lxc.payload.web1"),
        ("/lxc/old1", "lxc", "old1", "/lxc/old1"),
        (
            "/machine.slice/machine-my\\x2dbox.scope",
            "nspawn",
            "my-box",
            "/machine.slice/machine-my\\x2dbox.scope",
        ),
    ],
)
def test_claims(path: str, runtime: str, cid: str, cgroup: str) -> None:
    found = claim(path)
    assert found is not None
    assert (found.runtime, found.id, found.cgroup_path) == (runtime, cid, cgroup)


def test_kubernetes_pod_uid_label() -> None:
    found = claim(f"/kubepods/besteffort/pod{UID}/{ID}")
    assert found is not None
    assert found.labels == {"io.kubernetes.pod.uid": UID}
    found = claim(
        f"/kubepods.slice/kubepods-pod{UID.replace('-', '_')}.slice/cri-containerd-{ID}.scope"
    )
    assert found is not None and found.labels["io.kubernetes.pod.uid"] == UID


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/user.slice/user-1000.slice/session-2.scope",
        "/system.slice/docker.service",
        "/system.slice/containerd.service",
        f"/machine.slice/libpod-conmon-{ID}.scope",  # conmon is not the container
        "/lxc.monitor.web1",
        f"/docker/{ID[:63]}",  # not a full id
        f"/system.slice/docker-{ID}.mount",
        "/process_api/c131103546f781e6c6cd487b28c42490",
    ],
)
def test_not_claimed(path: str) -> None:
    assert claim(path) is None


def test_nspawn_name_unescaped() -> None:
    found = claim("/machine.slice/machine-web\\x2d01.scope")
    assert found is not None and found.name == "web-01"
