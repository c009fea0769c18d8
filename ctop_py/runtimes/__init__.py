"""Runtimes, tried in order; the first to claim a cgroup path owns it. Processes in their own
namespaces that no runtime claims become "sandbox" entries (see ctop_py.collect)."""

from __future__ import annotations

from ctop_py.runtimes.base import Claim, Meta, Runtime
from ctop_py.runtimes.containerd import ContainerdRuntime
from ctop_py.runtimes.docker import DockerRuntime
from ctop_py.runtimes.lxc import LxcRuntime
from ctop_py.runtimes.nspawn import NspawnRuntime
from ctop_py.runtimes.podman import PodmanRuntime

DEFAULT_RUNTIMES: tuple[Runtime, ...] = (
    PodmanRuntime(),
    ContainerdRuntime(),
    DockerRuntime(),
    LxcRuntime(),
    NspawnRuntime(),
)


def claim(cgroup_path: str, runtimes: tuple[Runtime, ...] = DEFAULT_RUNTIMES) -> Claim | None:
    for runtime in runtimes:
        found = runtime.claim(cgroup_path)
        if found is not None:
            return found
    return None


__all__ = ["DEFAULT_RUNTIMES", "Claim", "Meta", "Runtime", "claim"]
