"""Browsing layers: one directory at a time (lazy, bounded), or a bounded walk with progress.

Nothing here follows a symlink or opens anything but directories (O_NOFOLLOW at each step).
Names stay exact: str with surrogateescape, `os.fsencode(name)` gives the bytes back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from ctop_py.host import HostRoot
from ctop_py.layers import fsutil
from ctop_py.layers.fsutil import FileType, Skipped
from ctop_py.layers.provenance import merged_dirs
from ctop_py.layers.stack import Layer, MountStack, layer_dir
from ctop_py.mounts import fsdecode

DEFAULT_MAX_ENTRIES = 1000
_PROGRESS_EVERY = 256

# progress(entries_seen, current_directory) → return False to stop (the result is truncated).
Progress = Callable[[int, str], bool | None]


@dataclass(frozen=True)
class Entry:
    name: str
    file_type: FileType
    size: int
    mode: int  # st_mode: type and permission bits
    uid: int
    gid: int
    mtime_ns: int
    symlink_target: str | None
    opaque: bool  # a directory marked opaque (hides lower layers' contents)
    layer: str | None = None  # merged listings: the label of the layer that provides it


@dataclass(frozen=True)
class Listing:
    path: str
    exists: bool  # False when the directory is not in this layer (or not in the view)
    entries: tuple[Entry, ...]  # sorted by name bytes
    total: int  # names in the directory; more than len(entries) when truncated
    truncated: bool
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True)
class WalkEntry:
    path: str  # path inside the layer, starting with "/"
    entry: Entry


@dataclass(frozen=True)
class Walk:
    path: str
    entries: tuple[WalkEntry, ...]  # pre-order, each directory's entries sorted by name
    files: int
    dirs: int
    total_size: int  # bytes of regular files (hard links counted once)
    truncated: bool
    skipped: tuple[Skipped, ...]


def _entry(dir_fd: int, name: bytes, st: os.stat_result, xattr_prefix: str) -> Entry:
    ftype = fsutil.file_type(st)
    target = None
    if ftype is FileType.SYMLINK:
        raw = fsutil.readlink_at(dir_fd, name)
        target = fsdecode(raw) if raw is not None else None
    opaque = False
    if ftype is FileType.DIR:
        opaque = fsutil.get_xattr_at(dir_fd, name, xattr_prefix + "opaque") == b"y"
    return Entry(
        name=fsdecode(name),
        file_type=ftype,
        size=st.st_size,
        mode=st.st_mode,
        uid=st.st_uid,
        gid=st.st_gid,
        mtime_ns=st.st_mtime_ns,
        symlink_target=target,
        opaque=opaque,
    )


def list_dir(
    top: str | bytes | os.PathLike[str],
    path: str = "/",
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    xattr_prefix: str = "trusted.overlay.",
) -> Listing:
    """One directory of one layer directory `top` (a host path)."""
    parts = fsutil.split_path(path)
    norm = fsutil.container_path(parts)
    try:
        fd = fsutil.open_dir_nofollow(top, parts)
    except OSError as exc:
        return Listing(norm, False, (), 0, False, (Skipped(norm, fsutil.reason(exc)),))
    skipped: list[Skipped] = []
    entries: list[Entry] = []
    try:
        names = sorted(os.fsencode(n) for n in os.listdir(fd))
        for name in names[:max_entries]:
            try:
                st = fsutil.lstat_at(fd, name)
            except OSError as exc:
                skipped.append(Skipped(fsutil.container_path((*parts, name)), fsutil.reason(exc)))
                continue
            entries.append(_entry(fd, name, st, xattr_prefix))
    except OSError as exc:
        return Listing(norm, True, (), 0, False, (Skipped(norm, fsutil.reason(exc)),))
    finally:
        os.close(fd)
    return Listing(norm, True, tuple(entries), len(names), len(names) > max_entries, tuple(skipped))


def list_layer(
    root: HostRoot,
    stack: MountStack,
    layer: Layer,
    path: str = "/",
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> Listing:
    """One directory of one layer of the stack, whiteouts and opaque marks shown as such."""
    return list_dir(
        layer_dir(root, layer), path, max_entries=max_entries, xattr_prefix=stack.xattr_prefix
    )


def list_merged(
    root: HostRoot,
    stack: MountStack,
    path: str = "/",
    *,
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> Listing:
    """One directory of the merged view (what the container sees), read from the layers:
    each entry names the layer that provides it; whited-out names are left out."""
    parts = fsutil.split_path(path)
    norm = fsutil.container_path(parts)
    layers = merged_dirs(root, stack, norm)
    if not layers:
        return Listing(norm, False, (), 0, False, ())
    prefix = stack.xattr_prefix
    fds: list[tuple[Layer, int]] = []
    skipped: list[Skipped] = []
    try:
        for layer in layers:
            try:
                fds.append((layer, fsutil.open_dir_nofollow(layer_dir(root, layer), parts)))
            except OSError as exc:
                skipped.append(Skipped(f"{layer.label}:{norm}", fsutil.reason(exc)))
        names: set[bytes] = set()
        for layer, fd in fds:
            try:
                names.update(os.fsencode(n) for n in os.listdir(fd))
            except OSError as exc:
                skipped.append(Skipped(f"{layer.label}:{norm}", fsutil.reason(exc)))
        entries: list[Entry] = []
        visible = 0
        for name in sorted(names):
            found = _merged_entry(fds, name, prefix)
            if found is None:
                continue
            visible += 1
            if len(entries) < max_entries:
                entries.append(found)
    finally:
        for _, fd in fds:
            os.close(fd)
    return Listing(norm, True, tuple(entries), visible, visible > max_entries, tuple(skipped))


def _merged_entry(fds: list[tuple[Layer, int]], name: bytes, prefix: str) -> Entry | None:
    for layer, fd in fds:
        try:
            st = fsutil.lstat_at(fd, name)
        except OSError:
            continue
        if fsutil.is_whiteout(st):
            return None
        return replace(_entry(fd, name, st, prefix), layer=layer.label)
    return None


def walk_dir(
    top: str | bytes | os.PathLike[str],
    path: str = "/",
    *,
    max_entries: int = 10_000,
    progress: Progress | None = None,
    xattr_prefix: str = "trusted.overlay.",
) -> Walk:
    """Pre-order walk of a layer directory (a directory, then its contents), bounded by
    max_entries; progress is called every 256 entries and may return False to stop."""
    parts = fsutil.split_path(path)
    norm = fsutil.container_path(parts)
    out: list[WalkEntry] = []
    skipped: list[Skipped] = []
    files = dirs = total = seen = 0
    inodes: set[tuple[int, int]] = set()
    truncated = False
    try:
        top_fd = fsutil.open_dir_nofollow(top, parts)
    except OSError as exc:
        return Walk(norm, (), 0, 0, 0, False, (Skipped(norm, fsutil.reason(exc)),))
    # One open fd per level of the current path only (not per pending directory), so a
    # wide tree cannot exhaust the fd limit; each level's entries are held as a list.
    stack: list[tuple[int, tuple[bytes, ...], Iterator[tuple[bytes, os.stat_result]]]] = []

    def enter(fd: int, here: tuple[bytes, ...]) -> None:
        try:
            entries = fsutil.scan(fd)
        except OSError as exc:
            skipped.append(Skipped(fsutil.container_path(here), fsutil.reason(exc)))
            entries = []
        stack.append((fd, here, iter(entries)))

    enter(top_fd, parts)
    try:
        while stack and not truncated:
            fd, here, entries = stack[-1]
            item = next(entries, None)
            if item is None:
                os.close(fd)
                stack.pop()
                continue
            name, st = item
            seen += 1
            child = (*here, name)
            if progress is not None and seen % _PROGRESS_EVERY == 0:
                truncated = progress(seen, fsutil.container_path(here)) is False
            if truncated or len(out) >= max_entries:
                truncated = True
                break
            entry = _entry(fd, name, st, xattr_prefix)
            out.append(WalkEntry(fsutil.container_path(child), entry))
            if entry.file_type is FileType.DIR:
                dirs += 1
                try:
                    enter(fsutil.open_child_dir(fd, name), child)
                except OSError as exc:
                    skipped.append(Skipped(fsutil.container_path(child), fsutil.reason(exc)))
            elif entry.file_type is FileType.FILE:
                files += 1
                if (st.st_dev, st.st_ino) not in inodes:
                    inodes.add((st.st_dev, st.st_ino))
                    total += st.st_size
    finally:
        for fd, _, _ in stack:
            os.close(fd)
    return Walk(norm, tuple(out), files, dirs, total, truncated, tuple(skipped))


def walk_layer(
    root: HostRoot,
    stack: MountStack,
    layer: Layer,
    path: str = "/",
    *,
    max_entries: int = 10_000,
    progress: Progress | None = None,
) -> Walk:
    return walk_dir(
        layer_dir(root, layer),
        path,
        max_entries=max_entries,
        progress=progress,
        xattr_prefix=stack.xattr_prefix,
    )
