"""Provenance and per-layer listings on a fake Docker root (whiteouts and opaque dirs real)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from ctop_py.layers import (
    FileType,
    LayerHit,
    MountStack,
    list_layer,
    list_merged,
    provenance,
    read_stack,
    walk_layer,
)
from ctop_py.layers.listing import list_dir, walk_dir
from ctop_py.mounts import fsencode
from tests.test_layers_support import (
    DIR,
    OPAQUE,
    WHITEOUT,
    FakeDocker,
    Layout,
    build_docker_root,
)

IMAGE: list[Layout] = [
    {"bin/sh": b"busybox", "bin/ls": ("link", "sh"), "etc/passwd": b"root", "app/old": b"o"},
    {"app/hello.txt": b"hello\n", "etc/passwd": b"root\nbin\n"},
    {"app": OPAQUE, "app/new.txt": b"n", "etc/passwd": WHITEOUT, "var": DIR},
]
UPPER: Layout = {
    "app/hello.txt": b"mine",
    "bin/sh": WHITEOUT,
    "etc": OPAQUE,
    "etc/motd": b"hi",
    "escape": ("link", "/"),
    "big": DIR,
}


@pytest.fixture
def fake(tmp_path: Path) -> tuple[FakeDocker, MountStack]:
    fake = build_docker_root(tmp_path, IMAGE, upper=UPPER)
    for i in range(30):
        (fake.upper / "big" / f"f{i:02d}").write_bytes(b"x" * i)
    return fake, read_stack(fake.root, fake.pid, None)


def labels(hits: Iterable[LayerHit]) -> list[tuple[str, str]]:
    return [(h.layer.label, h.state.value) for h in hits]


def test_file_from_upper_shadows_lower(fake: tuple[FakeDocker, MountStack]) -> None:
    docker, stack = fake
    found = provenance(docker.root, stack, "/app/hello.txt")
    assert found.exists and found.file_type is FileType.FILE
    assert found.provider is not None and found.provider.layer.label == "upper"
    # lower 2's hello.txt sits under lower 3's opaque /app: shadowed either way.
    assert labels(found.hits) == [("upper", "provides"), ("lower 2", "shadowed")]
    assert found.shadowed[0].size == 6


def test_opaque_directory_cuts_lower_entries(fake: tuple[FakeDocker, MountStack]) -> None:
    docker, stack = fake
    old = provenance(docker.root, stack, "/app/old")
    assert not old.exists
    assert old.hidden_by == "hidden: /app is opaque in lower 3"
    app = provenance(docker.root, stack, "/app/")
    assert app.path == "/app" and app.file_type is FileType.DIR
    assert labels(app.merged_from) == [("upper", "provides"), ("lower 3", "merged")]
    assert [h.layer.label for h in app.shadowed] == ["lower 2", "lower 1"]
    assert app.hits[1].opaque


def test_whiteout_and_lower_whiteout(fake: tuple[FakeDocker, MountStack]) -> None:
    docker, stack = fake
    sh = provenance(docker.root, stack, "/bin/sh")
    assert not sh.exists and sh.hidden_by == "/bin/sh is deleted (whiteout) in upper"
    assert labels(sh.hits) == [("upper", "whiteout"), ("lower 1", "shadowed")]
    # /etc is opaque in upper: passwd of lower 2 and the whiteout in lower 3 are both below.
    passwd = provenance(docker.root, stack, "/etc/passwd")
    assert not passwd.exists and passwd.hidden_by == "hidden: /etc is opaque in upper"
    assert [h.file_type for h in passwd.hits] == [FileType.WHITEOUT, FileType.FILE, FileType.FILE]


def test_init_layer_and_symlinks_not_followed(fake: tuple[FakeDocker, MountStack]) -> None:
    docker, stack = fake
    hosts = provenance(docker.root, stack, "/etc/hosts")
    # /etc in upper is opaque: the init layer's /etc/hosts is hidden from the merged view.
    assert not hosts.exists and labels(hosts.hits) == [("init", "shadowed")]
    ls = provenance(docker.root, stack, "/bin/ls")
    assert ls.provider is not None and ls.provider.symlink_target == "sh"
    escape = provenance(docker.root, stack, "/escape/etc/passwd")
    assert not escape.exists and escape.hits == ()
    assert escape.hidden_by == "/escape is a symlink in upper (→ /, not followed)"
    root = provenance(docker.root, stack, "/")
    assert root.exists and len(root.merged_from) == len(stack.layers)


def test_merged_listing_hides_whiteouts(fake: tuple[FakeDocker, MountStack]) -> None:
    docker, stack = fake
    listing = list_merged(docker.root, stack, "/bin")
    assert [(e.name, e.layer) for e in listing.entries] == [("ls", "lower 1")]
    assert listing.entries[0].symlink_target == "sh"
    app = list_merged(docker.root, stack, "/app")
    assert [(e.name, e.layer) for e in app.entries] == [
        ("hello.txt", "upper"),
        ("new.txt", "lower 3"),
    ]
    top = list_merged(docker.root, stack, "/")
    names = [e.name for e in top.entries]
    assert "escape" in names and "etc" in names and "proc" in names  # proc: init layer
    assert not list_merged(docker.root, stack, "/escape").exists


def test_layer_listing_shows_marks_and_is_bounded(fake: tuple[FakeDocker, MountStack]) -> None:
    docker, stack = fake
    assert stack.upper is not None
    top = list_layer(docker.root, stack, stack.upper, "/")
    types = {e.name: (e.file_type, e.opaque) for e in top.entries}
    assert types["bin"] == (FileType.DIR, False)
    assert types["etc"] == (FileType.DIR, True)
    assert types["escape"] == (FileType.SYMLINK, False)
    sh = list_layer(docker.root, stack, stack.upper, "/bin")
    assert [(e.name, e.file_type) for e in sh.entries] == [("sh", FileType.WHITEOUT)]
    big = list_layer(docker.root, stack, stack.upper, "/big", max_entries=10)
    assert big.truncated and big.total == 30 and len(big.entries) == 10
    assert [e.size for e in big.entries] == list(range(10))
    # Through a symlink: refused, not listed from the host.
    escaped = list_layer(docker.root, stack, stack.upper, "/escape/etc")
    assert not escaped.exists and escaped.entries == () and escaped.skipped


def test_walk_with_progress_and_bound(fake: tuple[FakeDocker, MountStack]) -> None:
    docker, stack = fake
    assert stack.upper is not None
    walk = walk_layer(docker.root, stack, stack.upper)
    assert not walk.truncated
    assert walk.files == 32 and walk.total_size == sum(range(30)) + 4 + 2
    assert [w.path for w in walk.entries][:3] == ["/app", "/app/hello.txt", "/big"]
    bounded = walk_layer(docker.root, stack, stack.upper, max_entries=5)
    assert bounded.truncated and len(bounded.entries) == 5


def test_walk_progress_can_stop(tmp_path: Path) -> None:
    for d in range(3):
        (tmp_path / f"d{d}").mkdir()
        for i in range(200):
            (tmp_path / f"d{d}" / f"f{i}").write_bytes(b"")
    calls: list[tuple[int, str]] = []

    def progress(count: int, where: str) -> bool:
        calls.append((count, where))
        return count < 512

    walk = walk_dir(tmp_path, progress=progress)
    assert walk.truncated and [c for c, _ in calls] == [256, 512]
    assert calls[0][1] == "/d1"  # 1 + 200 + 1 + 54: inside the second directory


def test_untrusted_names_kept_exact(tmp_path: Path) -> None:
    raw = b"evil\x1b]0;pwned\x07\xff"
    (tmp_path / os.fsdecode(raw)).write_bytes(b"")
    (tmp_path / "fifo").parent.mkdir(exist_ok=True)
    os.mkfifo(tmp_path / "fifo")  # listed, never opened (the test would hang)
    listing = list_dir(tmp_path)
    names = {fsencode(e.name) for e in listing.entries}
    assert names == {raw, b"fifo"}


def test_unreadable_layer_is_reported() -> None:
    top = Path(tempfile.mkdtemp(prefix="ctop-layers-"))
    try:
        os.chmod(top, 0o755)
        docker = build_docker_root(top, IMAGE, upper=UPPER)
        stack = read_stack(docker.root, docker.pid, None)
        os.chmod(docker.layer(1) / "app", 0o700)  # lower 2's /app: root only
        os.seteuid(65534)
        try:
            found = provenance(docker.root, stack, "/app/hello.txt")
        finally:
            os.seteuid(0)
        assert found.provider is not None and found.provider.layer.label == "upper"
        assert [s.path for s in found.skipped] == ["lower 2:/app"]
        assert "EACCES" in found.skipped[0].reason
    finally:
        shutil.rmtree(top)
