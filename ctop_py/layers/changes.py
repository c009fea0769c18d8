"""What a container changed, computed from its upper directory without the daemon.

The result equals `docker diff` on Docker 20.10 overlay2, whose `Changes` is the *naive* diff
(moby daemon/graphdriver/overlay2/overlay.go → fsdiff.go → pkg/archive ChangesDirs): it mounts
the container's layer and its parent (the init layer) and compares the two merged trees:

* a path in the new tree but not the old is A (a new directory's whole subtree is A);
* a path in both is C when mode, uid, gid or rdev differ, or, for non-directories, size or
  mtime (equal if seconds match and the nanoseconds match or either is 0), or when the
  security.capability xattr differs. A copy-up that changed nothing (chown to the same
  owner) is therefore not a change;
* a path in the old tree but not the new is D (only the top of a deleted subtree);
* a directory with any change below it is C, unless it is itself A or C already.

The two merged trees differ only where the upper directory has entries, so this walks the
upper directory and looks each entry up in the lower layers with overlay's rules (whiteout =
char device 0:0 ends the lookup; an opaque directory hides everything below it; a non-dir
hides what is below). Overlay also marks *new* directories opaque, so opaque is not deletion:
only names the old tree has and the new one lacks are D.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from ctop_py.host import Gone, HostRoot, NoAccess, error_from_oserror
from ctop_py.layers import fsutil
from ctop_py.layers.fsutil import FileType, Skipped
from ctop_py.layers.stack import MountStack, layer_dir

_NS = 1_000_000_000
_PROGRESS_EVERY = 256

# progress(entries_seen, current_directory) → return False to stop the walk (truncated).
Progress = Callable[[int, str], bool | None]


class ChangeKind(IntEnum):
    """Docker's numbering (GET /containers/{id}/changes): 0 = C, 1 = A, 2 = D."""

    MODIFIED = 0
    ADDED = 1
    DELETED = 2

    @property
    def letter(self) -> str:
        return "CAD"[self.value]


@dataclass(frozen=True)
class Change:
    path: str  # container path, exact bytes kept via surrogateescape
    kind: ChangeKind
    file_type: FileType  # of the new entry; of the deleted one for D
    size: int | None  # bytes of a non-directory in the upper layer; None for dirs and D


@dataclass(frozen=True)
class Changes:
    changes: tuple[Change, ...]  # sorted by path bytes
    upper_size: int  # bytes in the upper layer (files once per inode, dirs 0): docker's SizeRw
    skipped: tuple[Skipped, ...]
    truncated: bool  # stopped early by max_changes or by the progress callback

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind is kind)

    @property
    def added(self) -> int:
        return self.count(ChangeKind.ADDED)

    @property
    def modified(self) -> int:
        return self.count(ChangeKind.MODIFIED)

    @property
    def deleted(self) -> int:
        return self.count(ChangeKind.DELETED)


@dataclass(frozen=True)
class _Old:
    st: os.stat_result
    path: bytes
    dirs: tuple[bytes, ...]  # the lower directories merged at this path (empty for non-dirs)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


class _Stop(Exception):
    pass


@dataclass
class _Frame:
    """One upper directory being compared (an explicit stack instead of recursion)."""

    fd: int
    parts: tuple[bytes, ...]
    old_dirs: tuple[bytes, ...] | None  # the old view's directories here; None: none
    upper_only: bool
    entries: Iterator[tuple[bytes, os.stat_result]]
    st: os.stat_result | None  # this directory's lstat (None for the top)
    recorded: bool  # this directory itself was already reported A or C
    changed: bool = False  # something at or below this directory changed
    present: set[bytes] = field(default_factory=set)  # upper names that are not whiteouts


def _same_time(a_ns: int, b_ns: int) -> bool:
    a_sec, a_nsec = divmod(a_ns, _NS)
    b_sec, b_nsec = divmod(b_ns, _NS)
    return a_sec == b_sec and (a_nsec == b_nsec or a_nsec == 0 or b_nsec == 0)


def stat_different(old: os.stat_result, new: os.stat_result) -> bool:
    """moby pkg/archive/changes_unix.go statDifferent."""
    if (
        old.st_mode != new.st_mode
        or old.st_uid != new.st_uid
        or old.st_gid != new.st_gid
        or old.st_rdev != new.st_rdev
    ):
        return True
    if stat.S_ISDIR(old.st_mode):
        return False  # size and mtime of directories are not a measure of change
    return not _same_time(old.st_mtime_ns, new.st_mtime_ns) or old.st_size != new.st_size


class _Differ:
    def __init__(
        self, xattr_prefix: str, progress: Progress | None, max_changes: int | None
    ) -> None:
        self.xattr_prefix = xattr_prefix
        self.progress = progress
        self.max_changes = max_changes
        self.changes: list[Change] = []
        self.skipped: list[Skipped] = []
        self.size = 0
        self.inodes: set[tuple[int, int]] = set()
        self.seen = 0

    def emit(self, parts: tuple[bytes, ...], kind: ChangeKind, st: os.stat_result | None) -> None:
        ftype = fsutil.file_type(st) if st is not None else FileType.UNKNOWN
        size = None
        if st is not None and kind is not ChangeKind.DELETED and ftype is not FileType.DIR:
            size = st.st_size
        self.changes.append(Change(fsutil.container_path(parts), kind, ftype, size))
        if self.max_changes is not None and len(self.changes) >= self.max_changes:
            raise _Stop

    def tick(self, parts: tuple[bytes, ...]) -> None:
        self.seen += 1
        if (
            self.progress is not None
            and self.seen % _PROGRESS_EVERY == 0
            and self.progress(self.seen, fsutil.container_path(parts)) is False
        ):
            raise _Stop

    def account(self, st: os.stat_result) -> None:
        # moby pkg/directory.Size: non-directories with size > 0, hard links counted once.
        if stat.S_ISDIR(st.st_mode) or st.st_size == 0:
            return
        key = (st.st_dev, st.st_ino)
        if key not in self.inodes:
            self.inodes.add(key)
            self.size += st.st_size

    def lookup(
        self, old_dirs: Sequence[bytes], name: bytes, parts: tuple[bytes, ...]
    ) -> _Old | None:
        """Overlay lookup of `name` in the old (lower) view of a directory."""
        first: os.stat_result | None = None
        first_path = b""
        dirs: list[bytes] = []
        for directory in old_dirs:
            path = fsutil.join(directory, name)
            try:
                # Lower layers are immutable image content: a path walk over directories we
                # verified with lstat cannot be redirected by a symlink.
                st = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                self.skipped.append(Skipped(fsutil.container_path(parts), fsutil.reason(exc)))
                continue
            if fsutil.is_whiteout(st):
                break
            if stat.S_ISDIR(st.st_mode):
                if first is None:
                    first, first_path = st, path
                dirs.append(path)
                if fsutil.is_opaque_path(path, self.xattr_prefix):
                    break
            else:
                if first is None:
                    first, first_path = st, path
                break  # a non-directory ends the lookup (and hides a lower directory)
        if first is None:
            return None
        return _Old(first, first_path, tuple(dirs))

    def old_names(self, old_dirs: Sequence[bytes], parts: tuple[bytes, ...]) -> set[bytes]:
        visible: set[bytes] = set()
        decided: set[bytes] = set()
        for directory in old_dirs:
            try:
                names = [os.fsencode(n) for n in os.listdir(directory)]
            except OSError as exc:
                self.skipped.append(Skipped(fsutil.container_path(parts), fsutil.reason(exc)))
                continue
            for name in names:
                if name in decided:
                    continue
                decided.add(name)
                try:
                    if fsutil.is_whiteout(os.lstat(fsutil.join(directory, name))):
                        continue
                except OSError:
                    continue
                visible.add(name)
        return visible

    def open_frame(
        self,
        fd: int,
        parts: tuple[bytes, ...],
        old_dirs: tuple[bytes, ...] | None,
        upper_only: bool,
        st: os.stat_result | None = None,
        recorded: bool = True,
    ) -> _Frame:
        try:
            entries = fsutil.scan(fd)
        except OSError as exc:
            self.skipped.append(Skipped(fsutil.container_path(parts), fsutil.reason(exc)))
            entries = []
        return _Frame(fd, parts, old_dirs, upper_only, iter(entries), st, recorded)

    def step(self, frame: _Frame, name: bytes, st: os.stat_result) -> _Frame | None:
        """Compare one upper entry with the old view; a directory to descend into is
        returned as a new frame (its fd open)."""
        child = (*frame.parts, name)
        self.tick(child)
        old_dirs = frame.old_dirs
        if fsutil.is_whiteout(st):
            # Under an upper-only directory deletions are found by name in finish().
            if not frame.upper_only and old_dirs:
                old = self.lookup(old_dirs, name, child)
                if old is not None:
                    self.emit(child, ChangeKind.DELETED, old.st)
                    frame.changed = True
            return None
        frame.present.add(name)
        self.account(st)
        old = self.lookup(old_dirs, name, child) if old_dirs else None
        recorded = True
        if old is None:
            self.emit(child, ChangeKind.ADDED, st)
        elif stat_different(old.st, st) or fsutil.get_xattr_path(
            old.path, fsutil.CAPABILITY_XATTR
        ) != fsutil.get_xattr_at(frame.fd, name, fsutil.CAPABILITY_XATTR):
            self.emit(child, ChangeKind.MODIFIED, st)
        else:
            recorded = False
        frame.changed = frame.changed or recorded
        if not stat.S_ISDIR(st.st_mode):
            return None
        try:
            cfd = fsutil.open_child_dir(frame.fd, name)
        except OSError as exc:
            self.skipped.append(Skipped(fsutil.container_path(child), fsutil.reason(exc)))
            return None
        child_old = old.dirs if old is not None and old.is_dir else None
        try:
            if fsutil.get_xattr_fd(cfd, self.xattr_prefix + "redirect") is not None:
                # redirect_dir=on: this directory's lower contents live under another path.
                # They are not followed here, so its entries may differ from docker diff.
                reason = "redirected directory (redirect_dir): lower contents not compared"
                self.skipped.append(Skipped(fsutil.container_path(child), reason))
            # The new view of this directory is the upper one alone when it is new, replaced
            # a non-directory, or is opaque: old names missing from it were deleted.
            upper_only = (
                frame.upper_only or child_old is None or fsutil.is_opaque_fd(cfd, self.xattr_prefix)
            )
            return self.open_frame(cfd, child, child_old, upper_only, st, recorded)
        except BaseException:
            os.close(cfd)
            raise

    def finish(self, frame: _Frame) -> None:
        if frame.upper_only and frame.old_dirs:
            for name in sorted(self.old_names(frame.old_dirs, frame.parts) - frame.present):
                child = (*frame.parts, name)
                old = self.lookup(frame.old_dirs, name, child)
                if old is not None:
                    self.emit(child, ChangeKind.DELETED, old.st)
                    frame.changed = True
        # A directory with changes below it is C unless it is already A or C (moby adds it
        # so that a layer tar restores the directory's metadata).
        if frame.changed and not frame.recorded and frame.st is not None:
            self.emit(frame.parts, ChangeKind.MODIFIED, frame.st)

    def run(self, ufd: int, lowers: tuple[bytes, ...]) -> None:
        """Walk the upper tree iteratively (a deep tree must not hit Python's recursion
        limit); one fd is open per level of the current path."""
        stack = [self.open_frame(ufd, (), lowers, False)]
        try:
            while stack:
                frame = stack[-1]
                item = next(frame.entries, None)
                if item is None:
                    stack.pop()
                    if stack:
                        os.close(frame.fd)  # the top fd belongs to the caller
                    self.finish(frame)
                    if stack:
                        stack[-1].changed = stack[-1].changed or frame.changed
                    continue
                child = self.step(frame, *item)
                if child is not None:
                    stack.append(child)
        finally:
            for frame in stack[1:]:
                os.close(frame.fd)


def diff_dirs(
    upper: str | bytes | os.PathLike[str],
    lowers: Sequence[str | bytes | os.PathLike[str]],
    *,
    xattr_prefix: str = "trusted.overlay.",
    progress: Progress | None = None,
    max_changes: int | None = None,
) -> Changes:
    """Changes of an overlay upper directory against its lower directories (top first).

    Raises host.Gone when the upper directory itself is gone; anything unreadable below it is
    listed in `skipped`.
    """
    upper_path = os.fsencode(upper)
    lower_paths = tuple(os.fsencode(p) for p in lowers)
    try:
        ufd = fsutil.open_dir(upper_path)
    except OSError as exc:
        raise error_from_oserror(os.fsdecode(upper_path), exc) from None
    differ = _Differ(xattr_prefix, progress, max_changes)
    truncated = False
    try:
        differ.run(ufd, lower_paths)
    except _Stop:
        truncated = True
    finally:
        os.close(ufd)
    ordered = sorted(differ.changes, key=lambda c: fsutil.split_path(c.path))
    return Changes(tuple(ordered), differ.size, tuple(differ.skipped), truncated)


def compute_changes(
    root: HostRoot,
    stack: MountStack,
    *,
    progress: Progress | None = None,
    max_changes: int | None = None,
) -> Changes:
    """The container layer's changes; equal to `docker diff` for a Docker container.

    The old view is every read-only layer of the mount (init first), as in docker's diff
    against the init layer. Raises host.Gone when the upper directory vanished.
    """
    if stack.upper is None:
        return Changes((), 0, (), False)
    upper = layer_dir(root, stack.upper)
    if not stack.upper.exists and not os.path.isdir(upper):
        try:
            os.stat(upper)
        except PermissionError:
            raise NoAccess(os.fsdecode(upper), "permission denied") from None
        except OSError:
            pass
        raise Gone(os.fsdecode(upper), "the container's upper directory is gone")
    lowers = [layer_dir(root, layer) for layer in stack.below_upper if layer.exists]
    return diff_dirs(
        upper,
        lowers,
        xattr_prefix=stack.xattr_prefix,
        progress=progress,
        max_changes=max_changes,
    )
