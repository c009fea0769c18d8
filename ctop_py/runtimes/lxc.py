"""LXC: `lxc.payload.<name>` (LXC >= 4; the monitor's `lxc.monitor.<name>` is not the
container) and the older `lxc/<name>`."""

from __future__ import annotations

from ctop_py.runtimes.base import Claim, components, prefix_through

_PAYLOAD = "lxc.payload."


class LxcRuntime:
    name = "lxc"

    def claim(self, cgroup_path: str) -> Claim | None:
        parts = components(cgroup_path)
        for index, part in enumerate(parts):
            if part.startswith(_PAYLOAD) and len(part) > len(_PAYLOAD):
                name = part[len(_PAYLOAD) :]
                return Claim(self.name, name, prefix_through(parts, index), name=name)
            if part == "lxc" and index + 1 < len(parts):
                name = parts[index + 1]
                return Claim(self.name, name, prefix_through(parts, index + 1), name=name)
        return None
