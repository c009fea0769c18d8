"""The few rtnetlink requests the Network tab makes (links, addresses, a namespace's id), on a
plain NETLINK_ROUTE socket, decoded into dicts keyed as pyroute2 names them (what
`ctop_py.net`'s `*_from_msg` read).

pyroute2 did this before: importing it loads ~200 modules (ssl, sqlite3, multiprocessing, an
asyncio core) and its sockets kept more: in the app at 100 containers the Network tab added
13 MiB of RSS that stayed. Here: one socket a namespace, one receive buffer, nothing kept.

A socket is in the network namespace of the thread that made it: to read another namespace,
a short-lived thread enters it (setns acts on the calling thread only) and makes the socket,
so the app's own threads never change namespace.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct
import threading
from typing import Any

NETLINK_ROUTE = 0
CLONE_NEWNET = 0x40000000
# message types (linux/rtnetlink.h, linux/netlink.h)
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWADDR, RTM_GETADDR = 20, 22
RTM_NEWNSID, RTM_GETNSID = 88, 90
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_DUMP_INTR, NLM_F_DUMP = 0x1, 0x2, 0x10, 0x300
# attributes
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_STATS, IFLA_MASTER = 1, 3, 4, 5, 7, 10
IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_STATS64, IFLA_LINK_NETNSID = 16, 18, 23, 37
IFLA_INFO_KIND = 1
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
NETNSA_NSID, NETNSA_FD = 1, 3
NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER

_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, port id
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")  # ifaddrmsg: family, prefixlen, flags, scope, index
_RTGEN = struct.Struct("=Bxxx")  # rtgenmsg, padded to 4
_ATTR = struct.Struct("=HH")  # nlattr: length, type
_ERROR = struct.Struct("=i")
# rtnl_link_stats64 / rtnl_link_stats: their first eight counters, in this order
_STATS_FIELDS = (
    "rx_packets", "tx_packets", "rx_bytes", "tx_bytes",
    "rx_errors", "tx_errors", "rx_dropped", "tx_dropped",
)  # fmt: skip
_STATS64 = struct.Struct("=8Q")
_STATS32 = struct.Struct("=8I")
# IF_OPER_* (linux/if.h), as pyroute2 and `ip` name them
_OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
_RECV_BYTES = 1 << 16
_DUMP_TRIES = 3  # a dump interrupted by a change (NLM_F_DUMP_INTR) is asked again


class NetlinkError(OSError):
    """The kernel's answer was an error (its errno), or the dump never came whole."""


def _cstr(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


def _attrs(data: bytes | memoryview, offset: int) -> dict[int, bytes]:
    """The attributes from `offset` on: type -> payload (the last one of a type wins)."""
    out: dict[int, bytes] = {}
    end = len(data)
    while offset + _ATTR.size <= end:
        length, kind = _ATTR.unpack_from(data, offset)
        if length < _ATTR.size or offset + length > end:
            break
        out[kind & NLA_TYPE_MASK] = bytes(data[offset + _ATTR.size : offset + length])
        offset += (length + 3) & ~3
    return out


def _u32(data: bytes) -> int:
    return int(struct.unpack_from("=I", data)[0])


def _s32(data: bytes) -> int:
    return int(struct.unpack_from("=i", data)[0])


def decode_link(body: bytes | memoryview) -> dict[Any, Any]:
    """An RTM_NEWLINK message's body (after nlmsghdr)."""
    family, _type, index, flags, _change = _IFINFO.unpack_from(body)
    msg: dict[Any, Any] = {"family": family, "index": index, "flags": flags}
    attrs = _attrs(body, _IFINFO.size)
    if IFLA_IFNAME in attrs:
        msg["ifname"] = _cstr(attrs[IFLA_IFNAME])
    if IFLA_ADDRESS in attrs:
        msg["address"] = ":".join(f"{b:02x}" for b in attrs[IFLA_ADDRESS])
    for key, kind in (("mtu", IFLA_MTU), ("link", IFLA_LINK), ("master", IFLA_MASTER)):
        if len(attrs.get(kind, b"")) >= 4:
            msg[key] = _u32(attrs[kind])
    if len(attrs.get(IFLA_LINK_NETNSID, b"")) >= 4:
        msg["link_netnsid"] = _s32(attrs[IFLA_LINK_NETNSID])
    if attrs.get(IFLA_OPERSTATE):
        state = attrs[IFLA_OPERSTATE][0]
        msg["operstate"] = _OPERSTATES[state] if state < len(_OPERSTATES) else str(state)
    if IFLA_LINKINFO in attrs:
        info = _attrs(attrs[IFLA_LINKINFO], 0)
        if IFLA_INFO_KIND in info:
            msg[("linkinfo", "kind")] = _cstr(info[IFLA_INFO_KIND])
    for key, kind, layout in (
        ("stats64", IFLA_STATS64, _STATS64),
        ("stats", IFLA_STATS, _STATS32),
    ):
        if len(attrs.get(kind, b"")) >= layout.size:
            msg[key] = True
            for name, value in zip(_STATS_FIELDS, layout.unpack_from(attrs[kind]), strict=True):
                msg[(key, name)] = value
    return msg


def _ip(family: int, data: bytes) -> str:
    try:
        return socket.inet_ntop(family, data)
    except (ValueError, OSError):
        return data.hex()


def decode_addr(body: bytes | memoryview) -> dict[Any, Any]:
    """An RTM_NEWADDR message's body."""
    family, prefixlen, flags, scope, index = _IFADDR.unpack_from(body)
    msg: dict[Any, Any] = {
        "family": family,
        "prefixlen": prefixlen,
        "flags": flags,
        "scope": scope,
        "index": index,
    }
    attrs = _attrs(body, _IFADDR.size)
    for key, kind in (("address", IFA_ADDRESS), ("local", IFA_LOCAL)):
        if kind in attrs:
            msg[key] = _ip(family, attrs[kind])
    if IFA_LABEL in attrs:
        msg["label"] = _cstr(attrs[IFA_LABEL])
    return msg


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _socket_in(ns_fd: int) -> socket.socket:
    """A NETLINK_ROUTE socket in the network namespace of `ns_fd`, made by a thread of its
    own that enters it and then ends (the caller's thread stays where it is)."""
    made: list[socket.socket | BaseException] = []

    def enter_and_make() -> None:
        try:
            if _libc().setns(ns_fd, CLONE_NEWNET) != 0:
                code = ctypes.get_errno()
                raise NetlinkError(code, os.strerror(code))
            made.append(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE))
        except BaseException as exc:  # handed to the caller's thread
            made.append(exc)

    thread = threading.Thread(target=enter_and_make, name="ctop-netns", daemon=True)
    thread.start()
    thread.join()
    result = made[0] if made else NetlinkError(errno.EIO, "the netns thread made no socket")
    if isinstance(result, BaseException):
        raise result
    return result


class Rtnl:
    """A NETLINK_ROUTE socket (in the namespace of `netns`, an open /proc/PID/ns/net fd, or
    the caller's own): dumps of links and addresses, a namespace's id. Close it (or use
    `with`)."""

    def __init__(self, netns: int | None = None) -> None:
        if netns is None:
            self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        else:
            self._sock = _socket_in(netns)
        self._seq = 0
        try:
            self._sock.bind((0, 0))
        except OSError:
            self._sock.close()
            raise

    def __enter__(self) -> Rtnl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def _request(self, kind: int, flags: int, payload: bytes) -> list[tuple[int, memoryview]]:
        """Send one request; every answer message (type, body) until the dump's end or the
        acknowledgement. Raises NetlinkError for an error answer."""
        for _ in range(_DUMP_TRIES):
            self._seq += 1
            seq = self._seq
            header = _HEADER.pack(_HEADER.size + len(payload), kind, NLM_F_REQUEST | flags, seq, 0)
            self._sock.send(header + payload)
            messages, interrupted = self._answers(seq, dump=bool(flags & NLM_F_DUMP))
            if not interrupted:
                return messages
        raise NetlinkError(errno.EAGAIN, "the dump kept being interrupted by changes")

    def _answers(self, seq: int, dump: bool) -> tuple[list[tuple[int, memoryview]], bool]:
        messages: list[tuple[int, memoryview]] = []
        interrupted = False
        while True:
            data = memoryview(self._sock.recv(_RECV_BYTES))
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind, flags, mseq, _port = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size or offset + length > len(data):
                    raise NetlinkError(errno.EBADMSG, "a truncated netlink message")
                body = data[offset + _HEADER.size : offset + length]
                offset += (length + 3) & ~3
                if mseq != seq:
                    continue  # an answer to an earlier request
                interrupted = interrupted or bool(flags & NLM_F_DUMP_INTR)
                if kind == NLMSG_DONE:
                    return messages, interrupted
                if kind == NLMSG_ERROR:
                    (code,) = _ERROR.unpack_from(body)
                    if code:
                        raise NetlinkError(-code, os.strerror(-code))
                    return messages, interrupted  # an acknowledgement
                messages.append((kind, body))
                if not dump and not flags & NLM_F_MULTI:
                    return messages, interrupted

    def get_links(self) -> list[dict[Any, Any]]:
        answers = self._request(RTM_GETLINK, NLM_F_DUMP, _IFINFO.pack(0, 0, 0, 0, 0))
        return [decode_link(body) for kind, body in answers if kind == RTM_NEWLINK]

    def get_addr(self) -> list[dict[Any, Any]]:
        answers = self._request(RTM_GETADDR, NLM_F_DUMP, _IFADDR.pack(0, 0, 0, 0, 0))
        return [decode_addr(body) for kind, body in answers if kind == RTM_NEWADDR]

    def get_netnsid(self, fd: int) -> dict[str, int] | None:
        """The id this socket's namespace gives the namespace of `fd` ({"nsid": -1}: none
        assigned; RTM_GETNSID does not assign one)."""
        attr = _ATTR.pack(_ATTR.size + 4, NETNSA_FD) + struct.pack("=I", fd)
        answers = self._request(RTM_GETNSID, 0, _RTGEN.pack(socket.AF_UNSPEC) + attr)
        for kind, body in answers:
            if kind == RTM_NEWNSID:
                attrs = _attrs(body, _RTGEN.size)
                if len(attrs.get(NETNSA_NSID, b"")) >= 4:
                    return {"nsid": _s32(attrs[NETNSA_NSID])}
        return None
