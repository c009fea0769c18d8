"""HostRoot: the one seam between ctop-py and the host's filesystem.

Every reader takes a HostRoot and reads through it, so `--root /host` (a host mounted inside a
container) and fake trees under a test's tmp_path work the same as `/`.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from ctop_py.errors import CtopError

# A process or cgroup that disappears mid-read shows up as one of these; that is normal.
GONE_ERRNOS = frozenset({errno.ENOENT, errno.ESRCH, errno.ENODEV, errno.EINVAL, errno.ENOTDIR})
NO_ACCESS_ERRNOS = frozenset({errno.EACCES, errno.EPERM})

_READ_CHUNK = 65536


class HostError(CtopError):
    """A read failed; `path` names the file."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class Gone(HostError):
    """The process, cgroup or file vanished (ENOENT, ESRCH, ENODEV, EINVAL for zombies)."""


class NoAccess(HostError):
    """Permission denied (EACCES, EPERM)."""


class Malformed(HostError):
    """The file was read but its contents did not parse."""


def error_from_errno(
    path: str | os.PathLike[str],
    code: int | None,
    reason: str,
    other: type[HostError] | None = None,
) -> HostError:
    """The one errno mapping: Gone, NoAccess, else `other` (HostError by default)."""
    if code in GONE_ERRNOS:
        return Gone(path, reason)
    if code in NO_ACCESS_ERRNOS:
        return NoAccess(path, reason)
    return (other or HostError)(path, reason)


def error_from_oserror(path: str | os.PathLike[str], exc: OSError) -> HostError:
    return error_from_errno(path, exc.errno, exc.strerror or str(exc))


def read_rest(fd: int, chunks: list[bytes] | None = None) -> bytes:
    """Read `fd` to its end (after `chunks` already read): the one read loop. Raises OSError."""
    chunks = chunks if chunks is not None else []
    while chunk := os.read(fd, _READ_CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a whole (pseudo-)file with raw os calls: cheaper than open() for tiny proc files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise error_from_oserror(path, exc) from None
    try:
        return read_rest(fd)
    except OSError as exc:
        raise error_from_oserror(path, exc) from None
    finally:
        os.close(fd)


READ_BUFFER = 65536
READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC


def read_record(path: str) -> bytes:
    """A pseudo-file the kernel writes as one seq_file record (/proc/PID/stat, status, cgroup;
    a cgroup's files): one read(2) when it is shorter than the buffer, since a short read is
    then its end. Not for lists such as net/dev or cgroup.procs, which may come in several
    reads. Raises like read_bytes."""
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError as exc:
        raise error_from_oserror(path, exc) from None
    try:
        data = os.read(fd, READ_BUFFER)
        return read_rest(fd, [data]) if len(data) == READ_BUFFER else data
    except OSError as exc:
        raise error_from_oserror(path, exc) from None
    finally:
        os.close(fd)


def read_optional(path: str | os.PathLike[str]) -> bytes | None:
    """The file's bytes, or None when it does not exist (an absent controller or old kernel)."""
    try:
        return read_bytes(path)
    except Gone:
        return None


def readlink(path: str | os.PathLike[str]) -> str:
    try:
        return os.readlink(path)
    except OSError as exc:
        raise error_from_oserror(path, exc) from None


@dataclass(frozen=True)
class HostRoot:
    """Where the host's proc, sys and runtime state directories are."""

    root: Path = Path("/")

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> HostRoot:
        return cls(Path(root))

    def path(self, absolute: str) -> Path:
        """Map a host-absolute path ('/proc/1/stat') into this root."""
        return self.root / absolute.lstrip("/")

    @property
    def is_real_root(self) -> bool:
        return self.root == Path("/")

    @property
    def proc(self) -> Path:
        return self.path("/proc")

    @property
    def sys(self) -> Path:
        return self.path("/sys")

    @property
    def cgroup(self) -> Path:
        return self.path("/sys/fs/cgroup")

    @property
    def docker(self) -> Path:
        return self.path("/var/lib/docker")

    @property
    def containers_storage(self) -> Path:
        return self.path("/var/lib/containers/storage")

    @property
    def containerd(self) -> Path:
        return self.path("/var/lib/containerd")

    def check(self) -> None:
        """Fail with one clear line if this root has no readable /proc."""
        if not self.root.is_dir():
            raise HostError(self.root, "no such directory")
        if not (self.proc / "stat").exists():
            raise HostError(self.proc, "not a proc filesystem (no /proc/stat under the root)")
