"""What a runtime module provides: claiming cgroup paths, and optionally names from its engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

HEX64 = r"[0-9a-f]{64}"


@dataclass(frozen=True)
class Claim:
    """A cgroup path recognised as a container's: the cgroup that holds all of it."""

    runtime: str
    id: str
    cgroup_path: str
    name: str | None = None  # when the path itself names the container (LXC, nspawn)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Meta:
    """What an engine says about a container: names, never statistics."""

    id: str
    runtime: str
    name: str
    image: str | None
    state: str
    labels: Mapping[str, str]
    pid: int | None = None


class Runtime(Protocol):
    name: str

    def claim(self, cgroup_path: str) -> Claim | None: ...


def components(cgroup_path: str) -> list[str]:
    return [c for c in cgroup_path.split("/") if c]


def prefix_through(parts: list[str], index: int) -> str:
    """The cgroup path made of parts[0..index]."""
    return "/" + "/".join(parts[: index + 1])
