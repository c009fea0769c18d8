"""A container's network as netlink sees it: links, addresses, counters, and each veth's host peer.

Everything here is on demand and blocking (a netlink socket in another net namespace costs a
thread and a `setns()`): the UI calls it from a worker, for the container on screen only. The
requests are `ctop_py.netlink`'s (a plain rtnetlink socket; pyroute2 added 13 MiB to the app).

- The container's namespace is entered through `<proc>/<pid>/ns/net` (setns of an open fd,
  in a thread of its own), so no namespace is ever created as a side effect. The fd is opened
  once and checked against the namespace inode the collector saw, so a recycled pid cannot
  swap in another namespace.
- The host side (veth peers, the bridge they are attached to) is asked in the host's namespace:
  that of pid 1 (else kthreadd) under the HostRoot's proc; when it is the caller's own namespace
  no setns is needed.
- Limitation of `--root`: netlink always talks to the kernel ctop-py runs on. With `--root /host`
  (the same host's proc mounted elsewhere) the namespaces are entered through that proc and all
  works given the privileges (CAP_SYS_ADMIN for setns); a tree that is not a live proc (a copied
  or fake root) has no namespaces to enter, and reading it raises `NetError`.
- Counters are cumulative; `rates(prev, cur)` turns two readings into per-second rates, None on
  the first reading, across a counter reset or a changed namespace; never a fake 0.
  `read_proc_counters()` is the cheap path for periodic counters (`/proc/<pid>/net/dev`, no
  setns, readable without privileges).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ctop_py.host import (
    Gone,
    HostError,
    HostRoot,
    Malformed,
    NoAccess,
    error_from_errno,
    read_bytes,
)
from ctop_py.model import ContainerRaw, SharedNamespace, Sharing
from ctop_py.netlink import Rtnl
from ctop_py.procfs import net_dev_lines

# NETNSA_NSID_NOT_ASSIGNED (-1) arrives as an unsigned 32-bit value.
_NSID_LIMIT = 2**31
IFF_UP = 0x1
_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
_FAMILIES = {2: "inet", 10: "inet6"}
# Candidates for the host's namespace under a HostRoot's proc: init, else kthreadd (always in
# the initial namespaces; pid 1 may be unreadable, e.g. non-dumpable).
_HOST_PIDS = ("1", "2")


class NetError(HostError):
    """Netlink failed for another reason than a vanished process or missing permission."""


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class LinkCounters:
    """Cumulative counters of one interface (IFLA_STATS64, or /proc/<pid>/net/dev)."""

    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int
    rx_errors: int
    tx_errors: int
    rx_dropped: int
    tx_dropped: int


COUNTER_FIELDS = (
    "rx_bytes", "tx_bytes", "rx_packets", "tx_packets",
    "rx_errors", "tx_errors", "rx_dropped", "tx_dropped",
)  # fmt: skip


@dataclass(frozen=True)
class Address:
    family: str  # "inet" | "inet6" | the number as text
    address: str
    prefixlen: int
    scope: str  # "global", "link", "host", …
    label: str | None = None

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass(frozen=True)
class HostPeer:
    """The other end of a container link, in the host's namespace."""

    index: int
    name: str | None  # None when the host has no link with that index
    kind: str | None
    mac: str | None
    state: str | None
    master_index: int | None
    master: str | None  # the bridge (or bond, OVS port…) the peer is attached to, e.g. docker0
    master_kind: str | None
    # The host link points back at the container link (IFLA_LINK) from the container's
    # namespace (IFLA_LINK_NETNSID == the host's id for it): it is this veth's peer for sure.
    confirmed: bool


@dataclass(frozen=True)
class Link:
    index: int
    name: str
    kind: str | None  # IFLA_INFO_KIND: veth, bridge, macvlan, …; None for lo and real NICs
    mac: str | None
    mtu: int | None
    state: str  # operstate: UP, DOWN, UNKNOWN (lo), LOWERLAYERDOWN, …
    admin_up: bool  # IFF_UP
    addresses: tuple[Address, ...]
    counters: LinkCounters | None
    link_index: int | None  # IFLA_LINK: the peer's / parent's ifindex (in link_netnsid's netns)
    link_netnsid: int | None  # None: the peer is in this same namespace
    master_index: int | None
    peer: HostPeer | None = None  # only for links whose other end is in the host's namespace


@dataclass(frozen=True)
class CounterReading:
    """Counters of every interface of one namespace at one instant (for rates)."""

    monotonic_ns: int
    netns_inode: int | None
    counters: Mapping[str, LinkCounters]  # by interface name


@dataclass(frozen=True)
class ContainerNet:
    """One reading of a container's network."""

    container_id: str
    container_name: str
    pid: int
    netns_inode: int | None
    # None: its own namespace. Else the host's (--net=host), or that of the container it
    # joined (docker --net=container:<name>, a pod's pause).
    shared: SharedNamespace | None
    joined_by: tuple[str, ...]  # containers that joined this container's namespace
    links: tuple[Link, ...]
    monotonic_ns: int
    host_note: str | None = None  # why host peers are unknown, when they are

    @property
    def reading(self) -> CounterReading:
        return CounterReading(
            self.monotonic_ns,
            self.netns_inode,
            {ln.name: ln.counters for ln in self.links if ln.counters is not None},
        )


@dataclass(frozen=True)
class LinkRates:
    """Per-second rates of one interface; None = unknown (first reading, counter reset)."""

    rx_bytes: float | None = None
    tx_bytes: float | None = None
    rx_packets: float | None = None
    tx_packets: float | None = None
    rx_errors: float | None = None
    tx_errors: float | None = None
    rx_dropped: float | None = None
    tx_dropped: float | None = None


# ---------------------------------------------------------------------------------------------
# Rates


def rates(prev: CounterReading | None, cur: CounterReading) -> dict[str, LinkRates]:
    """Rates per interface between two readings. Every interface of `cur` gets an entry; its
    values are None when there is no earlier reading of it, the namespace changed (the
    container restarted), no time passed, or that counter went backwards (a reset)."""
    unknown = LinkRates()
    if prev is None or prev.netns_inode != cur.netns_inode:
        return dict.fromkeys(cur.counters, unknown)
    seconds = (cur.monotonic_ns - prev.monotonic_ns) / 1e9
    if seconds <= 0:
        return dict.fromkeys(cur.counters, unknown)
    result = {}
    for name, now in cur.counters.items():
        before = prev.counters.get(name)
        if before is None:
            result[name] = unknown
            continue
        values: dict[str, float | None] = {}
        for f in COUNTER_FIELDS:
            delta = getattr(now, f) - getattr(before, f)
            values[f] = None if delta < 0 else delta / seconds
        result[name] = LinkRates(**values)
    return result


# ---------------------------------------------------------------------------------------------
# /proc/<pid>/net/dev: the cheap path


def parse_net_dev(data: bytes, path: str = "net/dev") -> dict[str, LinkCounters]:
    """Every interface of /proc/<pid>/net/dev. Bytes, packets and errors equal netlink's;
    the kernel adds rx_missed_errors into this file's rx "drop" column."""
    result = {}
    for iface, fields in net_dev_lines(data, path):
        try:
            v = [int(x) for x in fields[:16]]
        except ValueError:
            raise Malformed(path, f"interface {iface!r} has a non-numeric counter") from None
        result[iface] = LinkCounters(
            rx_bytes=v[0], rx_packets=v[1], rx_errors=v[2], rx_dropped=v[3],
            tx_bytes=v[8], tx_packets=v[9], tx_errors=v[10], tx_dropped=v[11],
        )  # fmt: skip
    return result


def read_proc_counters(root: HostRoot, pid: int, netns_inode: int | None) -> CounterReading:
    """Counters of the namespace `pid` is in, from procfs (no setns, no privileges)."""
    path = root.proc / str(pid) / "net" / "dev"
    data = read_bytes(path)
    now = time.monotonic_ns()
    return CounterReading(now, netns_inode, parse_net_dev(data, str(path)))


# ---------------------------------------------------------------------------------------------
# Netlink messages → records (pure: unit-tested on messages built from literal attributes)


class Msg(Protocol):
    def get(self, key: Any, default: Any = None) -> Any: ...

    def __getitem__(self, key: str) -> Any: ...


def _nsid(value: Any) -> int | None:
    if value is None:
        return None
    nsid = int(value)
    return None if nsid < 0 or nsid >= _NSID_LIMIT else nsid


def _counters(msg: Msg) -> LinkCounters | None:
    for attr in ("stats64", "stats"):
        stats = msg.get(attr)
        if stats is None:
            continue
        return LinkCounters(**{f: int(msg.get((attr, f)) or 0) for f in COUNTER_FIELDS})
    return None


def link_from_msg(msg: Msg, addresses: Iterable[Address] = ()) -> Link:
    """An RTM_NEWLINK message as a Link (without its host peer)."""
    master = msg.get("master")
    link = msg.get("link")
    return Link(
        index=int(msg["index"]),
        name=str(msg.get("ifname") or f"if{msg['index']}"),
        kind=msg.get(("linkinfo", "kind")),
        mac=msg.get("address"),
        mtu=msg.get("mtu"),
        state=str(msg.get("operstate") or "UNKNOWN"),
        admin_up=bool(int(msg["flags"] or 0) & IFF_UP),
        addresses=tuple(addresses),
        counters=_counters(msg),
        # IFLA_LINK equal to the own index (or 0) means "no other end".
        link_index=int(link) if link and link != msg["index"] else None,
        link_netnsid=_nsid(msg.get("link_netnsid")),
        master_index=int(master) if master else None,
    )


def address_from_msg(msg: Msg) -> Address:
    """An RTM_NEWADDR message. IFA_LOCAL is the own address (IFA_ADDRESS is the peer's on
    point-to-point links)."""
    family = int(msg["family"])
    return Address(
        family=_FAMILIES.get(family, str(family)),
        address=str(msg.get("local") or msg.get("address")),
        prefixlen=int(msg["prefixlen"]),
        scope=_SCOPES.get(int(msg["scope"]), str(msg["scope"])),
        label=msg.get("label"),
    )


def links_from_msgs(link_msgs: Iterable[Msg], addr_msgs: Iterable[Msg]) -> tuple[Link, ...]:
    by_index: dict[int, list[Address]] = {}
    for a in addr_msgs:
        by_index.setdefault(int(a["index"]), []).append(address_from_msg(a))
    links = [link_from_msg(m, by_index.get(int(m["index"]), ())) for m in link_msgs]
    return tuple(sorted(links, key=lambda ln: ln.index))


def attach_peers(
    links: Iterable[Link],
    host_links: Mapping[int, Link],
    host_nsid_from_ctr: int | None,
    ctr_nsid_from_host: int | None,
) -> tuple[Link, ...]:
    """Give each container link whose other end is in the host's namespace its HostPeer.

    `host_nsid_from_ctr`: the id the container's namespace gives the host's (RTM_GETNSID); a
    link points into the host when its link_netnsid equals it. When unknown (None), any link with
    a link_netnsid is tried. `ctr_nsid_from_host`: the id the host gives the container's
    namespace; the peer is confirmed when the host link points back with that id."""
    result = []
    for ln in links:
        peer = None
        into_host = ln.link_netnsid is not None and (
            host_nsid_from_ctr is None or ln.link_netnsid == host_nsid_from_ctr
        )
        if into_host and ln.link_index is not None:
            peer = _peer(ln, host_links, ctr_nsid_from_host)
        result.append(replace(ln, peer=peer))
    return tuple(result)


def _peer(ln: Link, host_links: Mapping[int, Link], ctr_nsid_from_host: int | None) -> HostPeer:
    assert ln.link_index is not None
    h = host_links.get(ln.link_index)
    if h is None:
        return HostPeer(ln.link_index, None, None, None, None, None, None, None, False)
    master = host_links.get(h.master_index) if h.master_index is not None else None
    confirmed = (
        h.link_index == ln.index
        and h.link_netnsid is not None
        and (ctr_nsid_from_host is None or h.link_netnsid == ctr_nsid_from_host)
    )
    return HostPeer(
        index=h.index,
        name=h.name,
        kind=h.kind,
        mac=h.mac,
        state=h.state,
        master_index=h.master_index,
        master=master.name if master else None,
        master_kind=master.kind if master else None,
        confirmed=confirmed,
    )


# ---------------------------------------------------------------------------------------------
# Sharing: whose namespace is it?


def netns_owner(container: ContainerRaw) -> SharedNamespace | None:
    """None when the container's net namespace is its own (others may have joined it); the
    host's, or the container's that made it (the collector decides ownership: the earliest
    started)."""
    shared = container.shared_namespaces.get("net")
    if shared is None or shared.sharing is Sharing.OWNER:
        return None
    return shared


def joined_by(container: ContainerRaw) -> tuple[str, ...]:
    """Names of containers that joined this container's net namespace."""
    shared = container.shared_namespaces.get("net")
    if shared is None or shared.sharing is not Sharing.OWNER:
        return ()
    return shared.containers


# ---------------------------------------------------------------------------------------------
# Reading through netlink


def _open_ns(path: Path, expected_inode: int | None) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise _error(path, exc) from None
    if expected_inode is not None and os.fstat(fd).st_ino != expected_inode:
        os.close(fd)
        raise Gone(path, "the process now has another network namespace (it was replaced)")
    return fd


def _error(path: str | os.PathLike[str], exc: BaseException) -> HostError:
    """An OSError (a netlink error answer is one, with its errno), mapped like every read."""
    code = getattr(exc, "errno", None) or getattr(exc, "code", None)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    error = error_from_errno(path, code, reason, NetError)
    if isinstance(error, NoAccess):
        return NoAccess(path, f"{reason} (entering a network namespace needs root)")
    if isinstance(error, NetError):
        return NetError(path, f"netlink: {reason}")
    return error


@contextlib.contextmanager
def _iproute(ns_fd: int | None, path: Path) -> Iterator[Any]:
    """An rtnetlink socket in the namespace of `ns_fd` (None: the caller's own)."""
    try:
        ipr = Rtnl(ns_fd)
    except OSError as exc:
        raise _error(path, exc) from None
    try:
        yield ipr
    finally:
        ipr.close()


def _query(path: Path, what: str, call: Any) -> Any:
    try:
        return call()
    except Exception as exc:
        err = _error(path, exc)
        raise type(err)(path, f"{what}: {err.reason}") from None


def _nsid_of(ipr: Any, fd: int) -> int | None:
    """The id `ipr`'s namespace gives the namespace of `fd`; None when none is assigned or the
    kernel refuses. RTM_GETNSID does not allocate an id."""
    try:
        answer = ipr.get_netnsid(fd=fd)
    except Exception:
        return None
    return _nsid(answer.get("nsid")) if answer else None


def _same_netns_as_caller(fd: int) -> bool:
    # The caller's own namespace: /proc/self of this process, deliberately not the HostRoot's.
    try:
        return os.stat("/proc/self/ns/net").st_ino == os.fstat(fd).st_ino
    except OSError:
        return False


def _open_host_ns(root: HostRoot) -> tuple[int, Path]:
    last: HostError | None = None
    for pid in _HOST_PIDS:
        path = root.proc / pid / "ns" / "net"
        try:
            return _open_ns(path, None), path
        except HostError as exc:
            last = exc
    assert last is not None
    raise last


def read_links(root: HostRoot, pid: int, netns_inode: int | None = None) -> tuple[Link, ...]:
    """Every link of `pid`'s net namespace with addresses and counters (no host peers)."""
    path = root.proc / str(pid) / "ns" / "net"
    fd = _open_ns(path, netns_inode)
    try:
        with _iproute(fd, path) as ipr:
            return links_from_msgs(
                _query(path, "links", ipr.get_links), _query(path, "addresses", ipr.get_addr)
            )
    finally:
        os.close(fd)


def read_container_net(
    root: HostRoot,
    container: ContainerRaw,
    *,
    host_side: bool = True,
) -> ContainerNet:
    """One netlink reading of a running container's network. Blocking (~20-50 ms).

    Which side of a `--net=container:X` it is on comes from its `shared_namespaces` (the
    collector decides). A container sharing the host's or another container's namespace gets
    no links (they are not its own). Raises Gone (the process or namespace vanished), NoAccess (not
    root) or NetError. Problems on the host side only leave `peer` unset, with `host_note`."""
    if container.init_pid is None:
        raise Gone(container.name, "the container is not running")
    pid = container.init_pid
    inode = container.namespaces.get("net")
    shared = netns_owner(container)
    if shared is not None:
        return ContainerNet(
            container.id, container.name, pid, inode, shared, (), (), time.monotonic_ns()
        )
    path = root.proc / str(pid) / "ns" / "net"
    fd = _open_ns(path, inode)
    try:
        if inode is None:
            inode = os.fstat(fd).st_ino
        with _iproute(fd, path) as ipr:
            link_msgs = _query(path, "links", ipr.get_links)
            now = time.monotonic_ns()
            addr_msgs = _query(path, "addresses", ipr.get_addr)
            links = links_from_msgs(link_msgs, addr_msgs)
            note = None
            if host_side and any(ln.link_netnsid is not None for ln in links):
                links, note = _with_host_peers(root, links, ipr, fd)
    finally:
        os.close(fd)
    return ContainerNet(
        container.id,
        container.name,
        pid,
        inode,
        None,
        joined_by(container),
        links,
        now,
        note,
    )


def _with_host_peers(
    root: HostRoot, links: tuple[Link, ...], ctr_ipr: Any, ctr_fd: int
) -> tuple[tuple[Link, ...], str | None]:
    try:
        host_fd, host_path = _open_host_ns(root)
    except HostError as exc:
        return links, f"host namespace unreadable: {exc}"
    try:
        host_nsid_from_ctr = _nsid_of(ctr_ipr, host_fd)
        own = _same_netns_as_caller(host_fd)
        with _iproute(None if own else host_fd, host_path) as hipr:
            host_msgs = _query(host_path, "host links", hipr.get_links)
            ctr_nsid_from_host = _nsid_of(hipr, ctr_fd)
    except HostError as exc:
        return links, f"host links unreadable: {exc}"
    finally:
        os.close(host_fd)
    host_links = {ln.index: ln for ln in links_from_msgs(host_msgs, ())}
    return attach_peers(links, host_links, host_nsid_from_ctr, ctr_nsid_from_host), None


__all__ = [
    "Address",
    "ContainerNet",
    "CounterReading",
    "HostPeer",
    "Link",
    "LinkCounters",
    "LinkRates",
    "NetError",
    "address_from_msg",
    "attach_peers",
    "joined_by",
    "link_from_msg",
    "links_from_msgs",
    "netns_owner",
    "parse_net_dev",
    "rates",
    "read_container_net",
    "read_links",
    "read_proc_counters",
]
