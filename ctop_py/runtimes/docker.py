"""Docker: cgroupfs driver `/docker/<id>` (or `<cgroup-parent>/<id>`), systemd driver
`…/docker-<id>.scope`. Names, images and labels from the Engine API, or from the daemon's own
files on disk when it does not answer."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ctop_py.host import HostError, HostRoot, read_bytes
from ctop_py.runtimes.base import HEX64, Claim, Meta, components, prefix_through

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


def _reason(exc: Exception, base_url: str) -> str:
    text = str(exc)
    if "Permission denied" in text or isinstance(exc, PermissionError):
        return f"needs root or the docker group: permission denied on {base_url}"
    if "No such file" in text or "FileNotFoundError" in text:
        return f"no socket at {base_url}"
    if "Connection refused" in text:
        return f"is the daemon running? connection refused at {base_url}"
    return type(exc).__name__


def _short_name(names: Iterable[str]) -> str:
    for name in names:
        return name.lstrip("/")
    return ""


class EngineClient:
    """Container names from a Docker-compatible Engine API (Docker, or Podman's socket).

    Listing is cached: refreshed when an unknown id shows up or every `ttl` seconds, and retried
    at most every `retry_s` while the engine is unreachable. Never used for statistics.

    When the cache and the kernel disagree (a container listed as running whose cgroup is gone:
    it stopped or is being removed; one listed as created or exited that has a cgroup: it just
    started), the list is refreshed on every call for up to `settle_s` (a slow host takes
    seconds to start a container), so a removed container does not linger as an "exited" row
    from the cache for up to `ttl`, and a state shows at once.
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
        self._client: Any = None
        self._meta: dict[str, Meta] = {}
        self._listed_at = float("-inf")
        self._failed_at = float("-inf")

    def _connect(self) -> Any:
        if self._client is None:
            import docker

            self._client = docker.DockerClient(base_url=self.base_url, timeout=3)
        return self._client

    def metadata(self, wanted_ids: Iterable[str]) -> Mapping[str, Meta]:
        """`wanted_ids`: the ids of every live cgroup of this runtime."""
        now = time.monotonic()
        wanted = set(wanted_ids)
        unknown = any(i not in self._meta for i in wanted)
        stale = now - self._listed_at > self.ttl
        for cid, meta in self._meta.items():
            if (meta.state in _HAS_PROCESSES) != (cid in wanted) and meta.state != "restarting":
                self._changing.setdefault(cid, now)  # the cache and the kernel disagree
            else:
                self._changing.pop(cid, None)
        self._changing = {c: t for c, t in self._changing.items() if c in self._meta}
        settling = any(now - t < self.settle_s for t in self._changing.values())
        if (unknown or stale or settling) and now - self._failed_at > self.retry_s:
            self._list(now)
        return self._meta

    def _list(self, now: float) -> None:
        try:
            client = self._connect()
            listed = client.api.containers(all=True)
        except Exception as exc:  # the SDK raises many types; any failure means "unreachable"
            self._failed_at = now
            self._client = None
            self.status = f"unreachable ({_reason(exc, self.base_url)})"
            return
        meta = {}
        for item in listed:
            cid = str(item.get("Id", ""))
            meta[cid] = Meta(
                id=cid,
                runtime=self.runtime,
                name=_short_name(item.get("Names") or ()),
                image=item.get("Image"),
                state=str(item.get("State", "unknown")),
                labels=dict(item.get("Labels") or {}),
            )
        self._meta = meta
        self._listed_at = now
        self.status = "ok"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def expire(self) -> None:
        """Names and states are listed again on the next sample (after an action of ours)."""
        self._listed_at = float("-inf")


class DockerDiskMeta:
    """Names from /var/lib/docker/containers/<id>/config.v2.json: works with dockerd down
    (needs root: the directory is 0710)."""

    def __init__(self, root: HostRoot) -> None:
        self.root = root
        self._cache: dict[str, Meta | None] = {}

    def get(self, cid: str) -> Meta | None:
        if cid not in self._cache:
            self._cache[cid] = self._read(cid)
        return self._cache[cid]

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
