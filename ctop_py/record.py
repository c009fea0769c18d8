"""The recording format: raw samples, compressed, append-only, crash-safe.

    file    = MAGIC record*
    record  = length:u32be crc32:u32be zlib(json(RawSample))

Each record goes to the kernel in one write(2), so a recorder killed with SIGKILL leaves a file
whose records are all whole except possibly the last; the reader stops at the first record
that is short or fails its checksum, and says so. A failed write (disk full) truncates the file
back to its last whole record and raises: nothing half-written is left behind unnoticed.

Only the processes that belong to containers are stored: the host's others are not needed to
re-derive any container figure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ctop_py.codec import decode, encode
from ctop_py.host import HostError, error_from_oserror
from ctop_py.model import RawSample

MAGIC = b"CTOPREC1\n"
_HEADER = struct.Struct(">II")
MAX_RECORD = 256 << 20


class RecordingError(HostError):
    """A recording could not be written or read."""


def _slim(sample: RawSample) -> RawSample:
    wanted = {pid for c in sample.containers for pid in c.pids}
    return dataclasses.replace(
        sample, processes=tuple(p for p in sample.processes if p.pid in wanted)
    )


def encode_sample(sample: RawSample) -> bytes:
    payload = zlib.compress(
        json.dumps(encode(_slim(sample)), separators=(",", ":")).encode("ascii"), 6
    )
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


class Recorder:
    """Appends samples to FILE. Opening checks that FILE is a recording (or new/empty)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.fd = os.open(
                self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644
            )
        except OSError as exc:
            raise RecordingError(self.path, _reason(exc)) from None
        try:
            size = os.fstat(self.fd).st_size
            if size == 0:
                self._write(MAGIC, 0)
            else:
                with open(self.path, "rb") as existing:
                    if existing.read(len(MAGIC)) != MAGIC:
                        raise RecordingError(self.path, "exists and is not a ctop-py recording")
        except BaseException:
            os.close(self.fd)
            raise

    def _write(self, data: bytes, good_size: int) -> None:
        try:
            written = os.write(self.fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "No space left on device (short write)")
        except OSError as exc:
            # Leave only whole records behind.
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, good_size)
            raise RecordingError(self.path, _reason(exc)) from None

    def append(self, sample: RawSample) -> None:
        good_size = os.fstat(self.fd).st_size
        self._write(encode_sample(sample), good_size)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: OSError) -> str:
    return str(error_from_oserror("", exc).reason)


@dataclass(frozen=True)
class Recording:
    samples: tuple[RawSample, ...]
    truncated: bool  # the last record was incomplete (a killed recorder): dropped


def read_recording(path: str | os.PathLike[str]) -> Recording:
    return Recording(*_read_all(Path(path)))


def _read_all(path: Path) -> tuple[tuple[RawSample, ...], bool]:
    samples = []
    truncated = False
    for sample in iter_samples(path):
        if sample is None:
            truncated = True
            break
        samples.append(sample)
    return tuple(samples), truncated


def iter_samples(path: Path) -> Iterator[RawSample | None]:
    """The samples in order; None once, at an incomplete or corrupt tail."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordingError(path, _reason(exc)) from None
    if not data.startswith(MAGIC):
        raise RecordingError(path, "not a ctop-py recording")
    offset = len(MAGIC)
    while offset < len(data):
        if offset + _HEADER.size > len(data):
            yield None
            return
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start : start + length]
        if length > MAX_RECORD or len(payload) != length or zlib.crc32(payload) != crc:
            yield None
            return
        try:
            yield decode(RawSample, json.loads(zlib.decompress(payload)))
        except (ValueError, KeyError, TypeError, zlib.error):
            yield None
            return
        offset = start + length
