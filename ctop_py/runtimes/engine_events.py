"""A Docker-compatible engine's event stream and per-container state (inspect), for the story
of a container across its restarts. Never used for statistics.

`EngineEventWatcher` follows `GET /events` in a daemon thread (engine_api's stream, from
`since` so the engine's buffered past comes first) into a bounded queue that the collector
drains once a tick. While the engine does not answer it retries every `retry_s`.
`EngineInspector` caches `GET /containers/<id>/json` per container: read when a container is
first seen and again after any event about it, at most `per_tick` a tick.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ctop_py.model import EngineEvent
from ctop_py.runtimes import engine_api

# Events kept while nobody drains them (the oldest are dropped first).
QUEUE_BOUND = 4096
# Only containers' events: the others (networks, images, volumes) are not read at all.
CONTAINER_EVENTS = {"type": ["container"]}


def _api_time(when: float) -> str:
    """The API's `since`/`until`: seconds with nanoseconds (an int would repeat, after a
    reconnection, the events of the second the last one came in)."""
    return f"{when:.9f}"


def parse_event(runtime: str, item: Mapping[str, Any]) -> EngineEvent | None:
    """One decoded event of the API; None for events that are not about a container."""
    if item.get("Type", "container") != "container":
        return None
    actor = item.get("Actor")
    actor = actor if isinstance(actor, Mapping) else {}
    cid = str(actor.get("ID") or item.get("id") or "")
    action = str(item.get("Action") or item.get("status") or "")
    if not cid or not action:
        return None
    # "exec_start: sh -c …" and "health_status: healthy": the kind is the part before ":".
    action = action.split(":", 1)[0].strip()
    nano = item.get("timeNano")
    when = nano / 1e9 if isinstance(nano, int) else float(item.get("time") or 0)
    attributes = actor.get("Attributes")
    attrs = (
        {str(k): str(v) for k, v in attributes.items()} if isinstance(attributes, Mapping) else {}
    )
    return EngineEvent(when, runtime, cid, action, attrs)


class EngineEventWatcher:
    """Follows one engine's event stream in a background thread."""

    def __init__(
        self,
        runtime: str,
        base_url: str,
        since: float | None = None,
        retry_s: float = 5.0,
        bound: int = QUEUE_BOUND,
    ) -> None:
        self.runtime = runtime
        self.base_url = base_url
        self.retry_s = retry_s
        self.status = "not contacted"
        self._since = time.time() - 900 if since is None else since
        self._queue: deque[EngineEvent] = deque(maxlen=bound)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stream: engine_api.EventStream | None = None
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.connections = 0  # how many times the stream was opened (a new one: reconnected)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"ctop-py {self.runtime} events", daemon=True
            )
            self._thread.start()

    def drain(self) -> tuple[EngineEvent, ...]:
        with self._lock:
            events = tuple(self._queue)
            self._queue.clear()
        return events

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # The past the engine still buffers first, then live; resumed from the last
                # event seen after a reconnection.
                stream = engine_api.EngineAPI(self.base_url, timeout=5.0).events(
                    since=_api_time(self._since), filters=CONTAINER_EVENTS
                )
                self._stream = stream
                if self._stop.is_set():  # closed while connecting
                    stream.close()
                    break
                self.connections += 1
                self.status = "ok"
                for item in stream:
                    if self._stop.is_set():
                        break
                    if not isinstance(item, Mapping):
                        continue
                    event = parse_event(self.runtime, item)
                    if event is None:
                        continue
                    self._since = max(self._since, event.time + 1e-9)
                    with self._lock:
                        if len(self._queue) == self._queue.maxlen:
                            self.dropped += 1
                        self._queue.append(event)
                self.status = "disconnected"  # the engine ended the stream (it stopped)
            except Exception as exc:  # any failure means "down"
                self.status = f"unreachable ({engine_api.reason(exc, self.base_url)})"
            finally:
                opened, self._stream = self._stream, None
                if opened is not None:
                    opened.close()
            if not self._stop.is_set():
                self._stop.wait(self.retry_s)

    def close(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            stream.shutdown()  # its thread, woken, closes it


def read_past_events(runtime: str, base_url: str, since: float) -> list[EngineEvent]:
    """The events the engine still buffers from `since` until now, read once (no thread).
    Raises OSError or engine_api.EngineError when the engine does not answer."""
    events = []
    now = time.time()
    stream = engine_api.EngineAPI(base_url, timeout=5.0).events(
        since=_api_time(since), until=_api_time(now), filters=CONTAINER_EVENTS
    )
    for item in stream:
        if isinstance(item, Mapping):
            event = parse_event(runtime, item)
            if event is not None and event.time >= since:
                events.append(event)
    return events


# ---------------------------------------------------------------------------------------------
# inspect


@dataclass(frozen=True)
class Inspected:
    """What inspect says about a container's life."""

    status: str  # running, restarting, exited, paused, created, dead
    restart_count: int | None
    exit_code: int | None  # None while it runs and never finished
    oom_killed: bool | None
    started_at: float | None
    finished_at: float | None
    memory_max_bytes: int | None = None  # HostConfig.Memory; None when unlimited


def parse_docker_time(text: object) -> float | None:
    """Docker's RFC 3339 time with nanoseconds to epoch seconds; its zero time is None."""
    if not isinstance(text, str) or not text or text.startswith("0001-01-01"):
        return None
    body = text.rstrip("Z")
    offset = "+00:00"
    for sign in ("+", "-"):
        at = body.rfind(sign, 19)
        if at != -1:
            body, offset = body[:at], body[at:]
            break
    if "." in body:
        whole, fraction = body.split(".", 1)
        body = f"{whole}.{fraction[:6]}"
    try:
        return datetime.fromisoformat(body + offset).timestamp()
    except ValueError:
        return None


def parse_inspect(data: Mapping[str, Any]) -> Inspected:
    state = data.get("State")
    state = state if isinstance(state, Mapping) else {}
    restarts = data.get("RestartCount")
    exit_code = state.get("ExitCode")
    oom = state.get("OOMKilled")
    finished = parse_docker_time(state.get("FinishedAt"))
    running = bool(state.get("Running"))
    host_config = data.get("HostConfig")
    memory = host_config.get("Memory") if isinstance(host_config, Mapping) else None
    return Inspected(
        status=str(state.get("Status") or ("running" if running else "exited")),
        restart_count=restarts if isinstance(restarts, int) else None,
        # A start resets ExitCode to 0: it is the last run's only while nothing runs.
        exit_code=exit_code
        if isinstance(exit_code, int) and finished is not None and not running
        else None,
        oom_killed=oom if isinstance(oom, bool) else None,
        started_at=parse_docker_time(state.get("StartedAt")),
        finished_at=finished,
        memory_max_bytes=memory if isinstance(memory, int) and memory > 0 else None,
    )


class EngineInspector:
    """Cached inspect of containers of one engine."""

    def __init__(
        self, runtime: str, base_url: str, per_tick: int = 20, budget_s: float = 0.05
    ) -> None:
        self.runtime = runtime
        self.base_url = base_url
        self.per_tick = per_tick  # inspects per call at most,
        self.budget_s = budget_s  # and for at most this long (a host with many containers)
        self._api: engine_api.EngineAPI | None = None
        self.inspects = 0  # how many were asked (for the tests and benchmarks)
        self._cache: dict[str, Inspected | None] = {}
        self._stale: set[str] = set()
        self._failed_at = float("-inf")

    def invalidate(self, cid: str) -> None:
        self._stale.add(cid)

    def cached(self, cid: str) -> Inspected | None:
        return self._cache.get(cid)

    def get(self, ids: Iterable[str]) -> dict[str, Inspected]:
        """Cached results for `ids`, refreshed for those stale (an event came) first, then
        those never read, within the per-call bounds; the others wait for the next call."""
        wanted = list(ids)
        started = time.monotonic()
        if started - self._failed_at > 5.0:
            stale = [c for c in wanted if c in self._stale]
            new = [c for c in wanted if c not in self._cache and c not in self._stale]
            for count, cid in enumerate(stale + new):
                if count >= self.per_tick or time.monotonic() - started > self.budget_s:
                    break
                self._refresh(cid)
                if time.monotonic() - self._failed_at < 1.0:
                    break  # the engine stopped answering
        return {cid: found for cid in wanted if (found := self._cache.get(cid)) is not None}

    def _refresh(self, cid: str) -> None:
        self.inspects += 1
        try:
            if self._api is None:
                self._api = engine_api.EngineAPI(self.base_url, timeout=5.0)
            data = self._api.inspect(cid)
        except engine_api.NotFound:  # removed
            self._cache[cid] = None
            self._stale.discard(cid)
            return
        except Exception:  # anything else: the engine is down
            self._failed_at = time.monotonic()
            self.close()
            return
        self._stale.discard(cid)
        self._cache[cid] = parse_inspect(data)

    def forget_except(self, ids: set[str]) -> None:
        for cid in [c for c in self._cache if c not in ids]:
            del self._cache[cid]

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None
