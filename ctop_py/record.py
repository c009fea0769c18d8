"""The recording format: raw samples, compressed, append-only, crash-safe.

    file    = MAGIC record*
    record  = length:u32be crc32:u32be deflate(json(RawSample), dictionary=previous json)

Compressing each sample against the previous one's JSON (zlib's preset dictionary, its last
32 KiB) makes the unchanged structure nearly free: ~0.6 KiB a sample for seven containers,
against ~4 KiB compressed alone. The price is that records decode in order.

Each record goes to the kernel in one write(2), so a recorder killed with SIGKILL leaves a file
whose records are all whole except possibly the last; the reader stops at the first record
that is short or fails its checksum, and says so. A failed write (disk full) truncates the file
back to its last whole record and raises: nothing half-written is left behind unnoticed.

Only the processes that belong to containers are stored, without their cgroup lines: neither
is needed to re-derive any container figure.
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
from ctop_py.errors import CtopError
from ctop_py.host import error_from_oserror
from ctop_py.model import RawSample

MAGIC = b"CTOPREC2\n"
WINDOW = 32768
_HEADER = struct.Struct(">II")
MAX_RECORD = 256 << 20


class RecordingError(CtopError):
    """A recording could not be written or read; `path` names the file."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def _slim(sample: RawSample) -> RawSample:
    wanted = {pid for c in sample.containers for pid in c.pids}
    return dataclasses.replace(
        sample,
        processes=tuple(
            dataclasses.replace(p, cgroups=()) for p in sample.processes if p.pid in wanted
        ),
    )


def sample_json(sample: RawSample) -> bytes:
    # A sample is a tree: no need to check for cycles (a third of the time at 1,000 containers)
    data = json.dumps(encode(_slim(sample)), separators=(",", ":"), check_circular=False)
    return data.encode("ascii")


def _compressor(previous: bytes, level: int = 9) -> zlib._Compress:
    if not previous:
        return zlib.compressobj(level)
    return zlib.compressobj(
        level, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, previous[-WINDOW:]
    )


def _decompressor(previous: bytes) -> zlib._Decompress:
    return zlib.decompressobj(15, previous[-WINDOW:]) if previous else zlib.decompressobj()


def encode_record(data: bytes, previous: bytes, level: int = 9) -> bytes:
    """One record; `level` is zlib's (the reader does not care; the live ring uses 6)."""
    compressor = _compressor(previous, level)
    payload = compressor.compress(data) + compressor.flush()
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


class Recorder:
    """Appends samples to FILE. Opening checks that FILE is a recording (or new/empty)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._previous = b""
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
                # Appending continues the dictionary chain from the last whole record.
                for previous, _ in _records(self.path):
                    self._previous = previous
                if self._previous and _tail_is_torn(self.path):
                    raise RecordingError(self.path, "ends in a torn record; record to a new file")
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
        data = sample_json(sample)
        self._write(encode_record(data, self._previous), good_size)
        self._previous = data

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
    for data, whole in _records(path):
        if not whole:
            yield None
            return
        try:
            yield decode(RawSample, json.loads(data))
        except (ValueError, KeyError, TypeError):
            yield None
            return


def _tail_is_torn(path: Path) -> bool:
    return any(not whole for _, whole in _records(path))


def _records(path: Path) -> Iterator[tuple[bytes, bool]]:
    """Each record's JSON and True; then (b"", False) once if the tail is torn or corrupt."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordingError(path, _reason(exc)) from None
    yield from _records_in(data, path)


def samples_in(data: bytes, name: str = "<memory>") -> tuple[RawSample, ...]:
    """The whole samples of a recording held in memory (the live app's ring)."""
    samples = []
    for record, whole in _records_in(data, Path(name)):
        if not whole:
            break
        samples.append(decode(RawSample, json.loads(record)))
    return tuple(samples)


def _records_in(data: bytes, path: Path) -> Iterator[tuple[bytes, bool]]:
    if not data.startswith(MAGIC):
        raise RecordingError(path, "not a ctop-py recording")
    offset = len(MAGIC)
    previous = b""
    while offset < len(data):
        if offset + _HEADER.size > len(data):
            yield b"", False
            return
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start : start + length]
        if length > MAX_RECORD or len(payload) != length or zlib.crc32(payload) != crc:
            yield b"", False
            return
        try:
            decompressor = _decompressor(previous)
            current = decompressor.decompress(payload) + decompressor.flush()
        except zlib.error:
            yield b"", False
            return
        yield current, True
        previous = current
        offset = start + length
