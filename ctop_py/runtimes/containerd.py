"""containerd/CRI and Kubernetes: `kubepods…/cri-containerd-<id>.scope` (systemd), CRI-O's
`crio-<id>.scope`, and the kubelet's cgroupfs layout `/kubepods/<qos>/pod<uid>/<id>`."""

from __future__ import annotations

import re

from ctop_py.runtimes.base import HEX64, Claim, components, prefix_through

_SCOPE = re.compile(rf"^(cri-containerd|crio)-({HEX64})\.scope$")
_BARE = re.compile(rf"^({HEX64})$")
_POD = re.compile(r"pod([0-9a-f_-]{36})(?:\.slice)?$")


def _pod_uid(parts: list[str]) -> dict[str, str]:
    for part in parts:
        match = _POD.search(part)
        if match:
            return {"io.kubernetes.pod.uid": match.group(1).replace("_", "-")}
    return {}


class ContainerdRuntime:
    name = "containerd"

    def claim(self, cgroup_path: str) -> Claim | None:
        parts = components(cgroup_path)
        for index, part in enumerate(parts):
            match = _SCOPE.match(part)
            if match:
                runtime = "crio" if match.group(1) == "crio" else self.name
                return Claim(
                    runtime, match.group(2), prefix_through(parts, index), labels=_pod_uid(parts)
                )
            match = _BARE.match(part)
            if match and any(p.startswith("kubepods") for p in parts[:index]):
                return Claim(
                    self.name, match.group(1), prefix_through(parts, index), labels=_pod_uid(parts)
                )
        return None
