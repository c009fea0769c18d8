"""Container-layer changes from upper/lower directories built in tmp_path.

Whiteouts are real char devices 0:0 and opaque dirs carry trusted.overlay.opaque=y (the
tests run as root, as the live Docker tests do). Expected results follow moby's naive diff,
which is what `docker diff` runs on overlay2 in Docker 20.10 (see ctop_py/layers/changes.py).
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from ctop_py.host import Gone
from ctop_py.layers import ChangeKind, Changes, FileType, diff_dirs
from ctop_py.mounts import fsencode
from tests.test_layers_support import DIR, FIFO, OPAQUE, WHITEOUT, Layout, populate

BASE: Layout = {
    "bin/sh": b"sh",
    "bin/vi": b"vi",
    "app/old": b"old",
    "root": DIR,
    "data/a": b"a",
    "data/sub/b": b"b",
    "lib/x": b"x",
    "lib2/y": b"y",
    "f2d": b"file",
    "d2f/inner": b"i",
    "hid/one": b"1",
    "quiet/keep": b"keep",
}
MIDDLE: Layout = {"app/hello.txt": b"hello\n", "hid": OPAQUE, "hid/two": b"2", "bin/sh": WHITEOUT}
INIT: Layout = {"etc/hosts": b"", "etc/resolv.conf": b""}


def lowers(tmp: Path, layouts: Sequence[Layout]) -> list[Path]:
    """Create lower layers (bottom first); return them top first, as overlay lists them."""
    out = []
    for i, layout in enumerate(layouts):
        populate(tmp / f"lower{i}", layout)
        out.append(tmp / f"lower{i}")
    return list(reversed(out))


def copy_up(lower: Path, upper: Path, rel: str) -> Path:
    """What overlay's copy-up leaves: same content, mode, owner and mtime."""
    target = upper / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(lower / rel, target)
    return target


def kinds(changes: Changes) -> set[tuple[str, str]]:
    return {(c.path, c.kind.letter) for c in changes.changes}


def test_upper_against_lowers_matches_docker_rules(tmp_path: Path) -> None:
    below = lowers(tmp_path, [BASE, MIDDLE, INIT])
    upper = tmp_path / "upper"
    populate(
        upper,
        {
            "new": b"new!",
            "newdir": OPAQUE,  # overlay marks new directories opaque too
            "newdir/sub/f": b"f",
            "app/hello.txt": b"hello\nmore\n",
            "bin/vi": WHITEOUT,
            "data": OPAQUE,  # rm -rf /data && mkdir /data
            "data/n": b"n",
            "root": WHITEOUT,  # mv /root /root2 without redirect_dir: copy + whiteout
            "root2": DIR,
            "f2d": OPAQUE,  # a file replaced by a directory
            "f2d/c": b"c",
            "d2f": b"now a file",  # a directory replaced by a file
            "hid/one": b"again",  # hid/one of the base is hidden by the opaque middle hid
            "ghost": WHITEOUT,  # deletes nothing that exists below
            "etc/hosts": WHITEOUT,  # the init layer is part of the old view
            "lib2": ("link", "/"),  # a symlink where a directory was: never followed
            "fifo": FIFO,
            "quiet": DIR,
        },
    )
    copy_up(tmp_path / "lower0", upper, "quiet/keep")  # chown to the same owner: no change
    (upper / "lib").mkdir(mode=0o700)  # chmod 700 /lib
    os.chmod(upper / "lib", 0o700)
    (upper / os.fsdecode(b"bad\xff")).write_bytes(b"?")

    changes = diff_dirs(upper, below)
    assert kinds(changes) == {
        ("/new", "A"),
        ("/newdir", "A"),
        ("/newdir/sub", "A"),
        ("/newdir/sub/f", "A"),
        ("/app", "C"),
        ("/app/hello.txt", "C"),
        ("/bin", "C"),
        ("/bin/vi", "D"),
        ("/data", "C"),
        ("/data/n", "A"),
        ("/data/a", "D"),
        ("/data/sub", "D"),
        ("/root", "D"),
        ("/root2", "A"),
        ("/f2d", "C"),
        ("/f2d/c", "A"),
        ("/d2f", "C"),
        ("/hid", "C"),
        ("/hid/one", "A"),
        ("/etc", "C"),
        ("/etc/hosts", "D"),
        ("/lib", "C"),
        ("/lib2", "C"),
        ("/fifo", "A"),
        ("/bad\udcff", "A"),
    }
    assert changes.skipped == () and not changes.truncated
    assert len(changes.changes) == len(kinds(changes))  # each path once
    by_path = {c.path: c for c in changes.changes}
    assert fsencode(by_path["/bad\udcff"].path) == b"/bad\xff"
    assert by_path["/new"].size == 4 and by_path["/new"].file_type is FileType.FILE
    assert by_path["/newdir"].size is None and by_path["/newdir"].file_type is FileType.DIR
    assert by_path["/data/sub"].file_type is FileType.DIR  # what was deleted
    assert by_path["/lib2"].file_type is FileType.SYMLINK
    assert by_path["/fifo"].file_type is FileType.FIFO
    assert (changes.added, changes.modified, changes.deleted) == (10, 10, 5)
    # Sorted by path components, like a tree listing.
    paths = [c.path for c in changes.changes]
    assert paths == sorted(paths, key=lambda p: fsencode(p).split(b"/"))


def test_whiteout_in_a_lower_layer_makes_recreation_an_add(tmp_path: Path) -> None:
    # The middle layer deleted /bin/sh; the container creates it again: A, not C.
    below = lowers(tmp_path, [BASE, MIDDLE])
    upper = tmp_path / "upper"
    populate(upper, {"bin/sh": b"mine"})
    assert kinds(diff_dirs(upper, below)) == {("/bin/sh", "A"), ("/bin", "C")}


def test_metadata_comparison_rules(tmp_path: Path) -> None:
    below = lowers(tmp_path, [{"t/same_sec": b"x", "t/mtime": b"x", "t/cap": b"x", "t/size": b"x"}])
    lower = below[0]
    os.utime(lower / "t/same_sec", ns=(0, 1_700_000_000_000_000_000))  # nanoseconds 0
    os.utime(lower / "t/mtime", ns=(0, 1_700_000_000_000_000_001))
    upper = tmp_path / "upper"
    for rel in ("t/same_sec", "t/mtime", "t/cap", "t/size"):
        copy_up(lower, upper, rel)
    # Same second, one side with 0 ns: equal for moby (tar loses sub-second times).
    os.utime(upper / "t/same_sec", ns=(0, 1_700_000_000_123_456_789))
    os.utime(upper / "t/mtime", ns=(0, 1_700_000_000_000_000_002))
    cap = struct.pack("<IIIII", 0x02000000, 1 << 10, 0, 0, 0)  # cap_net_bind_service+p
    os.setxattr(upper / "t/cap", "security.capability", cap)
    st = os.stat(upper / "t/size")
    (upper / "t/size").write_bytes(b"xy")
    os.utime(upper / "t/size", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert kinds(diff_dirs(upper, below)) == {
        ("/t", "C"),
        ("/t/mtime", "C"),
        ("/t/cap", "C"),
        ("/t/size", "C"),
    }


def test_redirected_directory_is_flagged(tmp_path: Path) -> None:
    # With redirect_dir=on a renamed directory points at its old lower path; not followed.
    below = lowers(tmp_path, [{"old/f": b"f"}])
    upper = tmp_path / "upper"
    populate(upper, {"old": WHITEOUT, "moved/new": b"n"})
    os.setxattr(upper / "moved", "trusted.overlay.redirect", b"old")
    changes = diff_dirs(upper, below)
    assert ("/old", "D") in kinds(changes)
    assert [s.path for s in changes.skipped] == ["/moved"]
    assert "redirect" in changes.skipped[0].reason


def test_upper_size_counts_hard_links_once(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    populate(upper, {"a": b"12345", "d/b": b"123"})
    os.link(upper / "a", upper / "d/hard")
    changes = diff_dirs(upper, [])
    assert changes.upper_size == 8
    assert kinds(changes) == {("/a", "A"), ("/d", "A"), ("/d/b", "A"), ("/d/hard", "A")}


def test_bounded_and_cancellable(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    populate(upper, {f"f{i:04d}": b"x" for i in range(600)})
    limited = diff_dirs(upper, [], max_changes=10)
    assert limited.truncated and len(limited.changes) == 10
    seen: list[int] = []

    def stop_at_512(count: int, where: str) -> bool:
        seen.append(count)
        assert where.startswith("/f")
        return count < 512

    stopped = diff_dirs(upper, [], progress=stop_at_512)
    assert stopped.truncated and seen == [256, 512]
    assert len(stopped.changes) == 511


def test_deep_tree_is_walked_without_recursion(tmp_path: Path) -> None:
    # Deeper than Python's default recursion limit; a container can make this.
    depth = 1200
    (tmp_path / "upper").mkdir()
    (tmp_path / "lower").mkdir()
    fds = [os.open(tmp_path / "upper", os.O_RDONLY)]
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fds[-1])
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        changes = diff_dirs(tmp_path / "upper", [tmp_path / "lower"])
        assert changes.added + len(changes.skipped) >= depth
        assert changes.changes[0].path == "/d"
    finally:
        # shutil.rmtree (and so pytest's tmp cleanup) recurses per level: remove it here.
        for level in range(len(fds) - 1, 0, -1):
            os.close(fds[level])
            os.rmdir("d", dir_fd=fds[level - 1])
        os.close(fds[0])


def test_missing_upper_is_gone(tmp_path: Path) -> None:
    with pytest.raises(Gone):
        diff_dirs(tmp_path / "nope", [])


def test_unreadable_directory_is_skipped_not_raised() -> None:
    # Root reads everything, so drop to nobody for the walk; the tree lives outside tmp_path
    # (whose parents are 0700) in a directory nobody may enter.
    top = Path(tempfile.mkdtemp(prefix="ctop-layers-"))
    try:
        os.chmod(top, 0o755)
        populate(top / "upper", {"open/f": b"x", "closed/secret": b"s"})
        os.chmod(top / "upper", 0o755)
        os.chmod(top / "upper/open", 0o755)
        os.chmod(top / "upper/closed", 0o700)
        os.seteuid(65534)
        try:
            changes = diff_dirs(top / "upper", [])
        finally:
            os.seteuid(0)
        assert ("/open/f", "A") in kinds(changes)
        assert [s.path for s in changes.skipped] == ["/closed"]
        assert "EACCES" in changes.skipped[0].reason
    finally:
        shutil.rmtree(top)


def test_change_kind_numbers_match_docker_api() -> None:
    assert [k.value for k in (ChangeKind.MODIFIED, ChangeKind.ADDED, ChangeKind.DELETED)] == [
        0,
        1,
        2,
    ]
    assert [k.letter for k in ChangeKind] == ["C", "A", "D"]
