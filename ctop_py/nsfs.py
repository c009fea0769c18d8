"""The host's namespaces: who is in each one, which containers, and the owning user namespace."""

from __future__ import annotations

import fcntl
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ctop_py.host import HostRoot
from ctop_py.model import ContainerRaw, Process

NS_GET_USERNS = 0xB701  # ioctl_ns(2): an fd of the user namespace owning this namespace


@dataclass(frozen=True)
class Namespace:
    type: str
    inode: int
    owner_userns: int | None  # None when unreadable (needs ptrace access to a member)
    pids: tuple[int, ...]
    containers: tuple[str, ...]  # names of containers whose init process is in it
    is_host: bool


def owner_userns(root: HostRoot, pid: int, ns_type: str) -> int | None:
    try:
        fd = os.open(root.proc / str(pid) / "ns" / ns_type, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        owner = fcntl.ioctl(fd, NS_GET_USERNS)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        return os.fstat(owner).st_ino
    finally:
        os.close(owner)


def list_namespaces(
    root: HostRoot,
    processes: Iterable[Process],
    containers: Iterable[ContainerRaw],
    host: dict[str, int] | None = None,
) -> list[Namespace]:
    members: dict[tuple[str, int], list[int]] = defaultdict(list)
    for process in processes:
        for ns_type, inode in process.namespaces.items():
            members[(ns_type, inode)].append(process.pid)
    in_container: dict[tuple[str, int], set[str]] = defaultdict(set)
    for c in containers:
        for ns_type, inode in c.namespaces.items():
            in_container[(ns_type, inode)].add(c.name)
    host = host or {}
    result = []
    for (ns_type, inode), pids in sorted(members.items()):
        owner = None
        for pid in pids:
            owner = owner_userns(root, pid, ns_type)
            if owner is not None:
                break
        result.append(
            Namespace(
                type=ns_type,
                inode=inode,
                owner_userns=owner,
                pids=tuple(sorted(pids)),
                containers=tuple(sorted(in_container.get((ns_type, inode), ()))),
                is_host=host.get(ns_type) == inode,
            )
        )
    return result
