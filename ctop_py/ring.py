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

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ctop_py.model import RawSample
from ctop_py.record import MAGIC, RecordingError, encode_record, sample_json, samples_in

WINDOW_S = 900.0  # 15 minutes
MAX_BYTES = 16 << 20  # 16 MiB of compressed samples
KEYFRAME_EVERY = 60  # samples per segment (a keyframe costs ~6× a chained record)
LEVEL = 6  # zlib's: every tick pays it (1,000 containers: 15 ms at 6, 24 ms at 9, same size)


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
        data = sample_json(sample)
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
