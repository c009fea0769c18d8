"""Safe primitives for reading layer directories whose contents are untrusted.

Rules: never follow a symlink found inside a layer (lstat, O_NOFOLLOW, fstatat with a dir fd);
never open anything that is not a directory (FIFOs block, devices have side effects); names
are bytes and stay bytes until they become data (then str with surrogateescape).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ctop_py.mounts import fsdecode

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
CAPABILITY_XATTR = "security.capability"


class FileType(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    FIFO = "fifo"
    SOCKET = "socket"
    CHAR = "char"
    BLOCK = "block"
    WHITEOUT = "whiteout"  # char device 0:0 in an overlay layer: "deleted here"
    UNKNOWN = "unknown"


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def file_type(st: os.stat_result) -> FileType:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return FileType.FILE
    if stat.S_ISDIR(mode):
        return FileType.DIR
    if stat.S_ISLNK(mode):
        return FileType.SYMLINK
    if stat.S_ISCHR(mode):
        return FileType.WHITEOUT if st.st_rdev == 0 else FileType.CHAR
    if stat.S_ISBLK(mode):
        return FileType.BLOCK
    if stat.S_ISFIFO(mode):
        return FileType.FIFO
    if stat.S_ISSOCK(mode):
        return FileType.SOCKET
    return FileType.UNKNOWN


@dataclass(frozen=True)
class Skipped:
    """Something a walk could not read; reported instead of raised."""

    path: str  # container path (or layer-relative path) of the directory or entry
    reason: str


def join(parent: bytes, name: bytes) -> bytes:
    return parent + name if parent.endswith(b"/") else parent + b"/" + name


def split_path(path: str | bytes) -> tuple[bytes, ...]:
    """'/a/./b//c' → (b'a', b'b', b'c'); `..` pops lexically (never resolved through a symlink)."""
    raw = path if isinstance(path, bytes) else path.encode("utf-8", "surrogateescape")
    parts: list[bytes] = []
    for part in raw.split(b"/"):
        if part in (b"", b"."):
            continue
        if part == b"..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return tuple(parts)


def container_path(parts: Sequence[bytes]) -> str:
    return fsdecode(b"/" + b"/".join(parts))


def open_dir(path: bytes | str | os.PathLike[str]) -> int:
    """Open a layer's top directory (a host path: symlinks in the host's own path are fine)."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def open_child_dir(dir_fd: int, name: bytes) -> int:
    """Open `name` inside dir_fd only if it is a real directory (a symlink fails with ELOOP)."""
    return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)


def open_dir_nofollow(top: bytes | str | os.PathLike[str], parts: Sequence[bytes]) -> int:
    """Open top/parts[0]/…, refusing a symlink at every step inside the layer."""
    fd = open_dir(top)
    try:
        for part in parts:
            child = open_child_dir(fd, part)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def lstat_at(dir_fd: int, name: bytes) -> os.stat_result:
    return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)


def _fd_entry_path(dir_fd: int, name: bytes) -> bytes:
    # /proc/self/fd/N pins the directory; the last component is not followed (l*xattr).
    return b"/proc/self/fd/%d/%s" % (dir_fd, name)


def get_xattr_at(dir_fd: int, name: bytes, attr: str) -> bytes | None:
    """An xattr of an entry without opening it and without following it; None when absent."""
    try:
        return os.getxattr(_fd_entry_path(dir_fd, name), attr, follow_symlinks=False)
    except OSError:
        return None


def get_xattr_fd(fd: int, attr: str) -> bytes | None:
    try:
        return os.getxattr(fd, attr)
    except OSError:
        return None


def get_xattr_path(path: bytes, attr: str) -> bytes | None:
    try:
        return os.getxattr(path, attr, follow_symlinks=False)
    except OSError:
        return None


def is_opaque_fd(fd: int, xattr_prefix: str) -> bool:
    return get_xattr_fd(fd, xattr_prefix + "opaque") == b"y"


def is_opaque_path(path: bytes, xattr_prefix: str) -> bool:
    return get_xattr_path(path, xattr_prefix + "opaque") == b"y"


def readlink_at(dir_fd: int, name: bytes) -> bytes | None:
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None


def scan(dir_fd: int) -> list[tuple[bytes, os.stat_result]]:
    """Entries of a directory with lstat results, sorted by name bytes; vanished ones dropped."""
    out: list[tuple[bytes, os.stat_result]] = []
    # scandir on an fd would close it; list names from a dup and stat relative to dir_fd.
    for name in os.listdir(dir_fd):
        raw = os.fsencode(name)
        try:
            out.append((raw, lstat_at(dir_fd, raw)))
        except FileNotFoundError:
            continue
    out.sort(key=lambda item: item[0])
    return out


def reason(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "error")
    return f"{exc.strerror or exc} ({name})"
