"""The mount stack and Docker's layer mapping, on fake host roots built in tmp_path.

Nothing here talks to a daemon: these are the daemon-stopped code paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from ctop_py.host import Gone, HostRoot
from ctop_py.layers import LayerRole, read_stack
from ctop_py.layers.docker_meta import chain_ids, parse_image_config, short_instruction
from ctop_py.layers.stack import resolve_layer_path
from tests.test_layers_support import DIR, Layout, build_docker_root, write_mountinfo

FIXTURES = Path(__file__).parent / "fixtures" / "layers"

IMAGE: list[Layout] = [
    {"bin/sh": b"#!busybox", "etc/passwd": b"root:x:0:0\n", "app": DIR},
    {"app/hello.txt": b"hello\n"},
    {"app/Dockerfile": b"FROM x\n"},
    {"app/blob": b"\0" * 1000},
]
HISTORY: list[dict[str, Any]] = [
    {"created": "2024-01-01T00:00:00Z", "comment": "Imported from -"},
    {"created": "2024-01-02T00:00:00Z", "created_by": "/bin/sh -c mkdir /app && echo hello"},
    {
        "created": "2024-01-02T00:00:01Z",
        "created_by": "/bin/sh -c #(nop)  ENV A=1",
        "empty_layer": True,
    },
    {
        "created": "2024-01-03T00:00:00Z",
        "created_by": "/bin/sh -c #(nop) COPY file:" + "ab" * 32 + " in /app/ ",
    },
    {"created": "2024-01-04T00:00:00Z", "created_by": "/bin/sh -c dd if=/dev/zero of=/app/blob"},
    {
        "created": "2024-01-05T00:00:00Z",
        "created_by": '/bin/sh -c #(nop)  CMD ["sh"]',
        "empty_layer": True,
    },
]


def test_chain_ids_follow_moby() -> None:
    diffs = ["sha256:" + "1" * 64, "sha256:" + "2" * 64, "sha256:" + "3" * 64]
    chains = chain_ids(diffs)
    assert chains[0] == diffs[0]
    second = "sha256:" + hashlib.sha256(f"{diffs[0]} {diffs[1]}".encode()).hexdigest()
    assert chains[1] == second
    assert chains[2] == "sha256:" + hashlib.sha256(f"{second} {diffs[2]}".encode()).hexdigest()
    assert chain_ids([]) == ()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("/bin/sh -c #(nop)  ENV A=1", "ENV A=1"),
        ("/bin/sh -c dd if=/dev/zero of=/x", "RUN dd if=/dev/zero of=/x"),
        (
            "/bin/sh -c #(nop) COPY file:" + "ab" * 32 + " in /app/ ",
            "COPY file:abababababab… in /app/",
        ),
        ("|2 A=1 B=2 /bin/sh -c make all", "RUN make all"),
        ("RUN /bin/sh -c apk add x # buildkit", "RUN apk add x"),
        ("COPY . /src # buildkit", "COPY . /src"),
        ("WORKDIR /app", "WORKDIR /app"),
    ],
)
def test_short_instruction(raw: str, shown: str) -> None:
    assert short_instruction(raw) == shown


def test_short_instruction_falls_back_to_comment() -> None:
    assert short_instruction(None, "Imported from -") == "Imported from -"
    assert short_instruction("", None) == ""


def test_docker_stack_from_disk_only(tmp_path: Path) -> None:
    fake = build_docker_root(tmp_path, IMAGE, history=HISTORY, upper={"new": b"x"})
    stack = read_stack(fake.root, fake.pid, None)
    assert stack.runtime == "docker"
    assert stack.container_id == fake.container_id  # found from the upper dir's mount-id
    assert stack.image_id == fake.image_id
    assert stack.warnings == ()
    assert stack.upper is not None and stack.upper.role is LayerRole.UPPER
    assert stack.upper.path == fake.host(fake.upper) and not stack.upper.read_only
    assert stack.merged_path == fake.host(fake.upper.parent / "merged")
    init = stack.init
    assert init is not None and init.label == "init"
    assert init.path == fake.host(fake.init)
    assert init.mount_path == f"/var/lib/docker/overlay2/l/{fake.init_link}"
    assert "/etc/hosts" in init.contents and "/proc" in init.contents
    assert [layer.label for layer in stack.lowers] == ["lower 4", "lower 3", "lower 2", "lower 1"]
    assert [layer.path for layer in stack.lowers] == [
        fake.host(fake.layer(i)) for i in reversed(range(4))
    ]
    assert [layer.layer_id for layer in stack.lowers] == list(reversed(fake.cache_ids))
    assert [layer.chain_id for layer in stack.lowers] == list(reversed(fake.chains))
    assert [layer.diff_id for layer in stack.lowers] == list(reversed(fake.diff_ids))
    non_empty = [h for h in HISTORY if not h.get("empty_layer")]
    assert [layer.created_by for layer in reversed(stack.lowers)] == [
        h.get("created_by") for h in non_empty
    ]
    assert [layer.created for layer in reversed(stack.lowers)] == [h["created"] for h in non_empty]
    assert [layer.instruction for layer in stack.lowers] == [
        "RUN dd if=/dev/zero of=/app/blob",
        "COPY file:abababababab… in /app/",
        "RUN mkdir /app && echo hello",
        "Imported from -",
    ]
    assert [layer.size for layer in stack.lowers] == [1000, 7, 6, 9 + 11]
    assert [layer.label for layer in stack.layers] == [
        "upper",
        "init",
        "lower 4",
        "lower 3",
        "lower 2",
        "lower 1",
    ]
    by_target = {m.mount_point: m for m in stack.mounts}
    assert by_target["/data"].kind == "volume"
    assert by_target["/run/secrets"].read_only and by_target["/run/secrets"].kind == "tmpfs"
    assert by_target["/etc/hosts"].kind == "bind"


def test_explicit_container_id_when_mount_record_is_gone(tmp_path: Path) -> None:
    fake = build_docker_root(tmp_path, IMAGE, history=HISTORY)
    shutil.rmtree(fake.data / "image/overlay2/layerdb/mounts")
    # Without an id nothing names the image: layers still map through cache-id → chainID.
    stack = read_stack(fake.root, fake.pid, None)
    assert stack.container_id is None
    assert [layer.chain_id for layer in stack.lowers] == list(reversed(fake.chains))
    assert all(layer.instruction is None for layer in stack.lowers)
    # With the id, config.v2.json names the image and the history lines up again.
    stack = read_stack(fake.root, fake.pid, fake.container_id)
    assert stack.image_id == fake.image_id
    assert stack.lowers[-1].instruction == "Imported from -"
    assert any("mount record" in w for w in stack.warnings)


def test_squashed_image_history_mismatch_is_unknown(tmp_path: Path) -> None:
    # A squashed image: one history entry with a layer for four layers.
    history = [{"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c squashed"}]
    fake = build_docker_root(tmp_path, IMAGE, history=history)
    stack = read_stack(fake.root, fake.pid, None)
    assert [layer.instruction for layer in stack.lowers] == [None] * 4
    assert [layer.created_by for layer in stack.lowers] == [None] * 4
    assert [layer.chain_id for layer in stack.lowers] == list(reversed(fake.chains))
    assert stack.lowers[0].size == 1000
    assert any("instructions unknown" in w for w in stack.warnings)


def test_missing_layerdb_still_shows_the_stack(tmp_path: Path) -> None:
    fake = build_docker_root(tmp_path, IMAGE)
    shutil.rmtree(fake.data / "image")
    stack = read_stack(fake.root, fake.pid, fake.container_id)
    assert stack.runtime == "docker"
    assert len(stack.lowers) == 4 and stack.init is not None
    assert all(layer.instruction is None and layer.size is None for layer in stack.lowers)
    assert stack.lowers[0].path == fake.host(fake.layer(3))
    assert any("no Docker layer metadata" in w for w in stack.warnings)


def test_missing_image_config(tmp_path: Path) -> None:
    fake = build_docker_root(tmp_path, IMAGE, history=HISTORY)
    shutil.rmtree(fake.data / "image/overlay2/imagedb")
    stack = read_stack(fake.root, fake.pid, None)
    assert stack.image_id == fake.image_id
    assert stack.lowers[0].size == 1000
    assert all(layer.instruction is None for layer in stack.lowers)
    assert any("image config" in w for w in stack.warnings)


def test_relative_lowerdirs_resolve_against_overlay2(tmp_path: Path) -> None:
    fake = build_docker_root(tmp_path, IMAGE, history=HISTORY, relative=True)
    stack = read_stack(fake.root, fake.pid, None)
    assert stack.upper is not None and stack.upper.path == fake.host(fake.upper)
    assert stack.upper.mount_path == f"{fake.mount_id}/diff"
    assert [layer.path for layer in stack.lowers] == [
        fake.host(fake.layer(i)) for i in reversed(range(4))
    ]
    assert stack.lowers[0].instruction == "RUN dd if=/dev/zero of=/app/blob"


def test_link_symlink_is_read_not_followed(tmp_path: Path) -> None:
    # An l/ link pointing out of the HostRoot must be mapped into it, not followed on the host.
    overlay2 = tmp_path / "var/lib/docker/overlay2"
    (overlay2 / "l").mkdir(parents=True)
    (overlay2 / "abc/diff").mkdir(parents=True)
    os.symlink("../abc/diff", overlay2 / "l/REL")
    os.symlink("/etc", overlay2 / "l/ABS")
    root = HostRoot.at(tmp_path)
    assert resolve_layer_path(root, "/var/lib/docker/overlay2/l/REL") == (
        "/var/lib/docker/overlay2/abc/diff",
        True,
    )
    # /etc inside the fake root does not exist: the host's /etc was not used.
    assert resolve_layer_path(root, "/var/lib/docker/overlay2/l/ABS") == ("/etc", False)


def test_containerd_stack_without_metadata(tmp_path: Path) -> None:
    base = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots"
    for n in (1, 7, 12, 31):
        (tmp_path / base.lstrip("/") / str(n) / "fs").mkdir(parents=True)
    root = write_mountinfo(
        tmp_path,
        77,
        f"900 880 0:90 / / rw,relatime - overlay overlay rw,lowerdir={base}/12/fs:{base}/7/fs:"
        f"{base}/1/fs,upperdir={base}/31/fs,workdir={base}/31/work\n",
    )
    stack = read_stack(root, 77, None)
    assert stack.runtime == "containerd"
    assert stack.init is None
    assert [(layer.label, layer.layer_id) for layer in stack.lowers] == [
        ("lower 3", "12"),
        ("lower 2", "7"),
        ("lower 1", "1"),
    ]
    assert all(layer.instruction is None and layer.exists for layer in stack.lowers)
    assert stack.upper is not None and stack.upper.layer_id == "31"


def test_containerd_compacted_relative_paths(tmp_path: Path) -> None:
    base = tmp_path / "var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots"
    for n in (1, 2):
        (base / str(n) / "fs").mkdir(parents=True)
    root = write_mountinfo(
        tmp_path, 78, "900 880 0:90 / / rw - overlay overlay rw,lowerdir=2/fs:1/fs\n"
    )
    stack = read_stack(root, 78, None)
    assert stack.upper is None  # a read-only overlay
    assert [layer.path for layer in stack.lowers] == [
        "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs",
        "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs",
    ]
    assert stack.runtime == "containerd"


def test_podman_links_resolve(tmp_path: Path) -> None:
    storage = tmp_path / "var/lib/containers/storage/overlay"
    (storage / "l").mkdir(parents=True)
    for layer_id, link in (("base1", "PB"), ("ctr9", "PC")):
        (storage / layer_id / "diff").mkdir(parents=True)
        os.symlink(f"../{layer_id}/diff", storage / "l" / link)
    prefix = "/var/lib/containers/storage/overlay"
    root = write_mountinfo(
        tmp_path,
        79,
        f"900 880 0:90 / / rw - overlay overlay rw,lowerdir={prefix}/l/PB,"
        f"upperdir={prefix}/ctr9/diff,workdir={prefix}/ctr9/work\n",
    )
    stack = read_stack(root, 79, None)
    assert stack.runtime == "podman"
    assert [layer.path for layer in stack.lowers] == [f"{prefix}/base1/diff"]
    assert stack.lowers[0].instruction is None and stack.lowers[0].layer_id == "base1"


def test_captured_v2_host_without_docker_dirs(tmp_path: Path) -> None:
    root = write_mountinfo(
        tmp_path, 822, (FIXTURES / "cgroup-v2-systemd-822-mountinfo").read_text()
    )
    stack = read_stack(
        root, 822, "d89ef6da903ab9e80ab773ffad6eb38d24832a7a06551e4817552ce19ffd7008"
    )
    # The layer dirs are not in this capture: shown from mountinfo, flagged missing, no crash.
    assert len(stack.lowers) == 2 and stack.init is None
    assert all(not layer.exists for layer in stack.layers)
    assert stack.lowers[0].mount_path.endswith("l/ZILNI74WFPVB6QT4VBIFTAJNCL")
    assert len(stack.mounts) == 20
    assert any("not found on disk" in w for w in stack.warnings)


def test_not_an_overlay_root(tmp_path: Path) -> None:
    root = write_mountinfo(tmp_path, 5, "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n")
    stack = read_stack(root, 5, None)
    assert stack.overlay is None and stack.layers == ()
    assert "not overlay" in stack.warnings[0]


def test_vanished_process_is_gone(tmp_path: Path) -> None:
    with pytest.raises(Gone):
        read_stack(HostRoot.at(tmp_path), 999, None)


def test_parse_image_config_tolerates_junk() -> None:
    config = parse_image_config(
        "sha256:" + "0" * 64, {"history": [1, {"created_by": 5}], "rootfs": []}
    )
    assert config is not None and config.diff_ids == () and len(config.history) == 1
    assert parse_image_config("sha256:" + "0" * 64, []) is None
    assert json.loads(json.dumps({"ok": True}))
