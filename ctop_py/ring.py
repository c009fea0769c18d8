"""The live app's flight recorder: the last minutes of raw samples, kept compressed (the
closed segments in an unlinked temporary file, `_SpillFile`, out of the app's memory),
bounded in time and in bytes; saved (`W`) as a recording (ctop_py.record).

A sample is the recorder's JSON (`record.sample_json`, byte for byte). In a recording each
record is compressed against the previous sample's JSON, but zlib sees only its last 32 KiB:
at 100 containers (~250 KiB of JSON) the previous sample is out of reach for all but the last
dozen containers, so a record compressed about as well as alone. The ring instead compresses
the sample in groups of containers (GROUP_BYTES), each against the same positions' JSON in the
previous sample (what a container's JSON was a tick ago is nearly all of what it is now),
plus the rest of the sample against the previous rest: at 332 live containers here, 12 KiB a
sample instead of 48, and a third of the CPU (issue 16). Decoding goes in order from a
keyframe (a sample compressed against nothing), so the ring is a list of segments, each
starting with one; whole segments are dropped from the old end. It keeps at least `seconds`
of samples (the oldest segment goes once the next one alone covers the window) and at most
`max_bytes` of compressed samples plus one segment's keyframe. `save()` writes it as a
recording file that `ctop-py replay FILE` opens (re-encoded then, in the recording's format).
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import struct
import tempfile
import weakref
import zlib
from array import array
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from ctop_py.codec import _TEXT, _names, _plain, decode
from ctop_py.model import CgroupStats, ContainerRaw, Process, RawSample
from ctop_py.record import MAGIC, RecordingError, encode_record

WINDOW_S = 900.0  # 15 minutes
MAX_BYTES = 8 << 20  # 8 MiB of compressed samples: 15 minutes of ~200 busy containers
KEYFRAME_EVERY = 60  # samples per segment (a keyframe costs ~4× a chained sample)
LEVEL = 6  # zlib's: every tick pays it (level 1: twice the bytes for half the time)
# Containers compressed together, by the bytes of their previous JSON (the dictionary): a
# container's previous JSON must stay within zlib's 32 KiB window of its new one, about a
# group's bytes behind it. By bytes, not a count: a group costs a deflate block's overhead
# (at 100 moving containers of ~3 KiB, 9 a group instead of 6: 14 % fewer bytes a sample),
# and containers with large labels no longer push their previous JSON out of reach.
GROUP_BYTES = 28 << 10
NEW_BYTES = 3 << 10  # a new container's (no previous JSON) share of its group
SAVE_LEVEL = 1  # `W` re-encodes the whole ring at once: fast over small
_LENGTH = struct.Struct(">I")
_KEY = 80  # a container's JSON starts with its id: the first bytes tell it from another
_SEP = b"\n"  # between a group's containers, and where they go in the rest: JSON escapes it


def _dumps(value: Any) -> str:
    return json.dumps(_plain(value), separators=(",", ":"), check_circular=False)


# What json.dumps writes of a dict of str to these is what _dumps writes (_plain copies it).
_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})
_STR = frozenset({str})
_encode_plain = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _float(value: float) -> str:
    """A float as json.dumps writes it (allow_nan: NaN and the infinities by name)."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    text: str = float.__repr__(value)
    return text


def _json(value: Any) -> str:
    """`_dumps(value)`, byte for byte, written directly: the dataclasses a busy container
    makes anew each tick (its counters, PSI) cost a third less than building their `_plain`
    dict for json.dumps. What it does not know goes to `_dumps`."""
    kind = type(value)
    if kind is str:
        text: str = encode_basestring_ascii(value)
        return text
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is float:
        return _float(value)
    if kind is bool:
        return "true" if value else "false"
    names = _names(kind)
    if names is not None and names is not _TEXT:  # a dataclass: its fields, in order
        return "{" + ",".join([f'"{n}":{_json(getattr(value, n))}' for n in names]) + "}"
    if kind is dict and set(map(type, value)) <= _STR:
        if set(map(type, value.values())) <= _PLAIN_SCALARS:  # memory.stat: C's
            return _encode_plain(value)
        items = [encode_basestring_ascii(k) + ":" + _json(v) for k, v in value.items()]
        return "{" + ",".join(items) + "}"
    if kind is tuple or kind is list:
        return "[" + ",".join([_json(v) for v in value]) + "]"
    return _dumps(value)


def _scalar(value: Any) -> str | None:
    """The JSON of a str, int or None as json.dumps writes it; None for anything else."""
    kind = type(value)
    if kind is str:
        text: str = encode_basestring_ascii(value)
        return text
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return None


_CONTAINER_FIELDS = tuple(f.name for f in dataclasses.fields(ContainerRaw))
_SAMPLE_FIELDS = tuple(f.name for f in dataclasses.fields(RawSample))
_CGROUP_FIELDS = tuple(f.name for f in dataclasses.fields(CgroupStats))
# A container's record, its JSON, the parts it was made of (by id) and its labels with theirs.
_Row = tuple[ContainerRaw, bytes, dict[int, tuple[object, str]], tuple[object, str]]


class SampleEncoder:
    """`record.sample_json(sample)`, byte for byte, with the JSON text of every part that is the
    very same object as in the previous sample reused instead of encoded again: an idle
    container keeps its `CgroupStats` (and net counters, labels, …) from one tick to the next,
    and an unchanged process its `Process`, so at steady state only what changed is encoded.
    Parts are remembered by identity with a reference held (so an id is never reused while
    remembered), for one sample: what the next sample does not use is dropped."""

    def __init__(self) -> None:
        self._chunks: dict[int, tuple[object, str]] = {}
        self._next: dict[int, tuple[object, str]] = {}
        # An idle container is the very same record tick to tick: its whole JSON is kept, by
        # its id, with the parts it was made of and its labels' JSON (labels, built anew each
        # tick from the Engine's list, are compared by value): its next record reuses them.
        self._rows: dict[str, _Row] = {}
        self._next_rows: dict[str, _Row] = {}
        self._row_parts: dict[int, tuple[object, str]] = {}  # the old row of the one encoded
        self._used: dict[int, tuple[object, str]] | None = None

    def _chunk(self, value: object, encode: Any = None) -> str:
        key = id(value)
        hit = self._next.get(key) or self._chunks.get(key) or self._row_parts.get(key)
        if hit is None or hit[0] is not value:
            hit = (value, (encode or _json)(value))
        self._next[key] = hit
        if self._used is not None:
            self._used[key] = hit
        return hit[1]

    def _value(self, value: object) -> str:
        text = _scalar(value)
        if text is not None:
            return text
        if isinstance(value, tuple) and all(type(v) is int for v in value):
            return "[" + ",".join(map(int.__repr__, value)) + "]"
        return self._chunk(value)

    def _fields(self, value: object, names: tuple[str, ...]) -> str:
        parts = [f'"{name}":{self._value(getattr(value, name))}' for name in names]
        return "{" + ",".join(parts) + "}"

    def _row(self, container: ContainerRaw) -> bytes:
        key = container.id
        hit = self._next_rows.get(key) or self._rows.get(key)
        if hit is None or hit[0] is not container:
            old = hit
            self._used = {}
            self._row_parts = old[2] if old is not None else {}
            try:
                labels = container.labels
                if old is not None and (old[3][0] is labels or old[3][0] == labels):
                    labels_json = old[3]
                else:
                    labels_json = (labels, _json(labels))
                text = self._container(container, labels_json[1]).encode("ascii")
            finally:
                used, self._used, self._row_parts = self._used, None, {}
            hit = (container, text, used, labels_json)
        self._next_rows[key] = hit
        return hit[1]

    def _container(self, container: ContainerRaw, labels: str) -> str:
        cgroup = container.cgroup
        if cgroup is not None:  # a busy container's counters change, its limits rarely do
            self._chunk(cgroup, lambda c: self._fields(c, _CGROUP_FIELDS))
        parts = []
        for name in _CONTAINER_FIELDS:
            # labels: str to str, so equal values, equal JSON
            text = labels if name == "labels" else self._value(getattr(container, name))
            parts.append(f'"{name}":{text}')
        return "{" + ",".join(parts) + "}"

    def encode(self, sample: RawSample) -> bytes:
        rest, containers = self.parts(sample)
        before, after = rest.split(_SEP, 1)
        return before + b",".join(containers) + after

    def parts(self, sample: RawSample) -> tuple[bytes, list[bytes]]:
        """`encode(sample)` in parts: each container's JSON, and the rest of the sample's
        with a newline where the containers go (JSON text never holds a raw newline)."""
        self._next, self._next_rows = {}, {}
        wanted = {pid for c in sample.containers for pid in c.pids}  # as record._slim
        parts = []
        containers: list[bytes] = []
        for name in _SAMPLE_FIELDS:
            value = getattr(sample, name)
            if name == "containers":
                containers = [self._row(c) for c in value]
                text = "[\n]"
            elif name == "processes":
                text = "[" + ",".join(self._process(p) for p in value if p.pid in wanted) + "]"
            else:
                text = self._value(value)
            parts.append(f'"{name}":{text}')
        self._chunks, self._rows = self._next, self._next_rows
        return ("{" + ",".join(parts) + "}").encode("ascii"), containers

    def _process(self, process: Process) -> str:
        return self._chunk(process, lambda p: _json(dataclasses.replace(p, cgroups=())))

    def clear(self) -> None:
        self._chunks, self._rows = {}, {}


def _deflate(data: bytes, zdict: bytes) -> bytes:
    compressor = (
        zlib.compressobj(LEVEL, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
        if zdict
        else zlib.compressobj(LEVEL, zlib.DEFLATED, -15, 9)
    )
    return compressor.compress(data) + compressor.flush()


def _inflate(data: bytes, zdict: bytes) -> bytes:
    decompressor = zlib.decompressobj(-15, zdict) if zdict else zlib.decompressobj(-15)
    return decompressor.decompress(data) + decompressor.flush()


def _unpacked(record: bytes) -> list[bytes]:
    blobs = []
    offset = 0
    while offset < len(record):
        (length,) = _LENGTH.unpack_from(record, offset)
        offset += _LENGTH.size
        blobs.append(record[offset : offset + length])
        offset += length
    return blobs


class _Chain:
    """What compresses (or decodes) one sample needs of the one before it: its rest and its
    containers' JSON. A sample is stored as [rest, alignment, changed, groups…]. Each
    container's previous JSON is found by position or, when containers came or went (the
    alignment is then stored: each container's position in the previous sample, -1 if new),
    by its id. A container whose JSON is exactly its previous one (what an idle container's
    is) is not stored at all: `changed` is the bitmask of those that are (little-endian, bit i
    for the i-th container; empty: none), and only they are cut into groups (GROUP_BYTES of
    previous JSON), each compressed against the JSON the same containers had in the previous
    sample. A group's compressor, not its bytes, is most of its cost (zlib takes its
    dictionary in and sets up ~400 KiB of state): at 100 mostly idle containers the few that
    changed make one or two groups instead of one for every nine containers. References go
    to the previous sample only, in the same segment, so trimming whole segments never cuts
    one from what it refers to. A keyframe (no sample before) compresses its containers all
    together, which only then does better."""

    def __init__(self) -> None:
        self.rest = b""
        self.containers: list[bytes] | None = None  # the previous sample's, once there is one

    def _groups(self, sources: Sequence[int]) -> list[tuple[int, int, bytes]]:
        """Each group's [start, end) in `sources` and its dictionary: the previous JSON of
        its containers. Made from what pack and unpack both know (the sources and the
        previous sample), so both cut the same groups."""
        old = self.containers or []
        groups: list[tuple[int, int, bytes]] = []
        start = size = 0
        for i, j in enumerate(sources):
            n = len(old[j]) if 0 <= j < len(old) else NEW_BYTES
            if i > start and size + n > GROUP_BYTES:
                groups.append((start, i, self._dict(old, sources[start:i])))
                start, size = i, 0
            size += n
        if len(sources) > start:
            groups.append((start, len(sources), self._dict(old, sources[start:])))
        return groups

    @staticmethod
    def _dict(old: list[bytes], sources: Sequence[int]) -> bytes:
        return _SEP.join(old[j] for j in sources if 0 <= j < len(old))

    def pack(self, rest: bytes, containers: list[bytes]) -> bytes:
        blobs = [_deflate(rest, self.rest)]
        old = self.containers
        if old is None:
            blobs += [b"", _deflate(_SEP.join(containers), b"")] if containers else [b""]
        else:
            # Aligned (no alignment stored): the same containers at the same positions, as
            # many as before, so unpack() knows the sources from the previous sample alone.
            sources: Sequence[int] = range(len(containers))
            alignment = b""
            if len(containers) != len(old) or not all(
                o[:_KEY] == c[:_KEY] for o, c in zip(old, containers, strict=True)
            ):
                where = {c[:_KEY]: i for i, c in enumerate(old)}
                sources = array("i", [where.get(c[:_KEY], -1) for c in containers])
                alignment = _deflate(sources.tobytes(), b"")
            # The encoder hands an unchanged row back as the very bytes object of the last
            # sample: `is` decides most without comparing bytes.
            changed = [
                i
                for i, (j, c) in enumerate(zip(sources, containers, strict=True))
                if j < 0 or not (old[j] is c or old[j] == c)
            ]
            mask = sum(1 << i for i in changed)
            blobs += [alignment, mask.to_bytes((mask.bit_length() + 7) // 8, "little")]
            moved = [sources[i] for i in changed]
            for start, end, zdict in self._groups(moved):
                blobs.append(_deflate(_SEP.join(containers[i] for i in changed[start:end]), zdict))
        self.rest, self.containers = rest, containers
        return b"".join(_LENGTH.pack(len(b)) + b for b in blobs)

    def unpack(self, record: bytes) -> bytes:
        """The sample's JSON, as `SampleEncoder.encode` wrote it."""
        blobs = _unpacked(record)
        rest = _inflate(blobs[0], self.rest)
        old = self.containers
        if old is None:
            groups = blobs[2:]
            whole = _inflate(groups[0], b"") if groups else b""
            containers = whole.split(_SEP) if whole else []
        else:
            alignment, mask, groups = blobs[1], int.from_bytes(blobs[2], "little"), blobs[3:]
            sources: Sequence[int] = range(len(old))
            if alignment:
                sources = array("i")
                sources.frombytes(_inflate(alignment, b""))
            changed = [i for i in range(len(sources)) if mask >> i & 1]
            containers = [old[j] if j >= 0 else b"" for j in sources]
            moved = [sources[i] for i in changed]
            fresh = [
                c
                for (_, _, zdict), blob in zip(self._groups(moved), groups, strict=True)
                for c in _inflate(blob, zdict).split(_SEP)
            ]
            for i, c in zip(changed, fresh, strict=True):
                containers[i] = c
        self.rest, self.containers = rest, containers
        before, after = rest.split(_SEP, 1)
        return before + b",".join(containers) + after


class _SpillFile:
    """Closed segments' bytes, out of the process's memory: one unlinked temporary file
    (O_TMPFILE, or a name removed as soon as made, so nothing is left on disk even after a
    crash), written and read with pwrite/pread (not mmap'd: mapped file pages count in the
    process's RSS, pages of a file only read and written do not). Segments are written one
    after the other and dropped from the old end: when the file is over twice what it still
    holds, what is live moves down to its start and the rest is cut off."""

    def __init__(self, directory: str) -> None:
        self.fd = _open_unlinked(directory)
        self.end = 0
        self.live = 0
        # The fd goes with the ring (and at exit): never left open, never inherited (Python's
        # fds are O_CLOEXEC).
        self._closer = weakref.finalize(self, os.close, self.fd)

    def write(self, data: bytes) -> int:
        """Where `data` now is (OSError, e.g. ENOSPC: the caller keeps it in memory)."""
        offset = self.end
        _pwrite_all(self.fd, data, offset)
        self.end += len(data)
        self.live += len(data)
        return offset

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            raise OSError(f"scroll-back file: {len(data)} of {length} bytes at {offset}")
        return data

    def drop(self, length: int, kept: Sequence[_Segment]) -> None:
        """A segment of `length` bytes is gone; `kept`: the spilled ones left, oldest first."""
        self.live -= length
        if self.live <= 0:
            self.end = self.live = 0
            os.ftruncate(self.fd, 0)
        elif self.end > 2 * self.live:
            offset = 0
            # Each moves down by what is free before the first, at least `live`, so no more
            # than a segment: a write never lands on a segment not moved yet, and one that
            # fails halfway leaves the rest where they were, whole and in order.
            for segment in kept:
                data = self.read(segment.spilled_at, segment.nbytes)
                _pwrite_all(self.fd, data, offset)
                segment.spilled_at = offset
                offset += len(data)
            self.end = offset
            os.ftruncate(self.fd, offset)

    def close(self) -> None:
        self._closer()


def spill_home(environ: Mapping[str, str] = os.environ, var_tmp: str = "/var/tmp") -> str:
    """$TMPDIR if set, else /var/tmp where it is a writable directory (on disk by convention:
    a tmpfs /tmp would hold the spilled scroll-back in memory after all), else the temporary
    directory Python finds."""
    if environ.get("TMPDIR"):
        return tempfile.gettempdir()
    if os.path.isdir(var_tmp) and os.access(var_tmp, os.W_OK | os.X_OK):
        return var_tmp
    return tempfile.gettempdir()


def _open_unlinked(directory: str) -> int:
    flags = os.O_RDWR | os.O_CLOEXEC
    tmpfile = getattr(os, "O_TMPFILE", 0)
    if tmpfile:
        try:
            return os.open(directory, flags | tmpfile, 0o600)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise  # the directory itself is the trouble: mkstemp would fail as well
    fd, name = tempfile.mkstemp(prefix=".ctop-py-ring-", dir=directory)
    try:
        os.unlink(name)
    except OSError:
        os.close(fd)
        raise
    return fd


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


@dataclass
class _Segment:
    """A keyframe and the samples chained to it. Closed, its records are one bytes object
    end to end (`ends`: where each one ends), written to the ring's spill file
    (`spilled_at`: where; `data` then empty) or, where that failed, kept in `data`: one
    allocation of ~200 KiB at 100 containers kept for 15 minutes, instead of 60 of ~3.5 KiB
    scattered among each tick's short-lived buffers, where they keep pages of the
    allocator's heap from going back."""

    first_time: float
    pending: list[bytes] = field(default_factory=list)  # the records, while it fills
    data: bytes = b""  # the records end to end, once closed (unless spilled)
    ends: array[int] = field(default_factory=lambda: array("I"))
    times: list[float] = field(default_factory=list)
    nbytes: int = 0
    spilled_at: int = -1  # its offset in the spill file; -1: in memory

    def add(self, record: bytes, time: float) -> None:
        self.pending.append(record)
        self.times.append(time)
        self.nbytes += len(record)

    def close(self) -> None:
        if self.pending:
            ends = array("I")
            end = 0
            for record in self.pending:
                end += len(record)
                ends.append(end)
            self.data, self.ends, self.pending = b"".join(self.pending), ends, []

    def __len__(self) -> int:
        return len(self.times)

    def records_of(self, data: bytes) -> list[bytes]:
        """The records, given the closed segment's bytes (`data`, or what was spilled)."""
        if self.pending or not self.ends:
            return list(self.pending)
        return [data[start:end] for start, end in zip((0, *self.ends), self.ends, strict=False)]

    @property
    def records(self) -> list[bytes]:
        """The records of a segment in memory (a spilled one's: `SampleRing.records`)."""
        if self.spilled_at >= 0:
            raise ValueError("a spilled segment's records are in the ring's file")
        return self.records_of(self.data)


class SampleRing:
    def __init__(
        self,
        seconds: float = WINDOW_S,
        max_bytes: int = MAX_BYTES,
        keyframe_every: int = KEYFRAME_EVERY,
        spill_dir: str | None = None,
    ) -> None:
        """`spill_dir`: where closed segments go (an unlinked file; default `spill_home()`);
        "" keeps them in memory."""
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.keyframe_every = keyframe_every
        self.spill_dir = spill_home() if spill_dir is None else spill_dir
        self._segments: deque[_Segment] = deque()
        self._chain = _Chain()
        self._encoder = SampleEncoder()
        self._spill: _SpillFile | None = None
        self.spill_failures = 0  # closed segments kept in memory as the file could not be
        self.nbytes = 0
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @property
    def start(self) -> float | None:
        return self._segments[0].first_time if self._segments else None

    @property
    def end(self) -> float | None:
        return self._segments[-1].times[-1] if self._segments else None

    @property
    def spilled_bytes(self) -> int:
        return self._spill.live if self._spill is not None else 0

    def append(self, sample: RawSample) -> None:
        rest, containers = self._encoder.parts(sample)
        last = self._segments[-1] if self._segments else None
        if (
            last is None
            or len(last) >= self.keyframe_every
            or self.nbytes > self.max_bytes
            or sample.time < (self.end or 0.0)
        ):
            if last is not None:
                last.close()
                self._spill_out(last)
            last = _Segment(sample.time)
            self._segments.append(last)
            self._chain = _Chain()  # a keyframe: compressed against nothing
        record = self._chain.pack(rest, containers)
        last.add(record, sample.time)
        self.nbytes += len(record)
        self.count += 1
        self._trim(sample.time)

    def _spill_out(self, segment: _Segment) -> None:
        """A closed segment to the spill file; kept in memory (and counted) if that fails:
        the scroll-back works the same either way."""
        if not self.spill_dir or not segment.data:
            return
        try:
            if self._spill is None:
                self._spill = _SpillFile(self.spill_dir)
            segment.spilled_at = self._spill.write(segment.data)
        except OSError:
            self.spill_failures += 1
            return
        segment.data = b""

    def records(self, segment: _Segment) -> list[bytes]:
        """A segment's records, read back from the spill file if it is there."""
        if segment.spilled_at < 0:
            return segment.records
        assert self._spill is not None
        return segment.records_of(self._spill.read(segment.spilled_at, segment.nbytes))

    def _trim(self, now: float) -> None:
        while len(self._segments) > 1:
            second = self._segments[1]
            too_old = second.first_time <= now - self.seconds
            if not too_old and self.nbytes <= self.max_bytes:
                break
            dropped = self._segments.popleft()
            self.nbytes -= dropped.nbytes
            self.count -= len(dropped)
            if dropped.spilled_at >= 0 and self._spill is not None:
                spilled = [s for s in self._segments if s.spilled_at >= 0]
                try:
                    self._spill.drop(dropped.nbytes, spilled)
                except OSError:  # the file's space stays taken; its data is still right
                    self.spill_failures += 1

    def clear(self) -> None:
        self._segments.clear()
        self._encoder.clear()
        self._chain = _Chain()
        self.nbytes = self.count = 0
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def copy(self) -> SampleRing:
        """The ring as it is now, to decode outside a lock: all in memory (spilled segments
        read back; records in memory shared), so trimming or clearing this ring later does
        not touch it."""
        kept = SampleRing(self.seconds, self.max_bytes, self.keyframe_every, spill_dir="")
        for segment in self._segments:
            data = segment.data
            if segment.spilled_at >= 0:
                assert self._spill is not None
                data = self._spill.read(segment.spilled_at, segment.nbytes)
            kept._segments.append(
                _Segment(
                    segment.first_time,
                    list(segment.pending),
                    data,
                    segment.ends,  # a closed segment's: never changed again
                    list(segment.times),
                    segment.nbytes,
                )
            )
        kept.nbytes, kept.count = self.nbytes, self.count
        return kept

    def _jsons(self) -> list[bytes]:
        """Every sample's JSON, oldest first (each segment decoded from its keyframe)."""
        out = []
        for segment in tuple(self._segments):
            chain = _Chain()
            out += [chain.unpack(record) for record in self.records(segment)]
        return out

    def as_bytes(self) -> bytes:
        """The ring as a recording file's bytes (encoded now: costs time, call when needed)."""
        records = [MAGIC]
        previous = b""
        for data in self._jsons():
            records.append(encode_record(data, previous, SAVE_LEVEL))
            previous = data
        return b"".join(records)

    def save(self, path: str | os.PathLike[str]) -> int:
        """Write the ring as a recording (a new file, written whole then renamed into place);
        returns the number of samples."""
        target = Path(path)
        if target.exists():
            raise RecordingError(target, "exists; choose a new file")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "xb") as f:
                f.write(self.as_bytes())
            os.rename(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise RecordingError(target, exc.strerror or str(exc)) from None
        return self.count

    def samples(self) -> tuple[RawSample, ...]:
        """Every sample in the ring, oldest first (decoded: costs time, call when needed)."""
        return tuple(decode(RawSample, json.loads(data)) for data in self._jsons())
