"""Which files a piece of code reads: each os.open by path, and each os.pread at offset 0 of
an fd the collector keeps open (ctop_py/openfiles.py), named by /proc/self/fd. One entry per
read of a file (a kept file read to EOF preads further offsets too: not counted again)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def files_read() -> Iterator[list[str]]:
    paths: list[str] = []
    original_open, original_pread = os.open, os.pread

    def traced_open(path: Any, *args: Any, **kwargs: Any) -> int:
        flags = args[0] if args else kwargs.get("flags", 0)
        if flags & os.O_PATH:  # a directory opened to open its files by name: nothing read
            return original_open(path, *args, **kwargs)
        name = os.fsdecode(path)
        dir_fd = kwargs.get("dir_fd")
        if dir_fd is not None and not name.startswith("/"):  # opened relative to a directory
            name = f"{os.readlink(f'/proc/self/fd/{dir_fd}')}/{name}"
        paths.append(name)
        return original_open(path, *args, **kwargs)

    def traced_pread(fd: int, size: int, offset: int) -> bytes:
        if offset == 0:
            # A kept /proc/PID/net/... fd reads "… (deleted)" once anyone looks the path up
            # again (procfs revalidates net entries on every lookup, unhashing the old
            # dentry); the fd still reads its file: the name is what counts here.
            paths.append(os.readlink(f"/proc/self/fd/{fd}").removesuffix(" (deleted)"))
        return original_pread(fd, size, offset)

    os.open, os.pread = traced_open, traced_pread
    try:
        yield paths
    finally:
        os.open, os.pread = original_open, original_pread


def fd_targets() -> dict[int, str]:
    """This process's open fds and what each names (/proc/self/fd)."""
    result = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own fd, closed by now
            result[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    return result
