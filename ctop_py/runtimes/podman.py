"""Podman: `libpod-<id>.scope` (systemd), `libpod_parent/libpod-<id>` (cgroupfs). conmon runs in
`libpod-conmon-<id>.scope` and is not part of the container."""

from __future__ import annotations

import re

from ctop_py.runtimes.base import HEX64, Claim, components, prefix_through

_LIBPOD = re.compile(rf"^libpod-({HEX64})(?:\.scope)?$")


class PodmanRuntime:
    name = "podman"

    def claim(self, cgroup_path: str) -> Claim | None:
        parts = components(cgroup_path)
        for index, part in enumerate(parts):
            match = _LIBPOD.match(part)
            if match:
                # crun on v2 puts the payload in a `container` child: the scope holds it all.
                return Claim(self.name, match.group(1), prefix_through(parts, index))
        return None
