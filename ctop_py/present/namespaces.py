"""`ctop-py ns`: every namespace on the host as a plain-text table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ctop_py import present
from ctop_py.nsfs import Namespace


def namespaces_table(namespaces: Sequence[Namespace], comms: Mapping[int, str]) -> str:
    """One row per namespace; `comms` names the first process of each (pid -> comm)."""
    rows = []
    for n in namespaces:
        first = n.pids[0]
        rows.append(
            [
                n.type,
                str(n.inode),
                "host" if n.is_host else "",
                str(len(n.pids)),
                f"{first} {present.safe(comms.get(first, ''), 24)}",
                present.safe(", ".join(n.containers), 60),
                present.count(n.owner_userns),
            ]
        )
    return present.table(
        ["TYPE", "INODE", "HOST", "NPROCS", "FIRST PID", "CONTAINERS", "OWNER USERNS"],
        rows,
        right={1, 3},
    )
