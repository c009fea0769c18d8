"""Layer changes and provenance value by value, on layers built in tmp_path (real whiteouts,
real opaque xattrs, real permissions: the tests run as root and drop to nobody where a read
must fail). Written for the mutation run (MUTATION.md): each test pins exact paths, kinds,
file types, states and messages that follow from the layout it builds.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ctop_py.host import Gone, HostRoot, NoAccess
from ctop_py.layers import Changes, FileType, compute_changes, diff_dirs, read_stack
from ctop_py.layers.provenance import HitState, layers_provenance
from ctop_py.layers.stack import Layer, LayerRole
from tests.test_layers_support import DIR, OPAQUE, WHITEOUT, Layout, build_docker_root, populate

NOBODY = 65534


def kinds(changes: Changes) -> list[tuple[str, str]]:
    return [(c.path, c.kind.letter) for c in changes.changes]


def layers_in(tmp: Path, layouts: list[Layout]) -> list[Path]:
    """Directories layer0, layer1, … (top first, as overlay lists them)."""
    out = []
    for i, layout in enumerate(layouts):
        populate(tmp / f"layer{i}", layout)
        out.append(tmp / f"layer{i}")
    return out


@pytest.fixture
def open_tree() -> Iterator[Path]:
    """A directory outside tmp_path (whose parents are 0700) that nobody may enter."""
    top = Path(tempfile.mkdtemp(prefix="ctop-values-"))
    os.chmod(top, 0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top)


def as_nobody(fn: Callable[..., Any], *args: object) -> Any:
    os.seteuid(NOBODY)
    try:
        return fn(*args)
    finally:
        os.seteuid(0)


# -- changes: comparison rules ------------------------------------------------------------


def test_owner_changes_are_told_one_by_one(tmp_path: Path) -> None:
    (lower,) = layers_in(tmp_path, [{"f/uid": b"x", "f/gid": b"x", "f/same": b"x"}])
    upper = tmp_path / "upper"
    populate(upper, {})
    shutil.copytree(lower / "f", upper / "f")
    for name in ("uid", "gid", "same"):
        shutil.copystat(lower / "f" / name, upper / "f" / name)
    os.chown(upper / "f/uid", 1000, -1)
    os.chown(upper / "f/gid", -1, 1000)
    assert kinds(diff_dirs(upper, [lower])) == [("/f", "C"), ("/f/gid", "C"), ("/f/uid", "C")]


def test_device_numbers_are_compared(tmp_path: Path) -> None:
    (lower,) = layers_in(tmp_path, [{}])
    os.mknod(lower / "tty", stat.S_IFCHR | 0o600, os.makedev(4, 1))
    os.mknod(lower / "same", stat.S_IFCHR | 0o600, os.makedev(4, 2))
    upper = tmp_path / "upper"
    upper.mkdir()
    os.mknod(upper / "tty", stat.S_IFCHR | 0o600, os.makedev(4, 5))
    os.mknod(upper / "same", stat.S_IFCHR | 0o600, os.makedev(4, 2))
    for name in ("tty", "same"):
        st = os.lstat(lower / name)
        os.utime(upper / name, ns=(st.st_atime_ns, st.st_mtime_ns))
    changes = diff_dirs(upper, [lower])
    assert kinds(changes) == [("/tty", "C")]
    assert changes.changes[0].file_type is FileType.CHAR and changes.changes[0].size == 0


def test_whole_second_times_on_either_side_are_equal(tmp_path: Path) -> None:
    (lower,) = layers_in(tmp_path, [{"a": b"x", "b": b"x", "c": b"x"}])
    upper = tmp_path / "upper"
    populate(upper, {"a": b"x", "b": b"x", "c": b"x"})
    second = 1_700_000_000 * 10**9
    os.utime(lower / "a", ns=(0, second + 5))  # upper has 0 ns: equal (moby's rule)
    os.utime(upper / "a", ns=(0, second))
    os.utime(lower / "b", ns=(0, second + 5))  # other nanoseconds: a change
    os.utime(upper / "b", ns=(0, second + 6))
    os.utime(lower / "c", ns=(0, second))  # another second: a change
    os.utime(upper / "c", ns=(0, second + 10**9))
    assert kinds(diff_dirs(upper, [lower])) == [("/b", "C"), ("/c", "C")]


def test_upper_size_counts_one_byte_files_and_skips_empty_ones(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    populate(upper, {"one": b"1", "empty": b"", "d/three": b"123"})
    changes = diff_dirs(upper, [])
    assert changes.upper_size == 4
    assert changes.truncated is False and changes.skipped == ()
    sizes = {c.path: (c.file_type, c.size) for c in changes.changes}
    assert sizes == {
        "/d": (FileType.DIR, None),
        "/d/three": (FileType.FILE, 3),
        "/empty": (FileType.FILE, 0),
        "/one": (FileType.FILE, 1),
    }


def test_changed_directories_are_told_up_to_the_top(tmp_path: Path) -> None:
    (lower,) = layers_in(tmp_path, [{"a/b/c/f": b"old", "a/b/c/g": b"g"}])
    upper = tmp_path / "upper"
    for rel in ("a", "a/b", "a/b/c"):
        (upper / rel).mkdir(parents=True)
        os.chmod(upper / rel, stat.S_IMODE(os.lstat(lower / rel).st_mode))
    (upper / "a/b/c/f").write_bytes(b"new!")
    changes = diff_dirs(upper, [lower])
    assert kinds(changes) == [("/a", "C"), ("/a/b", "C"), ("/a/b/c", "C"), ("/a/b/c/f", "C")]
    # The directories told C are directories, with no size.
    assert {(c.file_type, c.size) for c in changes.changes[:3]} == {(FileType.DIR, None)}


def test_deleted_entries_keep_their_old_type(tmp_path: Path) -> None:
    (lower,) = layers_in(tmp_path, [{"file": b"abc", "dir/x": b"x", "link": ("link", "/")}])
    upper = tmp_path / "upper"
    populate(upper, {"file": WHITEOUT, "dir": WHITEOUT, "link": WHITEOUT})
    changes = diff_dirs(upper, [lower])
    assert [(c.path, c.kind.letter, c.file_type, c.size) for c in changes.changes] == [
        ("/dir", "D", FileType.DIR, None),
        ("/file", "D", FileType.FILE, None),
        ("/link", "D", FileType.SYMLINK, None),
    ]


def test_opaque_directory_with_whiteouts_and_recreated_names(tmp_path: Path) -> None:
    (lower,) = layers_in(tmp_path, [{"data/a": b"a", "data/b": b"b", "data/c": b"c"}])
    upper = tmp_path / "upper"
    # rm -rf /data; mkdir /data; echo > /data/a — overlay may also leave a whiteout for b.
    populate(upper, {"data": OPAQUE, "data/a": b"new a", "data/b": WHITEOUT})
    assert kinds(diff_dirs(upper, [lower])) == [
        ("/data", "C"),
        ("/data/a", "C"),
        ("/data/b", "D"),
        ("/data/c", "D"),
    ]


def test_a_plain_directory_below_an_opaque_one_hides_the_lower_too(tmp_path: Path) -> None:
    # Lookup stops at the opaque /data: the lower /data/sub/b is not in the new view, even
    # though the upper's /data/sub itself carries no opaque mark.
    (lower,) = layers_in(tmp_path, [{"data/sub/b": b"b", "data/sub/c": b"c"}])
    upper = tmp_path / "upper"
    populate(upper, {"data": OPAQUE, "data/sub/c": b"c2"})
    assert kinds(diff_dirs(upper, [lower])) == [
        ("/data", "C"),
        ("/data/sub", "C"),
        ("/data/sub/b", "D"),
        ("/data/sub/c", "C"),
    ]


def test_every_name_of_every_lower_is_checked_under_an_opaque_directory(tmp_path: Path) -> None:
    names = {f"d/n{i:02d}": b"x" for i in range(20)}
    top, bottom = layers_in(
        tmp_path,
        [
            {"d/n05": b"again", "d/w": WHITEOUT, "d/gone": WHITEOUT},
            {**names, "d/w": b"w", "d/gone": b"g"},
        ],
    )
    only_top = {f"d/t{i:02d}": b"t" for i in range(20)}
    populate(top, only_top)  # names after the top's whiteouts are read too
    upper = tmp_path / "upper"
    populate(upper, {"d": OPAQUE})
    expected = [("/d", "C")] + [(f"/d/n{i:02d}", "D") for i in range(20)]
    expected += [(f"/d/t{i:02d}", "D") for i in range(20)]
    assert kinds(diff_dirs(upper, [top, bottom])) == expected


def test_whiteout_below_a_directory_ends_the_lookup(tmp_path: Path) -> None:
    top, bottom = layers_in(tmp_path, [{"d/k": b"k"}, {"d": WHITEOUT, "e/f": b"f"}])
    upper = tmp_path / "upper"
    populate(upper, {"d/new": b"n"})
    os.chmod(upper / "d", stat.S_IMODE(os.lstat(top / "d").st_mode))
    assert kinds(diff_dirs(upper, [top, bottom])) == [("/d", "C"), ("/d/new", "A")]


def test_redirected_directory_reason(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    populate(upper, {"moved/f": b"f"})
    os.setxattr(upper / "moved", "trusted.overlay.redirect", b"/old")
    changes = diff_dirs(upper, [])
    assert [(s.path, s.reason) for s in changes.skipped] == [
        ("/moved", "redirected directory (redirect_dir): lower contents not compared")
    ]


def test_a_stopped_walk_closes_every_directory(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    populate(upper, {f"a/b/c/f{i}": b"x" for i in range(5)})
    before = set(os.listdir("/proc/self/fd"))
    changes = diff_dirs(upper, [], max_changes=4)
    assert changes.truncated is True
    assert kinds(changes) == [("/a", "A"), ("/a/b", "A"), ("/a/b/c", "A"), ("/a/b/c/f0", "A")]
    assert set(os.listdir("/proc/self/fd")) == before


def test_unreadable_lower_entries_are_skipped_and_the_lookup_goes_on(open_tree: Path) -> None:
    top, bottom = layers_in(
        open_tree,
        [{"x/f": b"top", "y/g": b"g"}, {"x/f": b"bottom", "x/wh": b"w", "y/h": b"h"}],
    )
    os.chmod(top / "x", 0o700)  # nobody cannot look into the top layer's /x
    upper = open_tree / "upper"
    populate(upper, {"x/f": b"changed", "x/wh": WHITEOUT, "y": DIR})
    # nobody cannot read trusted.* xattrs: mark /y opaque the rootless way (userxattr)
    os.setxattr(upper / "y", "user.overlay.opaque", b"y")
    os.chmod(top / "y", 0o700)  # nor list its /y
    for d in (upper, upper / "x", upper / "y", top, bottom, bottom / "x", bottom / "y"):
        os.chmod(d, 0o755)
    walk = functools.partial(diff_dirs, xattr_prefix="user.overlay.")
    changes: Changes = as_nobody(walk, upper, [top, bottom])
    # What the top layer hides from nobody is looked up in the bottom one: /x/f is C, not A,
    # and the bottom's /x/wh and /y/h are deleted; the top's /y/g cannot be listed.
    assert kinds(changes) == [
        ("/x", "C"),
        ("/x/f", "C"),
        ("/x/wh", "D"),
        ("/y", "C"),
        ("/y/h", "D"),
    ]
    denied = "Permission denied (EACCES)"
    assert [(s.path, s.reason) for s in changes.skipped] == [
        ("/x/f", denied),
        ("/x/wh", denied),
        ("/y", denied),
        ("/y/h", denied),
    ]


# -- compute_changes: the stack's layers ------------------------------------------------


def test_compute_changes_diffs_the_upper_against_init_and_image_layers(tmp_path: Path) -> None:
    fake = build_docker_root(
        tmp_path,
        [{"bin/sh": b"sh", "etc/os": b"debian"}, {"app/a": b"a"}],
        upper={"app/b": b"bb", "bin/sh": WHITEOUT, "etc/hosts": WHITEOUT, "tmp": OPAQUE},
        init={"etc/hosts": b"", "tmp/x": b"x"},
    )
    stack = read_stack(fake.root, fake.pid, None)
    changes = compute_changes(fake.root, stack)
    assert kinds(changes) == [
        ("/app", "C"),
        ("/app/b", "A"),
        ("/bin", "C"),
        ("/bin/sh", "D"),
        ("/etc", "C"),
        ("/etc/hosts", "D"),
        ("/tmp", "C"),
        ("/tmp/x", "D"),
    ]
    assert changes.upper_size == 2 and changes.skipped == () and changes.truncated is False
    # Bounds and progress are passed on.
    limited = compute_changes(fake.root, stack, max_changes=3)
    assert limited.truncated is True and len(limited.changes) == 3
    # A lower missing on disk is left out of the old view: what it held is not deleted.
    missing = replace(stack, lowers=tuple(replace(layer, exists=False) for layer in stack.lowers))
    assert kinds(compute_changes(fake.root, missing)) == [
        ("/app", "A"),
        ("/app/b", "A"),
        ("/bin", "A"),  # its whiteout deletes nothing that is left
        ("/etc", "C"),
        ("/etc/hosts", "D"),
        ("/tmp", "C"),
        ("/tmp/x", "D"),
    ]
    for n in range(300):
        (fake.upper / "app" / f"n{n:03d}").write_bytes(b"")
    seen: list[int] = []

    def stop_at_256(count: int, where: str) -> bool:
        seen.append(count)
        return count < 256

    stopped = compute_changes(fake.root, stack, progress=stop_at_256)
    # Entry 256 (/app is 1, /app/b 2, n000 3 …) stops the walk before it is compared, and
    # /app's own C would be told only when its directory was finished: 254 changes.
    assert seen == [256] and stopped.truncated is True and len(stopped.changes) == 254
    assert stopped.changes[-1].path == "/app/n252"


def test_compute_changes_uses_the_mounts_xattr_prefix(tmp_path: Path) -> None:
    fake = build_docker_root(tmp_path, [{"d/a": b"a"}], upper={"d/b": b"b"})
    os.setxattr(fake.upper / "d", "user.overlay.opaque", b"y")
    stack = read_stack(fake.root, fake.pid, None)
    assert stack.overlay is not None
    assert kinds(compute_changes(fake.root, stack)) == [("/d", "C"), ("/d/b", "A")]
    rootless = replace(stack, overlay=replace(stack.overlay, other=("userxattr",)))
    assert kinds(compute_changes(fake.root, rootless)) == [
        ("/d", "C"),
        ("/d/a", "D"),
        ("/d/b", "A"),
    ]


def test_compute_changes_without_an_upper_or_with_it_gone(tmp_path: Path) -> None:
    fake = build_docker_root(tmp_path, [{"a": b"a"}], upper={"f": b"f"})
    stack = read_stack(fake.root, fake.pid, None)
    assert compute_changes(fake.root, replace(stack, upper=None)) == Changes((), 0, (), False)
    assert stack.upper is not None
    shutil.rmtree(fake.upper)
    host_path = os.fsdecode(fake.root.path(stack.upper.path))
    with pytest.raises(Gone) as gone:
        compute_changes(fake.root, stack)  # known to exist when the stack was read
    assert (gone.value.path, gone.value.reason) == (host_path, "No such file or directory")
    gone_stack = replace(stack, upper=replace(stack.upper, exists=False))
    with pytest.raises(Gone) as gone:
        compute_changes(fake.root, gone_stack)
    assert (gone.value.path, gone.value.reason) == (
        host_path,
        "the container's upper directory is gone",
    )


def test_compute_changes_upper_not_reachable(open_tree: Path) -> None:
    fake = build_docker_root(open_tree, [{"a": b"a"}], upper={"f": b"f"})
    stack = read_stack(fake.root, fake.pid, None)
    assert stack.upper is not None
    hidden = replace(stack, upper=replace(stack.upper, exists=False))
    os.chmod(fake.upper.parent, 0o700)  # overlay2/<id>: nobody may not enter
    for d in fake.upper.parents:
        if d == open_tree:
            break
        if d != fake.upper.parent:
            os.chmod(d, 0o755)
    with pytest.raises(NoAccess) as denied:
        as_nobody(compute_changes, fake.root, hidden)
    assert (denied.value.path, denied.value.reason) == (
        os.fsdecode(fake.root.path(stack.upper.path)),
        "permission denied",
    )


# -- provenance -------------------------------------------------------------------------


def layer(tmp: Path, index: int, label_position: int | None = None) -> Layer:
    role = LayerRole.UPPER if label_position is None else LayerRole.LOWER
    path = f"/layer{index}"
    return Layer(role, label_position, path, path, role is not LayerRole.UPPER, True)


def stack_of(tmp: Path, layouts: list[Layout]) -> list[Layer]:
    """layer0 is the upper, then lower N … lower 1 (top first)."""
    layers_in(tmp, layouts)
    count = len(layouts) - 1
    return [layer(tmp, 0)] + [layer(tmp, i, count - i + 1) for i in range(1, len(layouts))]


def states(found: object) -> list[tuple[str, str]]:
    return [(h.layer.label, h.state.value) for h in found.hits]  # type: ignore[attr-defined]


def test_provenance_of_a_file_hit_by_hit(tmp_path: Path) -> None:
    layers = stack_of(tmp_path, [{"etc/motd": b"upper!"}, {"etc/motd": b"lower"}])
    found = layers_provenance(HostRoot.at(tmp_path), layers, "trusted.overlay.", "/etc//motd")
    assert found.path == "/etc/motd" and found.exists and found.file_type is FileType.FILE
    assert states(found) == [("upper", "provides"), ("lower 1", "shadowed")]
    top = found.hits[0]
    assert found.provider == top
    st = os.lstat(tmp_path / "layer0/etc/motd")
    assert (top.size, top.mode, top.symlink_target, top.opaque) == (6, st.st_mode, None, False)
    assert found.hidden_by is None and found.skipped == ()


def test_provenance_of_the_root(tmp_path: Path) -> None:
    layers = stack_of(tmp_path, [{"a": b"a"}, {"b": b"b"}, {"c": b"c"}])
    missing = Layer(LayerRole.LOWER, 9, "/nowhere", "/nowhere", True, True)
    layers.insert(1, missing)  # listed as present but not on disk: no hit
    found = layers_provenance(HostRoot.at(tmp_path), layers, "trusted.overlay.", "/")
    assert (found.path, found.exists, found.file_type) == ("/", True, FileType.DIR)
    assert states(found) == [("upper", "provides"), ("lower 2", "merged"), ("lower 1", "merged")]
    assert found.provider == found.hits[0] and found.provider.layer == layers[0]
    assert [h.opaque for h in found.hits] == [False, False, False]
    assert found.hidden_by is None
    nothing = layers_provenance(HostRoot.at(tmp_path), [missing], "trusted.overlay.", "/")
    assert (nothing.exists, nothing.provider, nothing.hits) == (False, None, ())


def test_provenance_non_directory_below_a_directory(tmp_path: Path) -> None:
    layers = stack_of(tmp_path, [{"a/x": b"x"}, {"a": b"file"}, {"a/b": b"b"}])
    root = HostRoot.at(tmp_path)
    a = layers_provenance(root, layers, "trusted.overlay.", "/a")
    assert states(a) == [("upper", "provides"), ("lower 2", "shadowed"), ("lower 1", "shadowed")]
    b = layers_provenance(root, layers, "trusted.overlay.", "/a/b")
    assert not b.exists and states(b) == [("lower 1", "shadowed")]
    assert b.hidden_by == "hidden: /a is a file in lower 2"


def test_provenance_whiteout_below_a_directory(tmp_path: Path) -> None:
    layers = stack_of(tmp_path, [{"a/x": b"x"}, {"a": WHITEOUT}, {"a/b": b"b"}])
    found = layers_provenance(HostRoot.at(tmp_path), layers, "trusted.overlay.", "/a/b")
    assert not found.exists
    assert found.hidden_by == "hidden: /a is deleted (whiteout) in lower 2"


def test_provenance_names_in_no_layer(tmp_path: Path) -> None:
    layers = stack_of(tmp_path, [{"a": OPAQUE}, {"a/b": b"b"}])
    root = HostRoot.at(tmp_path)
    nowhere = layers_provenance(root, layers, "trusted.overlay.", "/a/zzz")
    assert nowhere.hidden_by == "/a/zzz is in no layer" and nowhere.hits == ()
    top = layers_provenance(root, layers, "trusted.overlay.", "/zzz")
    assert top.hidden_by == "/zzz is in no layer"
    cut = layers_provenance(root, layers, "trusted.overlay.", "/a/b")
    assert cut.hidden_by == "hidden: /a is opaque in upper"


def test_provenance_unreadable_levels_are_skipped(open_tree: Path) -> None:
    layers = stack_of(open_tree, [{"a/b": b"b", "c/d": b"d"}, {"a/b": b"lower"}])
    root = HostRoot.at(open_tree)
    top = open_tree / "layer0"
    os.chmod(top / "a", 0o700)  # nobody cannot open the upper's /a
    os.chmod(top / "c", 0o744)  # nor stat inside its /c
    for d in (top, open_tree / "layer1", open_tree / "layer1/a"):
        os.chmod(d, 0o755)
    b = as_nobody(layers_provenance, root, layers, "trusted.overlay.", "/a/b")
    assert [(s.path, s.reason) for s in b.skipped] == [("upper:/a", "Permission denied (EACCES)")]
    # The upper's /a is still known to be a directory (not opaque): lower 1's /a/b shows.
    assert b.exists and states(b) == [("lower 1", "provides")]
    a = as_nobody(layers_provenance, root, layers, "trusted.overlay.", "/a")
    assert [h.opaque for h in a.hits] == [False, False]
    assert states(a) == [("upper", "provides"), ("lower 1", "merged")]
    d = as_nobody(layers_provenance, root, layers, "trusted.overlay.", "/c/d")
    assert [(s.path, s.reason) for s in d.skipped] == [("upper:/c/d", "Permission denied (EACCES)")]
    # Failures below the path's first level name the level that failed, not the path.
    deep = as_nobody(layers_provenance, root, layers, "trusted.overlay.", "/c/d/e/f")
    assert [s.path for s in deep.skipped] == ["upper:/c/d"]
    deep = as_nobody(layers_provenance, root, layers, "trusted.overlay.", "/a/b/c")
    assert [s.path for s in deep.skipped] == ["upper:/a"]
    os.chmod(open_tree, 0o700)  # and a layer whose top directory nobody may open
    try:
        top_gone = as_nobody(layers_provenance, root, layers, "trusted.overlay.", "/a")
    finally:
        os.chmod(open_tree, 0o755)
    assert [(s.path, s.reason) for s in top_gone.skipped] == [
        ("upper:/", "Permission denied (EACCES)"),
        ("lower 1:/", "Permission denied (EACCES)"),
    ]


def test_provenance_hit_states_enum_values() -> None:
    assert [s.value for s in HitState] == ["provides", "merged", "shadowed", "whiteout"]


def test_directory_hits_opaque_flag(tmp_path: Path) -> None:
    layers = stack_of(tmp_path, [{"d": DIR, "f": b"f"}, {"d": OPAQUE}])
    root = HostRoot.at(tmp_path)
    d = layers_provenance(root, layers, "trusted.overlay.", "/d")
    assert [h.opaque for h in d.hits] == [False, True]
    f = layers_provenance(root, layers, "trusted.overlay.", "/f")
    assert f.provider is not None and f.provider.opaque is False
