"""Bare namespace sandboxes: processes in namespaces of their own (e.g. made with `unshare`)
whose cgroup no runtime claims. They are grouped by the set of namespaces that differ from the
host's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ctop_py.model import Process

# The user namespace alone does not make a sandbox (rootless tools, browsers), nor does a
# private cgroup or time namespace; a sandbox isolates at least one of these.
ISOLATING = ("pid", "net", "mnt", "uts", "ipc")


def isolating_namespaces(host: Mapping[str, int]) -> dict[str, int]:
    """The host's namespaces of the isolating types: a process in all of them is no sandbox
    (`sandbox_key` is None), so the walk for sandboxes need not read it."""
    return {ns_type: host[ns_type] for ns_type in ISOLATING if ns_type in host}


def sandbox_key(process: Process, host: Mapping[str, int]) -> tuple[tuple[str, int], ...] | None:
    """The namespaces in which this process differs from the host, or None if it does not."""
    differing = tuple(
        (ns_type, inode)
        for ns_type, inode in sorted(process.namespaces.items())
        if ns_type in host and inode != host[ns_type]
    )
    if not any(ns_type in ISOLATING for ns_type, _ in differing):
        return None
    return differing


def sandbox_id(key: tuple[tuple[str, int], ...]) -> str:
    import hashlib  # here: a host without sandboxes never needs it

    text = ",".join(f"{t}:{i}" for t, i in key)
    return "sandbox-" + hashlib.sha1(text.encode()).hexdigest()[:12]


def group_root(processes: Iterable[Process]) -> Process:
    """The process whose parent is outside the group (the sandbox's first process)."""
    members = sorted(processes, key=lambda p: p.pid)
    pids = {p.pid for p in members}
    for process in members:
        if process.ppid not in pids:
            return process
    return members[0]
