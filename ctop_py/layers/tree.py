"""The file tree of one layer, or of the merged view up to a layer, with dive's marks.

A chain of layers (base first, index 0 the base) is read as overlayfs reads it: a whiteout
(char device 0:0) deletes a name, an opaque directory hides everything below it, a
non-directory hides a lower directory. For a selected layer T:

* the **layer view** lists what layer T holds: each entry marked *added* (nothing at that
  path in the merged view of layers 0..T-1), *modified* (something was there and differs, or
  a directory whose contents T changes), *unchanged* (a copy-up that changed nothing), or
  *removed* (a whiteout, or a lower entry hidden by an opaque directory of T, shown with
  what it removes);
* the **merged view** lists the whole filesystem as seen through layers 0..T, with T's
  marks on what T changed and, for every entry, the layer that provides it.

Both are lazy: `list_tree` reads one directory (the first paint of a 100,000-file layer is
one `readdir` of its top directory); `walk_tree` walks a subtree depth first with one open
directory per layer per level of the current path, bounded by `max_entries`, and gives
every directory its size (bytes of the regular files below it). Nothing follows a symlink
found in a layer: every directory is opened relative to its parent with O_NOFOLLOW.

Memory: a listing holds at most `max_entries` nodes (5,000 by default); a walk about
0.6 KiB per node, bounded by `max_entries` (200,000 by default, ~130 MiB).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from ctop_py.host import HostRoot
from ctop_py.layers import fsutil
from ctop_py.layers.changes import stat_different
from ctop_py.layers.fsutil import FileType, Skipped
from ctop_py.layers.image import LayerChain
from ctop_py.layers.stack import layer_dir
from ctop_py.mounts import fsdecode

DEFAULT_LIST_MAX = 5_000
DEFAULT_WALK_MAX = 200_000
_PROGRESS_EVERY = 512

# progress(entries_seen, current_directory) → return False to stop (the result is truncated).
Progress = Callable[[int, str], bool | None]


class Mark(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    UNCHANGED = "unchanged"

    @property
    def symbol(self) -> str:
        return {"added": "+", "modified": "~", "removed": "-", "unchanged": " "}[self.value]


@dataclass(frozen=True)
class Node:
    path: str  # container path, exact bytes kept via surrogateescape
    name: str
    depth: int  # 0 for the entries of the directory listed or walked
    file_type: FileType  # what is there; for a removed entry, what was there
    mark: Mark
    size: int | None  # file: bytes; dir: bytes of files below (None until walked); else 0
    layer: int | None  # base-first index of the layer providing it (removed: that held it)
    opaque: bool
    symlink_target: str | None
    has_children: bool  # a directory with entries to show under it
    mode: int


@dataclass(frozen=True)
class TreeListing:
    """One directory of a view (lazy): its entries, file sizes known, directory sizes not."""

    path: str
    layer: int  # the selected layer T
    merged: bool
    exists: bool  # False when the path is not a directory in this view
    entries: tuple[Node, ...]  # sorted by name bytes
    total: int  # entries in the directory; more than len(entries) when truncated
    truncated: bool
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True)
class TreeWalk:
    """A subtree of a view, depth first (a directory, then its entries sorted by name)."""

    path: str
    layer: int
    merged: bool
    exists: bool
    nodes: tuple[Node, ...]
    files: int  # regular files (removed ones not counted)
    dirs: int
    size: int  # bytes of the regular files shown (removed ones not counted)
    removed_size: int  # bytes of what removed entries remove
    truncated: bool
    skipped: tuple[Skipped, ...]

    def counts(self) -> dict[Mark, int]:
        out = dict.fromkeys(Mark, 0)
        for node in self.nodes:
            out[node.mark] += 1
        return out


class LayerOutOfRange(ValueError):
    """A layer index that the chain does not have."""


# ---------------------------------------------------------------------------------------------
# one directory of a view


@dataclass
class _Below:
    """The merged view of layers 0..T-1 at one name: its top entry and, for a directory, the
    directories that merge there (top first, cut at an opaque one)."""

    index: int
    st: os.stat_result
    target: str | None
    opaque: bool
    dirs: list[tuple[int, int, bytes]]  # (layer index, parent directory fd, name)


@dataclass
class _Frame:
    parts: tuple[bytes, ...]
    top: int | None  # fd of layer T's directory here, None when T has none
    top_opaque: bool
    below: list[tuple[int, int]]  # (layer index, fd) of the view 0..T-1 here, top first
    removed: bool  # this directory is removed at T: everything below it is shown removed
    owned: list[int] = field(default_factory=list)  # fds to close with the frame

    def close(self) -> None:
        for fd in self.owned:
            os.close(fd)
        self.owned.clear()


@dataclass
class _Item:
    name: bytes
    node: Node
    child: tuple[bool, bool, list[tuple[int, int, bytes]], bool] | None
    # (open T's child, T's child opaque, below dirs, removed) when the item is a directory


class _View:
    def __init__(self, root: HostRoot, chain: LayerChain, layer: int, merged: bool) -> None:
        if not 0 <= layer < len(chain.layers):
            raise LayerOutOfRange(
                f"layer {layer} is out of range: {chain.name} has layers 0 to {chain.top}"
            )
        self.root = root
        self.chain = chain
        self.layer = layer
        self.merged = merged
        self.prefix = chain.xattr_prefix
        self.skipped: list[Skipped] = []

    def _skip(self, where: str, exc: OSError) -> None:
        self.skipped.append(Skipped(where, fsutil.reason(exc)))

    def root_frame(self) -> _Frame:
        owned: list[int] = []
        top: int | None = None
        below: list[tuple[int, int]] = []
        for index in range(self.layer, -1, -1):
            layer = self.chain.layers[index]
            try:
                fd = fsutil.open_dir(layer_dir(self.root, layer))
            except OSError as exc:
                self._skip(f"layer {index} ({layer.path})", exc)
                continue
            owned.append(fd)
            if index == self.layer:
                top = fd
            else:
                below.append((index, fd))
        return _Frame((), top, False, below, False, owned)

    def open_child(self, frame: _Frame, item: _Item) -> _Frame | None:
        assert item.child is not None
        open_top, top_opaque, below_dirs, removed = item.child
        parts = (*frame.parts, item.name)
        owned: list[int] = []
        top: int | None = None
        if open_top and frame.top is not None:
            try:
                top = fsutil.open_child_dir(frame.top, item.name)
                owned.append(top)
            except OSError as exc:
                self._skip(f"layer {self.layer}:{fsutil.container_path(parts)}", exc)
        below: list[tuple[int, int]] = []
        for index, parent, name in below_dirs:
            try:
                fd = fsutil.open_child_dir(parent, name)
            except OSError as exc:
                self._skip(f"layer {index}:{fsutil.container_path(parts)}", exc)
                continue
            owned.append(fd)
            below.append((index, fd))
        if top is None and not below and open_top:
            for fd in owned:
                os.close(fd)
            return None
        return _Frame(parts, top, top_opaque, below, removed, owned)

    def below_lookup(self, frame: _Frame, name: bytes) -> _Below | None:
        """Overlay lookup of `name` in the view of layers 0..T-1 of this directory."""
        found: _Below | None = None
        for index, fd in frame.below:
            try:
                st = fsutil.lstat_at(fd, name)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                self._skip(f"layer {index}:{fsutil.container_path((*frame.parts, name))}", exc)
                continue
            if fsutil.is_whiteout(st):
                break
            is_dir = stat.S_ISDIR(st.st_mode)
            if found is None:
                target = None
                if stat.S_ISLNK(st.st_mode):
                    raw = fsutil.readlink_at(fd, name)
                    target = fsdecode(raw) if raw is not None else None
                opaque = is_dir and fsutil.get_xattr_at(fd, name, self.prefix + "opaque") == b"y"
                found = _Below(index, st, target, opaque, [])
                if not is_dir:
                    break
            elif not is_dir:
                break
            found.dirs.append((index, fd, name))
            if fsutil.get_xattr_at(fd, name, self.prefix + "opaque") == b"y":
                break
        return found

    def below_names(self, frame: _Frame) -> set[bytes]:
        names: set[bytes] = set()
        for index, fd in frame.below:
            try:
                names.update(os.fsencode(n) for n in os.listdir(fd))
            except OSError as exc:
                self._skip(f"layer {index}:{fsutil.container_path(frame.parts)}", exc)
        return names

    def top_entries(self, frame: _Frame) -> dict[bytes, os.stat_result]:
        if frame.top is None:
            return {}
        try:
            return dict(fsutil.scan(frame.top))
        except OSError as exc:
            self._skip(f"layer {self.layer}:{fsutil.container_path(frame.parts)}", exc)
            return {}

    def names(self, frame: _Frame, top: dict[bytes, os.stat_result]) -> list[bytes]:
        if frame.removed:
            return sorted(self.below_names(frame))
        if self.merged or frame.top_opaque:
            return sorted(set(top) | self.below_names(frame))
        return sorted(top)

    def listed_names(self, frame: _Frame) -> tuple[list[bytes], set[bytes]]:
        """The names a directory of the view may show (sorted) and those layer T holds."""
        top: set[bytes] = set()
        if frame.top is not None:
            try:
                top = {os.fsencode(n) for n in os.listdir(frame.top)}
            except OSError as exc:
                self._skip(f"layer {self.layer}:{fsutil.container_path(frame.parts)}", exc)
        if frame.removed:
            return sorted(self.below_names(frame)), set()
        if self.merged or frame.top_opaque:
            return sorted(top | self.below_names(frame)), top
        return sorted(top), top

    def top_stat(self, frame: _Frame, name: bytes) -> os.stat_result | None:
        if frame.top is None:
            return None
        try:
            return fsutil.lstat_at(frame.top, name)
        except OSError:
            return None

    def item(
        self, frame: _Frame, name: bytes, t: os.stat_result | None, depth: int
    ) -> _Item | None:
        """One entry of a directory of the view, or None when the view has nothing there."""
        path = fsutil.container_path((*frame.parts, name))
        b = self.below_lookup(frame, name) if frame.below else None
        if frame.removed or (t is None and frame.top_opaque) or (t is not None and _wh(t)):
            if b is None:
                if t is None:
                    return None
                # a whiteout with nothing below it to remove
                node = _node(path, name, depth, FileType.WHITEOUT, Mark.REMOVED, t, None, 0)
                return _Item(name, _replace_layer(node, self.layer), None)
            node = _node(path, name, depth, fsutil.file_type(b.st), Mark.REMOVED, b.st,
                         b.target, b.index, opaque=b.opaque)  # fmt: skip
            child = None
            if stat.S_ISDIR(b.st.st_mode):
                node = _with_children(node, _any_entries(b.dirs))
                child = (False, False, b.dirs, True)
            return _Item(name, node, child)
        if t is not None:
            ftype = fsutil.file_type(t)
            target = None
            opaque = False
            t_nonempty = False
            if ftype is FileType.SYMLINK and frame.top is not None:
                raw = fsutil.readlink_at(frame.top, name)
                target = fsdecode(raw) if raw is not None else None
            if ftype is FileType.DIR and frame.top is not None:
                opaque = fsutil.get_xattr_at(frame.top, name, self.prefix + "opaque") == b"y"
                t_nonempty = _nonempty(frame.top, name)
            if b is None:
                mark = Mark.ADDED
            elif ftype is FileType.DIR and stat.S_ISDIR(b.st.st_mode):
                changed = stat_different(b.st, t) or t_nonempty
                mark = Mark.MODIFIED if changed or (opaque and _any_entries(b.dirs)) else (
                    Mark.UNCHANGED)  # fmt: skip
            else:
                mark = Mark.MODIFIED if stat_different(b.st, t) else Mark.UNCHANGED
            node = _node(path, name, depth, ftype, mark, t, target, self.layer, opaque=opaque)
            if ftype is not FileType.DIR:
                return _Item(name, node, None)
            below_dirs = b.dirs if b is not None and stat.S_ISDIR(b.st.st_mode) else []
            if self.merged:
                shown = t_nonempty or (not opaque and _any_entries(below_dirs))
            else:
                shown = t_nonempty or (opaque and _any_entries(below_dirs))
            return _Item(name, _with_children(node, shown), (True, opaque, below_dirs, False))
        if b is None:
            return None
        # only below: shown in the merged view, unchanged
        node = _node(path, name, depth, fsutil.file_type(b.st), Mark.UNCHANGED, b.st, b.target,
                     b.index, opaque=b.opaque)  # fmt: skip
        if not stat.S_ISDIR(b.st.st_mode):
            return _Item(name, node, None)
        node = _with_children(node, _any_entries(b.dirs))
        return _Item(name, node, (False, False, b.dirs, False))

    def descend(self, parts: tuple[bytes, ...]) -> tuple[_Frame | None, list[_Frame]]:
        """The frame of a directory of the view, reached from the root one name at a time;
        also every frame opened on the way (to close)."""
        frame = self.root_frame()
        opened = [frame]
        for name in parts:
            t = None
            if frame.top is not None:
                try:
                    t = fsutil.lstat_at(frame.top, name)
                except OSError:
                    t = None
            if not self.merged and not frame.removed and t is None and not frame.top_opaque:
                # the layer view of a directory T does not hold: still show what it removes
                return None, opened
            found = self.item(frame, name, t, 0)
            if found is None or found.child is None:
                return None, opened
            child = self.open_child(frame, found)
            if child is None:
                return None, opened
            opened.append(child)
            frame = child
        return frame, opened


def _wh(st: os.stat_result) -> bool:
    return fsutil.is_whiteout(st)


def _node(
    path: str,
    name: bytes,
    depth: int,
    ftype: FileType,
    mark: Mark,
    st: os.stat_result,
    target: str | None,
    layer: int | None,
    *,
    opaque: bool = False,
) -> Node:
    size: int | None = st.st_size if ftype is FileType.FILE else 0
    if ftype is FileType.DIR:
        size = None
    return Node(
        path=path,
        name=fsdecode(name),
        depth=depth,
        file_type=ftype,
        mark=mark,
        size=size,
        layer=layer,
        opaque=opaque,
        symlink_target=target,
        has_children=False,
        mode=st.st_mode,
    )


def _replace_layer(node: Node, layer: int) -> Node:
    return Node(**{**node.__dict__, "layer": layer})


def _with_children(node: Node, has: bool) -> Node:
    return node if node.has_children == has else Node(**{**node.__dict__, "has_children": has})


def _with(node: Node, **changes: object) -> Node:
    return Node(**{**node.__dict__, **changes})


def _nonempty(parent: int, name: bytes) -> bool:
    try:
        fd = fsutil.open_child_dir(parent, name)
    except OSError:
        return False
    try:
        with os.scandir(fd) as it:
            return next(it, None) is not None
    except OSError:
        return False
    finally:
        os.close(fd)


def _any_entries(dirs: list[tuple[int, int, bytes]]) -> bool:
    return any(_nonempty(parent, name) for _, parent, name in dirs)


def list_tree(
    root: HostRoot,
    chain: LayerChain,
    layer: int,
    path: str = "/",
    *,
    merged: bool = False,
    max_entries: int = DEFAULT_LIST_MAX,
) -> TreeListing:
    """One directory of layer `layer` (or of the merged view up to it). Directory sizes are
    None: `walk_tree` computes them. Raises LayerOutOfRange."""
    view = _View(root, chain, layer, merged)
    parts = fsutil.split_path(path)
    norm = fsutil.container_path(parts)
    frame, opened = view.descend(parts)
    try:
        if frame is None:
            return TreeListing(norm, layer, merged, False, (), 0, False, tuple(view.skipped))
        # Only the names shown are looked at (lstat, lookups below): the first paint of a
        # directory of 100,000 entries is one readdir and a sort, not 100,000 lookups.
        names, top_names = view.listed_names(frame)
        entries: list[Node] = []
        total = 0
        for name in names:
            if len(entries) >= max_entries:
                total = len(names)  # an upper bound: whiteouts of nothing are not shown
                break
            t = view.top_stat(frame, name) if name in top_names else None
            found = view.item(frame, name, t, 0)
            if found is None:
                continue
            total += 1
            entries.append(found.node)
    finally:
        for f in opened:
            f.close()
    truncated = total > len(entries)
    return TreeListing(
        norm, layer, merged, True, tuple(entries), total, truncated, tuple(view.skipped)
    )


# ---------------------------------------------------------------------------------------------
# a subtree, walked


@dataclass
class _Level:
    frame: _Frame
    items: Iterator[_Item]
    index: int  # position of this directory's node in `out` (-1 for the top)
    size: int = 0
    removed_size: int = 0


def walk_tree(
    root: HostRoot,
    chain: LayerChain,
    layer: int,
    path: str = "/",
    *,
    merged: bool = False,
    max_entries: int = DEFAULT_WALK_MAX,
    progress: Progress | None = None,
) -> TreeWalk:
    """The subtree at `path`, depth first, each directory with the bytes below it.

    Bounded by max_entries (the result says truncated; sizes then count what was walked).
    progress is called every 512 entries and may return False to stop. Raises
    LayerOutOfRange."""
    view = _View(root, chain, layer, merged)
    parts = fsutil.split_path(path)
    norm = fsutil.container_path(parts)
    frame, opened = view.descend(parts)
    out: list[Node] = []
    files = dirs = 0
    truncated = False
    total_size = total_removed = 0
    stack: list[_Level] = []

    def items_of(f: _Frame, depth: int) -> Iterator[_Item]:
        top = view.top_entries(f)
        for name in view.names(f, top):
            found = view.item(f, name, top.get(name), depth)
            if found is not None:
                yield found

    try:
        if frame is None:
            return TreeWalk(norm, layer, merged, False, (), 0, 0, 0, 0, False, tuple(view.skipped))
        stack.append(_Level(frame, items_of(frame, 0), -1))
        seen = 0
        while stack:
            level = stack[-1]
            found = next(level.items, None) if not truncated else None
            if found is None:
                stack.pop()
                if level.frame is not frame:
                    level.frame.close()
                if level.index >= 0:
                    node = out[level.index]
                    shown = level.removed_size if node.mark is Mark.REMOVED else level.size
                    out[level.index] = _with(node, size=shown)
                    if stack:
                        parent = stack[-1]
                        parent.size += level.size
                        parent.removed_size += level.removed_size
                else:
                    total_size, total_removed = level.size, level.removed_size
                continue
            seen += 1
            if progress is not None and seen % _PROGRESS_EVERY == 0:
                truncated = progress(seen, fsutil.container_path(level.frame.parts)) is False
            if len(out) >= max_entries:
                truncated = True
            if truncated:
                continue
            node = found.node
            out.append(node)
            if node.file_type is FileType.DIR:
                dirs += 1
            elif node.file_type is FileType.FILE:
                files += node.mark is not Mark.REMOVED
                size = node.size or 0
                if node.mark is Mark.REMOVED:
                    level.removed_size += size
                else:
                    level.size += size
            if found.child is not None:
                child = view.open_child(level.frame, found)
                if child is not None:
                    depth = len(child.parts) - len(parts)
                    stack.append(_Level(child, items_of(child, depth), len(out) - 1))
                else:
                    out[-1] = _with(node, size=0)
    finally:
        for level in stack:
            if level.frame is not frame:
                level.frame.close()
        for f in opened:
            f.close()
    return TreeWalk(
        norm,
        layer,
        merged,
        True,
        tuple(out),
        files,
        dirs,
        total_size,
        total_removed,
        truncated,
        tuple(view.skipped),
    )
