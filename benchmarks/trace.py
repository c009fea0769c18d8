"""The floor: what one collector tick touches, replayed by a bare loop that parses nothing.

The list of files is not written down by hand: `trace()` wraps the `os` functions the readers
use (open, read, close, scandir, listdir, readlink, stat, lstat, and pread on the fds the
collector keeps open) during one tick and records each call, so the floor follows the collector
when it changes what it reads. A file read through a kept fd is replayed as an open, its reads
and a close: the floor stays the bare loop that opens every file it reads each tick.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TRACED = ("open", "read", "pread", "close", "scandir", "listdir", "readlink", "stat", "lstat")


@dataclass
class Op:
    call: str  # open, scandir, listdir, readlink, stat, lstat
    path: str
    reads: int = 0  # read(2) calls on the file this open returned
    ok: bool = True  # False: the call failed (a missing file is part of the cost too)


def trace(fn: Callable[[], Any]) -> tuple[Any, list[Op]]:
    """Run fn() once; return its result and every traced os call it made, in order."""
    ops: list[Op] = []
    open_files: dict[int, Op] = {}
    kept_files: dict[int, Op] = {}
    originals = {name: getattr(os, name) for name in TRACED}

    def wrap_path_call(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def traced(path: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(path, int):  # fstat(fd), scandir(fd): not a path lookup
                return original(path, *args, **kwargs)
            op = Op(name, os.fsdecode(path))
            ops.append(op)
            try:
                result = original(path, *args, **kwargs)
            except OSError:
                op.ok = False
                raise
            if name == "open":
                open_files[result] = op
            return result

        return traced

    def traced_read(fd: int, n: int) -> bytes:
        if fd in open_files:
            open_files[fd].reads += 1
        return originals["read"](fd, n)  # type: ignore[no-any-return]

    def traced_pread(fd: int, n: int, offset: int) -> bytes:
        # A file the collector keeps open (ctop_py/openfiles.py), read again at offset 0: the
        # floor opens, reads and closes it, as a tick did before fds were kept.
        if fd in open_files:  # opened in this tick
            open_files[fd].reads += 1
            return originals["pread"](fd, n, offset)  # type: ignore[no-any-return]
        if offset == 0 or fd not in kept_files:
            op = kept_files[fd] = Op("open", originals["readlink"](f"/proc/self/fd/{fd}"))
            ops.append(op)
        kept_files[fd].reads += 1
        return originals["pread"](fd, n, offset)  # type: ignore[no-any-return]

    def traced_close(fd: int) -> None:
        open_files.pop(fd, None)
        originals["close"](fd)

    try:
        for name, original in originals.items():
            if name == "read":
                setattr(os, name, traced_read)
            elif name == "pread":
                setattr(os, name, traced_pread)
            elif name == "close":
                setattr(os, name, traced_close)
            else:
                setattr(os, name, wrap_path_call(name, original))
        result = fn()
    finally:
        for name, original in originals.items():
            setattr(os, name, original)
    return result, ops


def summary(ops: list[Op]) -> dict[str, int]:
    counts = Counter(op.call for op in ops)
    counts["read"] = sum(op.reads for op in ops)
    counts["failed"] = sum(1 for op in ops if not op.ok)
    return dict(sorted(counts.items()))


def make_floor(ops: list[Op], to_eof: bool = False) -> Callable[[], int]:
    """A loop making the same system calls as the traced tick: each file opened, read(2) of
    64 KiB as many times as the tick did, closed; each directory listed; each link read.
    Nothing is parsed or kept. `to_eof`: instead read every file until read(2) returns
    nothing (the naive bare loop). Returns the bytes read (so the reads cannot be skipped)."""
    files = [(op.path, op.reads) for op in ops if op.call == "open"]
    dirs = [op.path for op in ops if op.call in ("scandir", "listdir")]
    links = [op.path for op in ops if op.call == "readlink"]
    stats = [op.path for op in ops if op.call in ("stat", "lstat")]
    o_open, o_read, o_close, flags = os.open, os.read, os.close, os.O_RDONLY | os.O_CLOEXEC
    scandir, readlink, lstat = os.scandir, os.readlink, os.lstat

    def floor() -> int:
        total = 0
        for path in dirs:
            try:
                with scandir(path) as entries:
                    for _ in entries:
                        total += 1
            except OSError:
                pass
        for path, reads in files:
            try:
                fd = o_open(path, flags)
            except OSError:
                continue
            try:
                if to_eof:
                    while chunk := o_read(fd, 65536):
                        total += len(chunk)
                else:
                    for _ in range(reads):
                        total += len(o_read(fd, 65536))
            except OSError:
                pass
            finally:
                o_close(fd)
        for path in links:
            try:  # noqa: SIM105 (suppress() costs more than the call it guards)
                total += len(readlink(path))
            except OSError:
                pass
        for path in stats:
            try:  # noqa: SIM105
                lstat(path)
            except OSError:
                pass
        return total

    return floor
