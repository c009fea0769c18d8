"""mountinfo and overlay option parsing, on literal text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ctop_py.host import Gone, HostRoot, Malformed
from ctop_py.mounts import (
    fsencode,
    parse_mountinfo,
    parse_overlay_options,
    read_mountinfo,
    root_mount,
    split_lowerdir,
    unescape_octal,
)
from tests.conftest import wait_for

FIXTURES = Path(__file__).parent / "fixtures" / "layers"

# runtime-reference.md §4.1, verbatim (the reference shortens ids with "…").
REFERENCE_LINE = (
    "75 51 0:39 / / rw,relatime master:2 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/"
    "l/WVACMATLO6FKB4DHPYOSURSUZC:/var/lib/docker/overlay2/l/S7IC6NBL7FKV2WBVSGCJGSR34L:…:"
    "/var/lib/docker/overlay2/l/QUPZEL2JXJDUABOGBQOIYO43X3,upperdir=/var/lib/docker/overlay2/"
    "77ce5a…b709/diff,workdir=/var/lib/docker/overlay2/77ce5a…b709/work"
)


def test_reference_docker_line() -> None:
    (mount,) = parse_mountinfo(REFERENCE_LINE.encode())
    assert (mount.mount_id, mount.parent_id, mount.major, mount.minor) == (75, 51, 0, 39)
    assert mount.mount_point == "/" and mount.root == "/"
    assert mount.optional_fields == ("master:2",)
    assert mount.fstype == "overlay" and mount.source == "overlay"
    assert not mount.read_only and mount.kind == "overlay"
    overlay = parse_overlay_options(mount.super_options)
    assert overlay.lowerdirs == (
        "/var/lib/docker/overlay2/l/WVACMATLO6FKB4DHPYOSURSUZC",
        "/var/lib/docker/overlay2/l/S7IC6NBL7FKV2WBVSGCJGSR34L",
        "…",
        "/var/lib/docker/overlay2/l/QUPZEL2JXJDUABOGBQOIYO43X3",
    )
    assert overlay.upperdir == "/var/lib/docker/overlay2/77ce5a…b709/diff"
    assert overlay.workdir == "/var/lib/docker/overlay2/77ce5a…b709/work"
    assert overlay.other == ("rw",)
    assert overlay.datadirs == () and not overlay.new_api
    assert overlay.xattr_prefix == "trusted.overlay."


def test_new_api_lowerdir_plus_form() -> None:
    # §4.2: fsconfig mounts print one lowerdir+= per layer, colons literal, commas as \054.
    line = (
        rb"120 30 0:77 / /x/m rw,relatime - overlay none rw,lowerdir+=/x/l\0401,"
        rb"lowerdir+=/x/l\0542,lowerdir+=/x/l:3,datadir+=/x/d\1344,upperdir=/x/u,"
        rb"workdir=/x/w,uuid=on"
    )
    (mount,) = parse_mountinfo(line)
    assert mount.source == "none"
    overlay = parse_overlay_options(mount.super_options)
    assert overlay.new_api
    assert overlay.lowerdirs == ("/x/l 1", "/x/l,2", "/x/l:3")
    # lowerdir+/datadir+ paths are not backslash-unescaped by the kernel: kept verbatim.
    assert overlay.datadirs == ("/x/d\\4",)
    assert (overlay.upperdir, overlay.workdir) == ("/x/u", "/x/w")
    assert overlay.other == ("rw", "uuid=on")


def test_legacy_escapes_space_colon_comma() -> None:
    # mount(2) with lowerdir=/x/l 1:/x/l\:3:/x/a\,b → the kernel prints the user string with
    # ' ' → \040, '\' → \134, ',' → \054.
    line = (
        rb"121 30 0:78 / /mnt/with\040space rw - overlay overlay "
        rb"rw,lowerdir=/x/l\0401:/x/l\134:3:/x/a\134\054b,upperdir=/x/u\040p,workdir=/x/w"
    )
    (mount,) = parse_mountinfo(line)
    assert mount.mount_point == "/mnt/with space"
    overlay = parse_overlay_options(mount.super_options)
    assert overlay.lowerdirs == ("/x/l 1", "/x/l:3", "/x/a,b")
    assert overlay.upperdir == "/x/u p"


def test_data_only_layers_after_double_colon() -> None:
    assert split_lowerdir("/l1:/l2::/do1::/do2") == (("/l1", "/l2"), ("/do1", "/do2"))
    # An escaped backslash does not escape the colon after it.
    assert split_lowerdir(r"/a\\:/b") == (("/a\\", "/b"), ())
    assert split_lowerdir("/only") == (("/only",), ())


def test_relative_lowerdirs_are_kept_relative() -> None:
    line = (
        b"75 51 0:39 / / rw,relatime - overlay overlay rw,lowerdir=l/AAAA:l/BBBB,"
        b"upperdir=0123/diff,workdir=0123/work"
    )
    overlay = parse_overlay_options(parse_mountinfo(line)[0].super_options)
    assert overlay.lowerdirs == ("l/AAAA", "l/BBBB")
    assert overlay.upperdir == "0123/diff"


def test_containerd_snapshot_stack() -> None:
    base = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots"
    line = (
        f"900 880 0:90 / / rw,relatime - overlay overlay rw,lowerdir={base}/12/fs:{base}/7/fs:"
        f"{base}/1/fs,upperdir={base}/31/fs,workdir={base}/31/work,index=off"
    )
    overlay = parse_overlay_options(parse_mountinfo(line.encode())[0].super_options)
    assert overlay.lowerdirs == (f"{base}/12/fs", f"{base}/7/fs", f"{base}/1/fs")
    assert overlay.upperdir == f"{base}/31/fs"
    assert "index=off" in overlay.other


def test_userxattr_switches_xattr_namespace() -> None:
    overlay = parse_overlay_options(("rw", "lowerdir=/a", "userxattr"))
    assert overlay.xattr_prefix == "user.overlay."


def test_captured_cgroup_v2_container() -> None:
    path = FIXTURES / "cgroup-v2-systemd-822-mountinfo"
    mounts = parse_mountinfo(path.read_bytes(), str(path))
    assert len(mounts) == 21
    top = root_mount(mounts)
    assert top is not None and top.fstype == "overlay"
    overlay = parse_overlay_options(top.super_options)
    assert overlay.lowerdirs == (
        "/var/lib/docker/overlay2/l/ZILNI74WFPVB6QT4VBIFTAJNCL",
        "/var/lib/docker/overlay2/l/Y7T2ASJLWFJSUDLTHKPRWFNZTZ",
    )
    assert overlay.upperdir == (
        "/var/lib/docker/overlay2/"
        "29d4b3aa02aba63d2cdd9940468ae0fa1dcabae024abed65b22832494af4a547/diff"
    )
    by_target = {m.mount_point: m for m in mounts}
    cgroup = by_target["/sys/fs/cgroup"]
    assert cgroup.fstype == "cgroup2" and cgroup.read_only
    assert cgroup.root.startswith("/system.slice/docker-d89ef6da903a")
    assert cgroup.super_options == ("rw", "nsdelegate", "memory_recursiveprot")
    resolv = by_target["/etc/resolv.conf"]
    assert resolv.kind == "bind" and resolv.root.endswith("/resolv.conf")
    assert by_target["/proc/kcore"].root == "/null"
    assert by_target["/dev/shm"].kind == "tmpfs" and by_target["/proc"].kind == "pseudo"


def test_octal_escapes_in_path_fields_and_raw_bytes_kept() -> None:
    line = b"50 1 8:1 /src\\011tab /mnt/new\\012line\\134x\xff rw - ext4 /dev/sd\\040a rw"
    (mount,) = parse_mountinfo(line)
    assert mount.root == "/src\ttab"
    assert fsencode(mount.mount_point) == b"/mnt/new\nline\\x\xff"
    assert mount.source == "/dev/sd a"
    assert mount.kind == "bind"
    assert unescape_octal(b"a\\040b\\") == b"a b\\"


def test_volume_and_optional_fields() -> None:
    line = (
        b"93 75 254:0 /var/lib/docker/volumes/data/_data /data rw,relatime shared:5 master:1 "
        b"- ext4 /dev/vda rw\n"
    )
    (mount,) = parse_mountinfo(line)
    assert mount.optional_fields == ("shared:5", "master:1")
    assert mount.kind == "volume"


def test_malformed_names_the_file() -> None:
    with pytest.raises(Malformed, match="fake/mountinfo: line 2"):
        parse_mountinfo(b"1 0 0:1 / / rw - ext4 /dev/x rw\n2 1 0:2 / /y rw\n", "fake/mountinfo")
    with pytest.raises(Malformed, match="mount id"):
        parse_mountinfo(b"x 0 0:1 / / rw - ext4 /dev/x rw\n")


def test_missing_process_is_gone(tmp_path: Path) -> None:
    with pytest.raises(Gone):
        read_mountinfo(HostRoot.at(tmp_path), 123)


def test_zombie_mountinfo_is_gone() -> None:
    # A zombie's /proc/PID/mountinfo fails with EINVAL (runtime-reference §8.1).
    child = subprocess.Popen(["true"])
    try:

        def zombie() -> bool:
            return Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"

        wait_for(zombie, 5, "the child to become a zombie", interval=0.01)
        with pytest.raises(Gone, match="mountinfo"):
            read_mountinfo(HostRoot(), child.pid)
    finally:
        child.wait()
