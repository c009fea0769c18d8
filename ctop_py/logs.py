"""A container's logs through the Engine API (the docker SDK's HTTP client), stdout and stderr
told apart, with bounded memory.

The engine sends a non-TTY container's logs multiplexed: frames of an 8-byte header (stream
byte, three zero bytes, big-endian length) and one log message. A TTY container's logs come as
one raw stream: everything is "stdout" (the engine cannot tell them apart either). With
`timestamps`, every message starts with an RFC 3339 nano timestamp and a space. Docker's
json-file and local drivers cut messages longer than 16 KiB into partial messages; they are put
back together here into one line.

Bounds: one line keeps at most `max_line_bytes` (the rest is counted, not kept); a
`LogBuffer` keeps the last `max_lines` lines and at most `max_bytes` bytes of them.

Nothing here escapes text: `LogLine.text` is the container's text exactly (undecodable bytes as
surrogate escapes); the CLI and the UI make it harmless before it reaches a terminal.
"""

from __future__ import annotations

import contextlib
import re
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ctop_py.engine import EngineError, connect, get_container, one_line
from ctop_py.host import HostRoot

STDOUT = "stdout"
STDERR = "stderr"
_STREAMS = {0: STDOUT, 1: STDOUT, 2: STDERR}  # 0 is stdin, written back by an attached TTY

MAX_LINE_BYTES = 1 << 20  # one line longer than 1 MiB is cut (the rest counted)
DEFAULT_LINES = 5000
DEFAULT_BYTES = 32 << 20

_HEADER = struct.Struct(">BxxxL")
_READ = 65536


@dataclass(frozen=True)
class LogLine:
    stream: str  # "stdout" or "stderr"
    text: str  # without the newline; undecodable bytes as surrogate escapes
    timestamp: str | None = None  # the engine's RFC 3339 nano timestamp, with --timestamps
    cut: int = 0  # bytes beyond max_line_bytes that were dropped
    complete: bool = True  # ended with a newline (the last line of a log may not)

    @property
    def size(self) -> int:
        """What the line costs in a buffer, roughly: its characters and a fixed overhead."""
        return len(self.text) + 64


@dataclass(frozen=True)
class LogOptions:
    tail: int | None = None  # the last N lines; None: all
    follow: bool = False
    since: tuple[int, int] | None = None  # (seconds, nanoseconds) since the epoch
    timestamps: bool = False
    stdout: bool = True
    stderr: bool = True

    def params(self) -> dict[str, Any]:
        """The query of GET /containers/{id}/logs."""
        params: dict[str, Any] = {
            "stdout": int(self.stdout),
            "stderr": int(self.stderr),
            "timestamps": int(self.timestamps),
            "follow": int(self.follow),
            "tail": "all" if self.tail is None else str(self.tail),
        }
        if self.since is not None:
            seconds, nanos = self.since
            params["since"] = f"{seconds}.{nanos:09d}"
        return params


# -- --since --------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
_UNIT_NS["h"] = 3600 * 10**9
_UNIX = re.compile(r"^(\d+)(?:\.(\d{1,9}))?$")


def parse_since(text: str, now_ns: int | None = None) -> tuple[int, int]:
    """`--since` as `docker logs` reads it: a Unix timestamp (`1700000000.5`), an RFC 3339
    time (`2024-05-01T10:00:00Z`, `2024-05-01T10:00:00+02:00`, `2024-05-01` — no zone means
    local time), or a Go duration back from now (`10m`, `1h30m`, `1.5h`, `300ms`).
    Returns (seconds, nanoseconds); ValueError with a readable message otherwise."""
    value = text.strip()
    if not value:
        raise ValueError("--since is empty")
    unix = _UNIX.match(value)
    if unix:
        frac = (unix.group(2) or "").ljust(9, "0")
        return int(unix.group(1)), int(frac or 0)
    if _DURATION.fullmatch(value) or re.fullmatch(f"(?:{_DURATION.pattern})+", value):
        total = 0
        for number, unit in _DURATION.findall(value):
            whole, _, frac = number.partition(".")
            scale = _UNIT_NS[unit]
            total += int(whole or 0) * scale + int((frac or "0").ljust(9, "0")[:9]) * scale // 10**9
        now = time.time_ns() if now_ns is None else now_ns
        return divmod(now - total, 10**9)
    return _parse_time(value)


def _parse_time(value: str) -> tuple[int, int]:
    nanos = 0
    # Python's fromisoformat reads up to microseconds: take the fraction apart first.
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", value)
    if match:
        digits = match.group(2)
        nanos = int(digits[:9].ljust(9, "0"))
        value = match.group(1) + match.group(3)
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"--since: not a time, a duration or a Unix timestamp: {value!r} "
            "(e.g. 2024-05-01T10:00:00Z, 10m, 1700000000)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as docker does
    seconds = int(moment.astimezone(UTC).timestamp())
    return seconds, nanos


# -- frames and lines -------------------------------------------------------------------------


def read_frames(read: Callable[[int], bytes]) -> Iterator[tuple[str, bytes, bool]]:
    """(stream, payload, starts a frame) of each multiplexed frame; `read(n)` returns up to n
    bytes, b"" at the end. A payload longer than _READ comes in pieces."""
    while True:
        header = _read_exactly(read, _HEADER.size)
        if len(header) < _HEADER.size:
            return
        kind, length = _HEADER.unpack(header)
        stream = _STREAMS.get(kind, STDOUT)
        start = True
        while length > 0:
            chunk = _read_exactly(read, min(length, _READ))
            if not chunk:
                return
            length -= len(chunk)
            yield stream, chunk, start
            start = False


def read_raw(read: Callable[[int], bytes]) -> Iterator[tuple[str, bytes, bool]]:
    """A TTY container's log stream (`read` returns what is there, up to n): all stdout."""
    while True:
        chunk = read(_READ)
        if not chunk:
            return
        yield STDOUT, chunk, False


def _read_exactly(read: Callable[[int], bytes], n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = read(n - len(data))
        if not more:
            break
        data += more
    return data


_TIMESTAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")


@dataclass
class _Pending:
    data: bytearray = field(default_factory=bytearray)
    cut: int = 0
    timestamp: str | None = None


class LineAssembler:
    """Frames in, whole lines out, per stream. With `timestamps` and `framed` (one message per
    frame), each frame's leading timestamp is taken off; the line keeps its first one."""

    def __init__(
        self, timestamps: bool, framed: bool = True, max_line_bytes: int = MAX_LINE_BYTES
    ) -> None:
        self.timestamps = timestamps
        self.framed = framed
        self.max_line_bytes = max_line_bytes
        self._pending: dict[str, _Pending] = {}

    def feed(self, stream: str, data: bytes, frame_start: bool = True) -> list[LogLine]:
        pending = self._pending.setdefault(stream, _Pending())
        if self.timestamps and self.framed and frame_start:
            match = _TIMESTAMP.match(data)
            if match:
                if not pending.data and pending.timestamp is None:
                    pending.timestamp = match.group(1).decode("ascii")
                data = data[match.end() :]
        out: list[LogLine] = []
        start = 0
        while True:
            newline = data.find(b"\n", start)
            piece = data[start:] if newline < 0 else data[start:newline]
            self._append(pending, piece)
            if newline < 0:
                break
            out.append(self._finish(stream, pending, complete=True))
            pending = self._pending[stream] = _Pending()
            start = newline + 1
            if start == len(data):
                break
        return out

    def _append(self, pending: _Pending, piece: bytes) -> None:
        room = self.max_line_bytes - len(pending.data)
        if room >= len(piece):
            pending.data += piece
        else:
            pending.data += piece[: max(room, 0)]
            pending.cut += len(piece) - max(room, 0)

    def _finish(self, stream: str, pending: _Pending, complete: bool) -> LogLine:
        data = bytes(pending.data)
        timestamp = pending.timestamp
        if self.timestamps and not self.framed:
            match = _TIMESTAMP.match(data)
            if match:
                timestamp = match.group(1).decode("ascii")
                data = data[match.end() :]
        text = data.decode("utf-8", "surrogateescape")
        return LogLine(stream, text, timestamp, pending.cut, complete)

    def flush(self) -> list[LogLine]:
        """The unterminated rest of each stream (the end of the log)."""
        out = []
        for stream, pending in self._pending.items():
            if pending.data or pending.cut:
                out.append(self._finish(stream, pending, complete=False))
        self._pending.clear()
        return out


def lines_from(
    chunks: Iterator[tuple[str, bytes, bool]],
    timestamps: bool,
    framed: bool,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[LogLine]:
    """LogLines from (stream, bytes) chunks; a frame larger than one chunk keeps its place."""
    assembler = LineAssembler(timestamps, framed, max_line_bytes)
    for stream, data, start in chunks:
        yield from assembler.feed(stream, data, start)
    yield from assembler.flush()


# -- reading a container's logs --------------------------------------------------------------


@dataclass(frozen=True)
class LogSource:
    """What the engine says about where a container's logs live."""

    id: str
    name: str
    driver: str
    tty: bool


# Log drivers `docker logs` can read back without dual logging (Docker < 20.10 reads only these).
READABLE_DRIVERS = frozenset({"json-file", "local", "journald"})


def describe(attrs: dict[str, Any]) -> LogSource:
    host = attrs.get("HostConfig") or {}
    config = attrs.get("Config") or {}
    log_config = host.get("LogConfig") or {}
    return LogSource(
        id=str(attrs.get("Id", "")),
        name=str(attrs.get("Name", "")).lstrip("/"),
        driver=str(log_config.get("Type") or "json-file"),
        tty=bool(config.get("Tty")),
    )


class LogStream:
    """The lines of one container's logs, as the engine sends them. Iterate it (blocking while
    following); `close()` from another thread ends the iteration."""

    def __init__(
        self,
        client: Any,
        ref: str,
        options: LogOptions,
        max_line_bytes: int = MAX_LINE_BYTES,
        owns_client: bool = False,
    ) -> None:
        self._client = client if owns_client else None
        container = get_container(client, ref)
        self.source = describe(container.attrs)
        self.options = options
        self._closed = False
        api = client.api
        url = api._url("/containers/{0}/logs", self.source.id)  # the SDK's own URL builder
        try:
            response = api._get(url, params=options.params(), stream=True)
            api._raise_for_status(response)
        except Exception as exc:
            raise EngineError(self._explain(exc)) from None
        self._response = response
        if options.follow:
            # Following waits as long as the container is quiet: no read timeout then.
            api._disable_socket_timeout(api._get_raw_response_socket(response))
        from docker.types.daemon import CancellableStream

        raw = response.raw
        chunks = read_raw(raw.read1) if self.source.tty else read_frames(raw.read)
        self._lines = lines_from(chunks, options.timestamps, not self.source.tty, max_line_bytes)
        self._cancel = CancellableStream(iter(()), response)

    def _explain(self, exc: Exception) -> str:
        text = one_line(exc)
        driver = self.source.driver
        if "does not support reading" in text or driver == "none":
            return (
                f"the logs of {self.source.name} cannot be read: its log driver {driver!r} does "
                f"not keep them for reading ({text})"
            )
        return text

    def __iter__(self) -> Iterator[LogLine]:
        try:
            yield from self._lines
        except Exception as exc:  # the connection dropped, or close() from another thread
            if not self._closed:
                raise EngineError(f"reading the logs stopped: {one_line(exc)}") from None

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):  # closing twice, or a socket already gone
            self._cancel.close()
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Lines(Protocol):
    """What the UI reads lines from: a LogStream, or a fake in tests and screenshots."""

    def __iter__(self) -> Iterator[LogLine]: ...

    def close(self) -> None: ...


LogOpener = Callable[[str, LogOptions], Lines]


def engine_logs(root: HostRoot, max_line_bytes: int = MAX_LINE_BYTES) -> LogOpener:
    """Opens a container's logs on the engine of `root`, one connection per stream."""

    def open_logs(ref: str, options: LogOptions) -> Lines:
        client = connect(root, what="logs")
        try:
            return LogStream(client, ref, options, max_line_bytes, owns_client=True)
        except BaseException:
            client.close()
            raise

    return open_logs


class LogBuffer:
    """The last lines of a log, bounded by count and by size; counts what it let go."""

    def __init__(self, max_lines: int = DEFAULT_LINES, max_bytes: int = DEFAULT_BYTES) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.lines: deque[LogLine] = deque()
        self.bytes = 0
        self.dropped = 0
        self.received = 0

    def append(self, line: LogLine) -> None:
        self.lines.append(line)
        self.bytes += line.size
        self.received += 1
        while self.lines and (len(self.lines) > self.max_lines or self.bytes > self.max_bytes):
            old = self.lines.popleft()
            self.bytes -= old.size
            self.dropped += 1

    def extend(self, lines: list[LogLine]) -> None:
        for line in lines:
            self.append(line)

    def clear(self) -> None:
        self.lines.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.lines)
