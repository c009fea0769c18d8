"""systemd-nspawn / machined: `machine.slice/machine-<escaped name>.scope` (`-` -> `\\x2d`)."""

from __future__ import annotations

import re

from ctop_py.runtimes.base import Claim, components, prefix_through

_MACHINE = re.compile(r"^machine-(.+)\.scope$")
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def unescape_unit(name: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name)


class NspawnRuntime:
    name = "nspawn"

    def claim(self, cgroup_path: str) -> Claim | None:
        parts = components(cgroup_path)
        for index, part in enumerate(parts):
            if index == 0 or parts[index - 1] != "machine.slice":
                continue
            match = _MACHINE.match(part)
            if match:
                name = unescape_unit(match.group(1))
                return Claim(self.name, name, prefix_through(parts, index), name=name)
        return None
