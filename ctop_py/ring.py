"""The live app's flight recorder: the last minutes of raw samples, kept in memory in the
recorder's compressed format (ctop_py.record), bounded in time and in bytes.

Records are compressed against the previous sample's JSON, as in a recording file, so a record
can only be decoded after the one before it. The ring is therefore a list of segments, each
starting with a keyframe (a record compressed with no dictionary, which the recording reader
decodes as it is); whole segments are dropped from the old end. It keeps at least `seconds`
of samples (the oldest segment goes once the next one alone covers the window) and at most
`max_bytes` of compressed records plus one segment's keyframe. `save()` writes it as a
recording file that `ctop-py replay FILE` opens.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from ctop_py.codec import _plain
from ctop_py.model import CgroupStats, ContainerRaw, Process, RawSample
from ctop_py.record import MAGIC, RecordingError, encode_record, samples_in

WINDOW_S = 900.0  # 15 minutes
MAX_BYTES = 16 << 20  # 16 MiB of compressed samples
KEYFRAME_EVERY = 60  # samples per segment (a keyframe costs ~6× a chained record)
LEVEL = 6  # zlib's: every tick pays it (1,000 containers: 15 ms at 6, 24 ms at 9, same size)


def _dumps(value: Any) -> str:
    return json.dumps(_plain(value), separators=(",", ":"), check_circular=False)


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
        # A container's labels, built anew each tick from the Engine's list, are compared by
        # value with the same container's previous ones instead.
        self._slots: dict[tuple[str, str], tuple[object, str]] = {}
        self._next_slots: dict[tuple[str, str], tuple[object, str]] = {}

    def _chunk(self, value: object, encode: Any = _dumps) -> str:
        key = id(value)
        hit = self._next.get(key) or self._chunks.get(key)
        if hit is None or hit[0] is not value:
            hit = (value, encode(value))
        self._next[key] = hit
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

    def _mapping(self, value: Mapping[str, Any], slot: tuple[str, str]) -> str:
        old = self._slots.get(slot)
        if old is not None and (old[0] is value or old[0] == value):
            hit = old
        else:
            hit = (value, _dumps(value))
        self._next_slots[slot] = hit
        return hit[1]

    def _container(self, container: ContainerRaw) -> str:
        cgroup = container.cgroup
        if cgroup is not None:  # a busy container's counters change, its limits rarely do
            self._chunk(cgroup, lambda c: self._fields(c, _CGROUP_FIELDS))
        parts = []
        for name in _CONTAINER_FIELDS:
            value = getattr(container, name)
            if name == "labels":  # str to str: equal values, equal JSON
                text = self._mapping(value, (container.id, name))
            else:
                text = self._value(value)
            parts.append(f'"{name}":{text}')
        return "{" + ",".join(parts) + "}"

    def encode(self, sample: RawSample) -> bytes:
        self._next, self._next_slots = {}, {}
        wanted = {pid for c in sample.containers for pid in c.pids}  # as record._slim
        parts = []
        for name in _SAMPLE_FIELDS:
            value = getattr(sample, name)
            if name == "containers":
                text = "[" + ",".join(self._container(c) for c in value) + "]"
            elif name == "processes":
                text = "[" + ",".join(self._process(p) for p in value if p.pid in wanted) + "]"
            else:
                text = self._value(value)
            parts.append(f'"{name}":{text}')
        self._chunks, self._slots = self._next, self._next_slots
        return ("{" + ",".join(parts) + "}").encode("ascii")

    def _process(self, process: Process) -> str:
        return self._chunk(process, lambda p: _dumps(dataclasses.replace(p, cgroups=())))

    def clear(self) -> None:
        self._chunks, self._slots = {}, {}


@dataclass
class _Segment:
    first_time: float
    records: list[bytes] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    nbytes: int = 0


class SampleRing:
    def __init__(
        self,
        seconds: float = WINDOW_S,
        max_bytes: int = MAX_BYTES,
        keyframe_every: int = KEYFRAME_EVERY,
    ) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.keyframe_every = keyframe_every
        self._segments: deque[_Segment] = deque()
        self._previous = b""
        self._encoder = SampleEncoder()
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

    def append(self, sample: RawSample) -> None:
        data = self._encoder.encode(sample)
        last = self._segments[-1] if self._segments else None
        if (
            last is None
            or len(last.records) >= self.keyframe_every
            or self.nbytes > self.max_bytes
            or sample.time < (self.end or 0.0)
        ):
            last = _Segment(sample.time)
            self._segments.append(last)
            record = encode_record(data, b"", LEVEL)  # a keyframe
        else:
            record = encode_record(data, self._previous, LEVEL)
        last.records.append(record)
        last.times.append(sample.time)
        last.nbytes += len(record)
        self.nbytes += len(record)
        self.count += 1
        self._previous = data
        self._trim(sample.time)

    def _trim(self, now: float) -> None:
        while len(self._segments) > 1:
            second = self._segments[1]
            too_old = second.first_time <= now - self.seconds
            if not too_old and self.nbytes <= self.max_bytes:
                break
            dropped = self._segments.popleft()
            self.nbytes -= dropped.nbytes
            self.count -= len(dropped.records)

    def clear(self) -> None:
        self._segments.clear()
        self._encoder.clear()
        self._previous = b""
        self.nbytes = self.count = 0

    def as_bytes(self) -> bytes:
        """The ring as a recording file's bytes."""
        return MAGIC + b"".join(r for s in self._segments for r in s.records)

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
        return samples_in(self.as_bytes(), "the live ring")
