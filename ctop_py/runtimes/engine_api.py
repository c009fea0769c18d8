"""The read path to a Docker-compatible Engine API (Docker, or Podman's compatible socket):
`GET /containers/json`, `GET /containers/<id>/json` and the `GET /events` stream.

Hand-written HTTP/1.1 on a socket, not the docker SDK nor `http.client`: the read path needs
three GET endpoints, while importing the SDK (requests, urllib3, …) costs about 5× a whole bare
script that reads the same cgroup files, and `http.client` (email, ssl) about 2×. The SDK stays
where it earns its place: actions, exec, logs and the layers commands (ctop_py/engine.py).

One connection per client, kept alive between requests; a request that finds a kept-alive
connection closed by the engine is sent once more on a new one. Paths are unversioned (the
engine answers them with its own API version, as the SDK's "auto" version did).
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
import socket
from collections.abc import Iterator, Mapping
from io import BufferedReader
from typing import Any
from urllib.parse import quote, urlsplit

# Headers and chunk-size lines longer than this are a broken peer, not an engine.
_MAX_LINE = 65536
_MAX_HEADERS = 100
_SPACE = re.compile(r"\s*")


class EngineError(Exception):
    """The engine answered, but not with what was asked (an HTTP error, a broken response)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(EngineError):
    """404: no such container (removed)."""


def reason(exc: BaseException, base_url: str) -> str:
    """Why the engine at `base_url` could not be read, in a few words."""
    text = str(exc)
    if isinstance(exc, PermissionError) or "Permission denied" in text:
        return f"needs root or the docker group: permission denied on {base_url}"
    if isinstance(exc, FileNotFoundError) or "No such file" in text:
        return f"no socket at {base_url}"
    if isinstance(exc, ConnectionRefusedError) or "Connection refused" in text:
        return f"is the daemon running? connection refused at {base_url}"
    if isinstance(exc, EngineError):
        return text
    return type(exc).__name__


def _address(base_url: str) -> str | tuple[str, int]:
    """The socket path of `unix:///path`, or (host, port) of `tcp://host:port` (plain HTTP, as
    the SDK spoke it without TLS settings)."""
    if base_url.startswith("unix://"):
        return base_url[len("unix://") :]
    if base_url.startswith("/"):
        return base_url
    parts = urlsplit(base_url)
    if parts.scheme in ("tcp", "http") and parts.hostname:
        return parts.hostname, parts.port or 2375
    raise EngineError(f"unsupported engine address {base_url!r} (unix:// or tcp:// only)")


def _query(params: Mapping[str, str] | None) -> str:
    if not params:
        return ""
    return "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())


def _line(reader: BufferedReader) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if not line:
        raise ConnectionResetError("the engine closed the connection")
    if len(line) > _MAX_LINE:
        raise EngineError("the engine sent a line too long")
    return line


class Response:
    """One response's status and headers; its body is read with `read()` or `chunks()`."""

    def __init__(self, reader: BufferedReader) -> None:
        self._reader = reader
        status_line = _line(reader).decode("latin-1").rstrip("\r\n")
        fields = status_line.split(" ", 2)
        if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
            raise EngineError(f"not an HTTP response: {status_line[:80]!r}")
        self.status = int(fields[1])
        self.headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            line = _line(reader)
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()
        else:
            raise EngineError("the engine sent too many headers")
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        self.length = int(length) if length is not None and length.isdigit() else None
        if self.status in (204, 304) or 100 <= self.status < 200:
            self.chunked, self.length = False, 0  # no body, whatever the headers say
        # Without a length or chunks, the body ends when the engine closes the connection.
        self.reusable = (self.chunked or self.length is not None) and self.headers.get(
            "connection", ""
        ).lower() != "close"
        self.complete = False

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives (chunk by chunk for a chunked body)."""
        reader = self._reader
        if self.chunked:
            while True:
                size_text = _line(reader).split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise EngineError(f"bad chunk size {size_text[:20]!r}") from None
                if size == 0:
                    while _line(reader) not in (b"\r\n", b"\n"):
                        pass  # trailers
                    self.complete = True
                    return
                data = reader.read(size)
                if len(data) < size:
                    raise ConnectionResetError("the engine closed the connection mid-chunk")
                _line(reader)  # the CRLF after the chunk
                yield data
        elif self.length is not None:
            data = reader.read(self.length)
            if len(data) < self.length:
                raise ConnectionResetError("the engine closed the connection mid-body")
            self.complete = True
            if data:
                yield data
        else:
            while data := reader.read1(65536):
                yield data
            self.complete = True

    def read(self) -> bytes:
        return b"".join(self.chunks())


def json_stream(chunks: Iterator[bytes]) -> Iterator[Any]:
    """The JSON values of a stream of concatenated (usually newline-separated) JSON texts,
    however the stream is cut into chunks."""
    decoder = json.JSONDecoder()
    # A character cut between two chunks waits for its rest; bytes that are not UTF-8 (the
    # engine passes on what containers name themselves) become U+FFFD.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = ""
    for chunk in chunks:
        buffer += text.decode(chunk)
        at = 0
        while True:
            at = _SPACE.match(buffer, at).end()  # type: ignore[union-attr]  # \s* always matches
            if at == len(buffer):
                buffer = ""
                break
            try:
                value, at = decoder.raw_decode(buffer, at)
            except json.JSONDecodeError:
                buffer = buffer[at:]  # incomplete: wait for the next chunk
                break
            yield value
    if (buffer + text.decode(b"", final=True)).strip():
        raise EngineError("the event stream ended inside a JSON value")


class EngineAPI:
    """GET requests to one engine. Not thread-safe: one per thread."""

    def __init__(self, base_url: str, timeout: float = 3.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._reader: BufferedReader | None = None

    def _open(self, timeout: float | None) -> tuple[socket.socket, BufferedReader]:
        address = _address(self.base_url)
        if not isinstance(address, str):  # IPv4 or IPv6
            sock = socket.create_connection(address, timeout)
            return sock, sock.makefile("rb")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return sock, sock.makefile("rb")

    def _send(self, sock: socket.socket, path: str, params: Mapping[str, str] | None) -> None:
        request = (
            f"GET {path}{_query(params)} HTTP/1.1\r\n"
            "Host: docker\r\nUser-Agent: ctop-py\r\nAccept: application/json\r\n\r\n"
        )
        sock.sendall(request.encode())

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """The decoded JSON body of `GET path?params`; NotFound on 404, EngineError on any
        other status not 2xx; OSError when the engine cannot be reached."""
        for attempt in (0, 1):
            reused = self._sock is not None
            if self._sock is None or self._reader is None:
                self._sock, self._reader = self._open(self.timeout)
            try:
                self._send(self._sock, path, params)
                response = Response(self._reader)
                body = response.read()
            except ConnectionError:
                self.close()
                if reused and attempt == 0:
                    continue  # the engine closed the kept-alive connection: once more, anew
                raise
            except BaseException:
                self.close()
                raise
            if not response.reusable:
                self.close()
            return _decode(response.status, body)
        raise AssertionError("unreachable")

    def containers(self) -> list[dict[str, Any]]:
        """`GET /containers/json?all=1`: every container, running or not."""
        listed = self.get("/containers/json", {"all": "1"})
        if not isinstance(listed, list):
            raise EngineError("the container list is not a list")
        return [item for item in listed if isinstance(item, dict)]

    def inspect(self, cid: str) -> dict[str, Any]:
        """`GET /containers/<id>/json`."""
        data = self.get(f"/containers/{quote(cid, safe='')}/json")
        if not isinstance(data, dict):
            raise EngineError("inspect did not answer an object")
        return data

    def events(
        self,
        since: str | None = None,
        until: str | None = None,
        filters: Mapping[str, list[str]] | None = None,
    ) -> EventStream:
        """`GET /events` on a connection of its own (no read timeout without `until`)."""
        params: dict[str, str] = {}
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        if filters:
            params["filters"] = json.dumps(filters, separators=(",", ":"))
        sock, reader = self._open(self.timeout)
        try:
            self._send(sock, "/events", params)
            response = Response(reader)
            if not 200 <= response.status < 300:
                _decode(response.status, response.read())
            sock.settimeout(self.timeout if until is not None else None)
        except BaseException:
            reader.close()
            sock.close()
            raise
        return EventStream(sock, reader, response)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _decode(status: int, body: bytes) -> Any:
    if 200 <= status < 300:
        try:
            return json.loads(body) if body else None
        except ValueError:
            raise EngineError("the engine answered something that is not JSON") from None
    message = ""
    with contextlib.suppress(ValueError, AttributeError):
        message = str(json.loads(body).get("message") or "")
    text = f"HTTP {status} from the engine" + (f": {message[:200]}" if message else "")
    raise (NotFound if status == 404 else EngineError)(text, status)


class EventStream:
    """The decoded JSON objects of an event stream, as they come. The thread that iterates
    closes it (when the stream ends, or with `close()`); `shutdown()`, from any thread, ends a
    read blocked on a quiet engine."""

    def __init__(self, sock: socket.socket, reader: BufferedReader, response: Response) -> None:
        self._sock = sock
        self._reader = reader
        self._response = response

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from json_stream(self._response.chunks())
        finally:
            self.close()

    def shutdown(self) -> None:
        with contextlib.suppress(OSError):  # already shut down, or closed
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.shutdown()
        with contextlib.suppress(OSError):
            self._reader.close()
        self._sock.close()
