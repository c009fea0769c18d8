"""Efficiency and wasted space of a chain of layers, as wagoodman/dive computes them.

dive (filetree/efficiency.go, image/analysis.go) reads each layer as the tar `docker save`
writes, and visits the *leaves* of each layer's tree (files, symlinks, devices, whiteouts and
directories with nothing in them in that layer). For every path seen in any layer it keeps
the sum of its sizes over the layers and the smallest of them, where a size is the tar
header's: a regular file counts its bytes (a second hard link to it in the same layer is a
link entry of 0 bytes), a directory, symlink or device 0, a whiteout of a file 0 and a
whiteout of a directory the bytes of everything it removes (the merged view of the layers
below it). Then

    efficiency   = Σ smallest / Σ sums            (1.0 when every size is 0)
    wasted bytes = Σ sums of the paths that occur in two or more layers
    user size    = Σ layer sizes except the base layer's (a layer's size: its tar sizes)

The layer directories are read directly (a char device 0:0 is the whiteout `.wh.name`, the
opaque xattr the `.wh..wh..opq` marker, which dive ignores and so does this score). Where dive
stacks trees without honouring opaque directories, the bytes a directory whiteout removes are
counted here on the true merged view (they differ only when a directory made opaque in one
layer is deleted in a later one).

Memory: one entry per distinct path (its sizes and layers) plus the merged view's names,
about 0.6 KiB of Python heap per path (72 MiB for 120,000 paths in benchmarks/explorebench);
the walk stops at `max_paths` distinct paths (500,000 by default, ~300 MiB; the result then
says truncated).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ctop_py.host import HostRoot
from ctop_py.layers import fsutil
from ctop_py.layers.fsutil import Skipped
from ctop_py.layers.image import LayerChain
from ctop_py.layers.stack import layer_dir
from ctop_py.mounts import fsdecode

DEFAULT_MAX_PATHS = 500_000
_PROGRESS_EVERY = 1024

Progress = Callable[[int, str], bool | None]

_Tree = dict[bytes, "_Tree | int"]


@dataclass(frozen=True)
class WastedPath:
    path: str
    bytes: int  # the sum of its sizes over the layers that hold it
    layers: tuple[int, ...]  # base-first indexes of those layers


@dataclass(frozen=True)
class Efficiency:
    efficiency: float  # 0..1
    wasted_bytes: int
    user_size_bytes: int
    size_bytes: int  # every layer
    layer_sizes: tuple[int, ...]  # base first
    wasted: tuple[WastedPath, ...]  # paths in two or more layers with bytes, largest first
    paths: int  # distinct paths seen
    truncated: bool
    skipped: tuple[Skipped, ...]


class _Stop(Exception):
    pass


@dataclass
class _Seen:
    total: int
    smallest: int
    layers: list[int]


def _leaves(
    top: bytes, prefix: str, skipped: list[Skipped], label: str
) -> Iterator[tuple[tuple[bytes, ...], os.stat_result, bool, bool]]:
    """(parts, lstat, opaque, empty) of every entry of a layer directory, depth first in name
    order (a directory before its contents, as docker's tar writes them)."""
    try:
        top_fd = fsutil.open_dir(top)
    except OSError as exc:
        skipped.append(Skipped(label, fsutil.reason(exc)))
        return
    levels: list[tuple[int, tuple[bytes, ...], Iterator[tuple[bytes, os.stat_result]]]] = []
    try:
        levels.append((top_fd, (), iter(fsutil.scan(top_fd))))
    except OSError as exc:
        os.close(top_fd)
        skipped.append(Skipped(label, fsutil.reason(exc)))
        return
    try:
        while levels:
            fd, here, entries = levels[-1]
            item = next(entries, None)
            if item is None:
                os.close(fd)
                levels.pop()
                continue
            name, st = item
            parts = (*here, name)
            if not stat.S_ISDIR(st.st_mode):
                yield parts, st, False, False
                continue
            try:
                child = fsutil.open_child_dir(fd, name)
            except OSError as exc:
                skipped.append(
                    Skipped(f"{label}:{fsutil.container_path(parts)}", fsutil.reason(exc))
                )
                yield parts, st, False, True
                continue
            try:
                children = fsutil.scan(child)
            except OSError as exc:
                skipped.append(
                    Skipped(f"{label}:{fsutil.container_path(parts)}", fsutil.reason(exc))
                )
                children = []
            opaque = fsutil.is_opaque_fd(child, prefix)
            levels.append((child, parts, iter(children)))
            yield parts, st, opaque, not children
    finally:
        for fd, _, _ in levels:
            os.close(fd)


def _node(tree: _Tree, parts: tuple[bytes, ...]) -> _Tree | int | None:
    node: _Tree | int = tree
    for part in parts:
        if not isinstance(node, dict):
            return None
        found = node.get(part)
        if found is None:
            return None
        node = found
    return node


def _parent(tree: _Tree, parts: tuple[bytes, ...]) -> _Tree:
    """The directory holding parts[-1], made (and made a directory) on the way."""
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    return node


def _bytes_under(node: _Tree | int) -> int:
    if isinstance(node, int):
        return node
    total = 0
    pending = [node]
    while pending:
        for child in pending.pop().values():
            if isinstance(child, dict):
                pending.append(child)
            else:
                total += child
    return total


def compute_efficiency(
    root: HostRoot,
    chain: LayerChain,
    *,
    layers: int | None = None,
    max_paths: int = DEFAULT_MAX_PATHS,
    progress: Progress | None = None,
) -> Efficiency:
    """dive's efficiency over layers 0..layers-1 of the chain (all by default)."""
    count = len(chain.layers) if layers is None else layers
    merged: _Tree = {}
    seen: dict[bytes, _Seen] = {}
    sizes: list[int] = []
    skipped: list[Skipped] = []
    truncated = False
    visited = 0

    def record(parts: tuple[bytes, ...], size: int, index: int) -> None:
        key = b"/" + b"/".join(parts)
        found = seen.get(key)
        if found is None:
            if len(seen) >= max_paths:
                raise _Stop
            seen[key] = _Seen(size, size, [index])
        else:
            found.total += size
            found.smallest = min(found.smallest, size)
            found.layers.append(index)

    try:
        for index in range(count):
            layer = chain.layers[index]
            label = f"layer {index}"
            inodes: set[tuple[int, int]] = set()
            layer_size = 0
            for parts, st, opaque, empty in _leaves(
                layer_dir(root, layer), chain.xattr_prefix, skipped, label
            ):
                visited += 1
                if (
                    progress is not None
                    and visited % _PROGRESS_EVERY == 0
                    and progress(visited, fsutil.container_path(parts)) is False
                ):
                    raise _Stop
                parent = _parent(merged, parts)
                name = parts[-1]
                if fsutil.is_whiteout(st):
                    before = parent.get(name)
                    removed = _bytes_under(before) if isinstance(before, dict) else 0
                    record(parts, removed, index)
                    parent.pop(name, None)
                elif stat.S_ISDIR(st.st_mode):
                    current = parent.get(name)
                    if opaque or not isinstance(current, dict):
                        parent[name] = {}
                    if empty:
                        record(parts, 0, index)
                else:
                    size = 0
                    if stat.S_ISREG(st.st_mode):
                        key = (st.st_dev, st.st_ino)
                        if key not in inodes:
                            size = st.st_size
                            if st.st_nlink > 1:
                                inodes.add(key)
                    layer_size += size
                    record(parts, size, index)
                    parent[name] = size
            sizes.append(layer_size)
    except _Stop:
        truncated = True
    total = sum(s.total for s in seen.values())
    smallest = sum(s.smallest for s in seen.values())
    wasted = [
        WastedPath(fsdecode(path), s.total, tuple(s.layers))
        for path, s in seen.items()
        if len(s.layers) >= 2
    ]
    wasted_bytes = sum(w.bytes for w in wasted)
    shown = sorted((w for w in wasted if w.bytes > 0), key=lambda w: (-w.bytes, w.path))
    return Efficiency(
        efficiency=smallest / total if total else 1.0,
        wasted_bytes=wasted_bytes,
        user_size_bytes=sum(sizes[1:]),
        size_bytes=sum(sizes),
        layer_sizes=tuple(sizes),
        wasted=tuple(shown),
        paths=len(seen),
        truncated=truncated,
        skipped=tuple(skipped),
    )
