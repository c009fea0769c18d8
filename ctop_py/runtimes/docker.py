"""Docker: cgroupfs driver `/docker/<id>` (or `<cgroup-parent>/<id>`), systemd driver
`…/docker-<id>.scope`. Names, images and labels from the Engine API (kept current by its
events), or from the daemon's own files on disk when it does not answer."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Container, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from ctop_py.host import HostError, HostRoot, read_bytes
from ctop_py.runtimes import engine_api
from ctop_py.runtimes.base import HEX64, Claim, Meta, components, prefix_through

if TYPE_CHECKING:
    from ctop_py.model import EngineEvent

_SCOPE = re.compile(rf"^docker-({HEX64})\.scope$")
_BARE = re.compile(rf"^({HEX64})$")
_HAS_PROCESSES = ("running", "paused")  # the states in which a container has a cgroup


class DockerRuntime:
    name = "docker"

    def claim(self, cgroup_path: str) -> Claim | None:
        parts = components(cgroup_path)
        for index, part in enumerate(parts):
            match = _SCOPE.match(part)
            if match:
                return Claim(self.name, match.group(1), prefix_through(parts, index))
            match = _BARE.match(part)
            # A bare id under kubepods belongs to the CRI runtime, tried before us.
            if match and not any(p.startswith("kubepods") for p in parts[:index]):
                return Claim(self.name, match.group(1), prefix_through(parts, index))
        return None


def _reason(exc: BaseException, base_url: str) -> str:
    return engine_api.reason(exc, base_url)


def _short_name(names: Iterable[str]) -> str:
    for name in names:
        return name.lstrip("/")
    return ""


def _labels(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


# What an event says a container's state is now ("kill" and "oom" change none: a "die" follows).
# Podman's compatible socket says "died" and "remove" where Docker says "die" and "destroy".
_EVENT_STATES = {
    "start": "running",
    "restart": "running",
    "unpause": "running",
    "pause": "paused",
    "die": "exited",
    "died": "exited",
    "stop": "exited",
}
_GONE = frozenset({"destroy", "remove"})


class EngineEventSource(Protocol):
    """What the cache needs of an event watcher (runtimes/engine_events.py)."""

    status: str
    connections: int


class EngineClient:
    """Container names and states from a Docker-compatible Engine API (Docker, or Podman's
    socket), over engine_api's stdlib client. Never used for statistics.

    The list is read once, then kept current by the engine's events when the collector follows
    them (`follow(watcher)`, and `apply(events)` every tick): start/die/pause/unpause/rename/
    destroy change the cache; a "create" (its labels are the engine's to say) has the list read
    again once, at the next call. The list is read again too when an unknown id shows up in the
    kernel, after the event stream reconnected (events may have been missed while it was down),
    and every `ttl` seconds while no event stream is followed or it is down. While the engine
    is unreachable it is retried at most every `retry_s`.

    When the cache and the kernel disagree (a container listed as running whose cgroup is gone:
    it stopped or is being removed; one listed as created or exited that has a cgroup: it just
    started), the list is refreshed on every call for up to `settle_s` (a slow host takes
    seconds to start a container), so a removed container does not linger as an "exited" row
    from the cache, and a state shows at once.
    """

    def __init__(
        self,
        runtime: str,
        base_url: str,
        ttl: float = 5.0,
        retry_s: float = 5.0,
        settle_s: float = 10.0,
    ) -> None:
        self.runtime = runtime
        self.base_url = base_url
        self.ttl = ttl
        self.retry_s = retry_s
        self.settle_s = settle_s
        self._changing: dict[str, float] = {}  # id -> when the cache first disagreed
        self.status = "not contacted"
        self._api: engine_api.EngineAPI | None = None
        self._meta: dict[str, Meta] = {}
        self._listed_at = float("-inf")
        self._listed_wall = float("-inf")  # events from before the list are in it already
        self._failed_at = float("-inf")
        self._events: EngineEventSource | None = None
        self._connections_seen = 0
        self._relist = False  # an event asks for the list again
        self.lists = 0  # how many times the list was read (for the tests and benchmarks)

    def follow(self, events: EngineEventSource) -> None:
        """Keep the cache current from this watcher's events (given to `apply`) instead of
        listing every `ttl` seconds."""
        self._events = events

    def apply(self, events: Iterable[EngineEvent]) -> None:
        """The engine's events since the last call, in order (those of other runtimes are
        ignored)."""
        for event in events:
            if event.runtime != self.runtime or event.time < self._listed_wall:
                continue
            cid = event.container_id
            meta = self._meta.get(cid)
            if event.action in _GONE:
                self._meta.pop(cid, None)
                self._changing.pop(cid, None)
            elif meta is None:
                self._relist = True  # a container the cache does not know: read its entry
            elif event.action == "rename":
                name = event.attributes.get("name", "").lstrip("/")
                if name and name != meta.name:
                    self._meta[cid] = replace(meta, name=name)
            elif (state := _EVENT_STATES.get(event.action)) is not None and state != meta.state:
                self._meta[cid] = replace(meta, state=state)

    def _following(self) -> bool:
        events = self._events
        if events is None or events.status != "ok":
            return False
        if events.connections != self._connections_seen:
            if self._connections_seen:  # reconnected: what happened meanwhile may be lost
                self._relist = True
            self._connections_seen = events.connections
        return True

    def metadata(self, wanted_ids: Iterable[str]) -> Mapping[str, Meta]:
        """`wanted_ids`: the ids of every live cgroup of this runtime."""
        now = time.monotonic()
        wanted = set(wanted_ids)
        unknown = any(i not in self._meta for i in wanted)
        following = self._following()  # first: it may ask for the list again
        stale = (
            self._relist
            or self.status != "ok"  # never listed yet, or the engine was unreachable
            or (not following and now - self._listed_at > self.ttl)
        )
        for cid, meta in self._meta.items():
            # "removing" is on its way out: list again until it is gone, or its row would stay
            # until the next list (up to `ttl` when no event stream removes it).
            if meta.state == "removing" or (
                (meta.state in _HAS_PROCESSES) != (cid in wanted) and meta.state != "restarting"
            ):
                self._changing.setdefault(cid, now)  # the cache and the kernel disagree
            else:
                self._changing.pop(cid, None)
        self._changing = {c: t for c, t in self._changing.items() if c in self._meta}
        settling = any(now - t < self.settle_s for t in self._changing.values())
        if (unknown or stale or settling) and now - self._failed_at > self.retry_s:
            self._list(now)
        return self._meta

    def _list(self, now: float) -> None:
        wall = time.time()
        try:
            if self._api is None:
                self._api = engine_api.EngineAPI(self.base_url, timeout=3.0)
            listed = self._api.containers()
        except Exception as exc:  # any failure means "unreachable"
            self._failed_at = now
            self.close()
            self.status = f"unreachable ({_reason(exc, self.base_url)})"
            return
        meta = {}
        was = self._meta
        for item in listed:
            cid = str(item.get("Id", ""))
            image = item.get("Image")
            entry = Meta(
                id=cid,
                runtime=self.runtime,
                name=_short_name(item.get("Names") or ()),
                image=None if image is None else str(image),
                state=str(item.get("State", "unknown")),
                labels=_labels(item.get("Labels")),
            )
            # The same object for an unchanged entry: the collector keeps a container's
            # record while its Meta `is` the last one (a new, equal one made a new record).
            kept = was.get(cid)
            meta[cid] = kept if kept == entry else entry
        self._meta = meta
        self._listed_at = now
        # The engine stamps an event after the change it tells: one stamped before the request
        # is in the list (a little slack for an engine on another clock: applied twice, an
        # event does no harm).
        self._listed_wall = wall - 0.05
        self._relist = False
        self.lists += 1
        self.status = "ok"

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def expire(self) -> None:
        """Names and states are listed again on the next sample (after an action of ours)."""
        self._listed_at = float("-inf")
        self._relist = True


class DockerDiskMeta:
    """Names from /var/lib/docker/containers/<id>/config.v2.json: works with dockerd down
    (needs root: the directory is 0710)."""

    def __init__(self, root: HostRoot) -> None:
        self.root = root
        self._cache: dict[str, Meta | None] = {}

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, cid: str) -> Meta | None:
        if cid not in self._cache:
            self._cache[cid] = self._read(cid)
        return self._cache[cid]

    def retain(self, live: Container[str]) -> None:
        """Forget the containers not in `live` (gone): the cache is bounded by the host's
        containers, not by every one ever seen. Not a fixed size: asked for every container
        each tick, a cache smaller than the host's count read every file again every tick
        (1,024 entries: 5,000 failed opens a tick on a 5,000-container fake root)."""
        self._cache = {cid: meta for cid, meta in self._cache.items() if cid in live}

    def _read(self, cid: str) -> Meta | None:
        path = self.root.docker / "containers" / cid / "config.v2.json"
        try:
            config = json.loads(read_bytes(path))
        except (HostError, ValueError):
            return None
        if not isinstance(config, dict):
            return None
        inner = config.get("Config")
        state = config.get("State")
        inner = inner if isinstance(inner, dict) else {}
        state = state if isinstance(state, dict) else {}
        labels = inner.get("Labels")
        pid = state.get("Pid")
        return Meta(
            id=cid,
            runtime="docker",
            name=str(config.get("Name", "")).lstrip("/"),
            image=str(inner["Image"]) if inner.get("Image") is not None else None,
            state="paused"
            if state.get("Paused")
            else "running"
            if state.get("Running")
            else "exited",
            labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
            pid=pid if isinstance(pid, int) and pid > 0 else None,
        )
