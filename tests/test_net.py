"""ctop_py.net on literal data: netlink messages built from attributes (encoded and decoded by
pyroute2, as they come off the socket), /proc/PID/net/dev text, readings → rates, sharing."""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from ctop_py import net
from ctop_py.export.json import net_to_dict
from ctop_py.host import Malformed
from ctop_py.model import (
    HOST_NAMESPACE,
    CgroupMode,
    ContainerRaw,
    HostInfo,
    Process,
    RawSample,
    SharedNamespace,
    Sharing,
)
from ctop_py.present.net import format_net


def _stats(rx_bytes: int, rx_packets: int, tx_bytes: int = 0, tx_packets: int = 0) -> Any:
    return {
        "rx_packets": rx_packets, "tx_packets": tx_packets,
        "rx_bytes": rx_bytes, "tx_bytes": tx_bytes,
        "rx_errors": 1, "tx_errors": 2, "rx_dropped": 3, "tx_dropped": 4,
    }  # fmt: skip


def link_msg(index: int, flags: int = 0x11043, **attrs: Any) -> Any:
    m = ifinfmsg()
    m["index"] = index
    m["family"] = 0
    m["flags"] = flags
    m["change"] = 0
    m["ifi_type"] = 1
    names = {
        "ifname": "IFLA_IFNAME", "mtu": "IFLA_MTU", "operstate": "IFLA_OPERSTATE",
        "address": "IFLA_ADDRESS", "link": "IFLA_LINK", "link_netnsid": "IFLA_LINK_NETNSID",
        "master": "IFLA_MASTER", "stats64": "IFLA_STATS64",
    }  # fmt: skip
    m["attrs"] = [(names[k], v) for k, v in attrs.items() if k != "kind"]
    if "kind" in attrs:
        m["attrs"].append(("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", attrs["kind"])]}))
    m.encode()
    decoded = ifinfmsg(m.data)
    decoded.decode()
    return decoded


def addr_msg(index: int, family: int, address: str, prefixlen: int, scope: int) -> Any:
    m = ifaddrmsg()
    m["family"] = family
    m["prefixlen"] = prefixlen
    m["flags"] = 0
    m["scope"] = scope
    m["index"] = index
    m["attrs"] = [("IFA_ADDRESS", address), ("IFA_LOCAL", address), ("IFA_LABEL", "eth0")]
    m.encode()
    decoded = ifaddrmsg(m.data)
    decoded.decode()
    return decoded


# The container of §7.1 of the runtime reference: eth0 (10) ↔ host vethdfe2f47 (11) → docker0.
CTR_LINKS = [
    link_msg(1, ifname="lo", mtu=65536, operstate="UNKNOWN", address="00:00:00:00:00:00",
             stats64=_stats(0, 0)),
    link_msg(10, ifname="eth0", mtu=1500, operstate="UP", address="02:42:ac:11:00:02",
             link=11, link_netnsid=0, kind="veth", stats64=_stats(1376, 16)),
]  # fmt: skip
CTR_ADDRS = [addr_msg(10, 2, "172.17.0.2", 16, 0), addr_msg(1, 2, "127.0.0.1", 8, 254)]
HOST_LINKS = [
    link_msg(4, ifname="eth0", operstate="UP"),
    link_msg(5, ifname="docker0", kind="bridge", operstate="UP", address="02:42:5f:00:00:01"),
    link_msg(11, ifname="vethdfe2f47", kind="veth", master=5, link=10, link_netnsid=0,
             address="b6:37:74:5e:49:10", operstate="UP"),
    link_msg(12, ifname="veth0other", kind="veth", master=5, link=10, link_netnsid=1),
]  # fmt: skip


def test_links_from_messages() -> None:
    lo, eth0 = net.links_from_msgs(CTR_LINKS, CTR_ADDRS)
    assert (lo.name, lo.kind, lo.state, lo.link_index, lo.link_netnsid) == (
        "lo", None, "UNKNOWN", None, None,
    )  # fmt: skip
    assert lo.addresses == (net.Address("inet", "127.0.0.1", 8, "host", "eth0"),)
    assert eth0.kind == "veth"
    assert eth0.mac == "02:42:ac:11:00:02"
    assert eth0.mtu == 1500
    assert eth0.admin_up
    assert (eth0.link_index, eth0.link_netnsid, eth0.master_index) == (11, 0, None)
    assert [a.cidr for a in eth0.addresses] == ["172.17.0.2/16"]
    assert eth0.addresses[0].scope == "global"
    assert eth0.counters == net.LinkCounters(1376, 0, 16, 0, 1, 2, 3, 4)


def test_admin_down_and_missing_stats() -> None:
    (ln,) = net.links_from_msgs([link_msg(3, flags=0, ifname="dummy0", kind="dummy")], ())
    assert not ln.admin_up
    assert ln.counters is None
    assert ln.state == "UNKNOWN"


def test_host_peer_confirmed_by_reverse_link() -> None:
    links = net.links_from_msgs(CTR_LINKS, CTR_ADDRS)
    host = {ln.index: ln for ln in net.links_from_msgs(HOST_LINKS, ())}
    lo, eth0 = net.attach_peers(links, host, host_nsid_from_ctr=0, ctr_nsid_from_host=0)
    assert lo.peer is None
    assert eth0.peer == net.HostPeer(
        index=11, name="vethdfe2f47", kind="veth", mac="b6:37:74:5e:49:10", state="UP",
        master_index=5, master="docker0", master_kind="bridge", confirmed=True,
    )  # fmt: skip


def test_host_peer_not_confirmed_when_it_points_elsewhere() -> None:
    links = net.links_from_msgs(CTR_LINKS, ())
    host = {ln.index: ln for ln in net.links_from_msgs(HOST_LINKS, ())}
    # The host knows the container's namespace as nsid 1: veth 11's "link 10 in nsid 0" is
    # another namespace's ifindex 10.
    _, eth0 = net.attach_peers(links, host, host_nsid_from_ctr=0, ctr_nsid_from_host=1)
    assert eth0.peer is not None and not eth0.peer.confirmed
    # The container's peer is in a namespace that is not the host's: no host peer at all.
    _, eth0 = net.attach_peers(links, host, host_nsid_from_ctr=3, ctr_nsid_from_host=0)
    assert eth0.peer is None
    # No host link with that index.
    _, eth0 = net.attach_peers(links, {}, host_nsid_from_ctr=0, ctr_nsid_from_host=0)
    assert eth0.peer is not None and eth0.peer.name is None and not eth0.peer.confirmed


def test_unassigned_nsid_is_none() -> None:
    (ln,) = net.links_from_msgs([link_msg(2, ifname="x", link_netnsid=-1, link=3)], ())
    assert ln.link_netnsid is None


NET_DEV = b"""\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     588       6    0    0    0     0          0         0      588       6    0    0    0     0       0          0
  eth0:    1376      16    1    2    0     0          0         0      100       1    3    4    0     0       0          0
"""  # noqa: E501


def test_parse_net_dev() -> None:
    counters = net.parse_net_dev(NET_DEV)
    assert counters["lo"] == net.LinkCounters(588, 588, 6, 6, 0, 0, 0, 0)
    assert counters["eth0"] == net.LinkCounters(1376, 100, 16, 1, 1, 3, 2, 4)


def test_parse_net_dev_malformed() -> None:
    with pytest.raises(Malformed, match="eth0"):
        net.parse_net_dev(NET_DEV.replace(b"100       1    3", b"100"))


def _reading(ns: int, t_s: float, **rx: int) -> net.CounterReading:
    return net.CounterReading(
        int(t_s * 1e9),
        ns,
        {name: net.LinkCounters(v, 10, 1, 1, 0, 0, 0, 0) for name, v in rx.items()},
    )


def test_rates() -> None:
    first = _reading(7, 1.0, eth0=1000, lo=50)
    assert net.rates(None, first) == {"eth0": net.LinkRates(), "lo": net.LinkRates()}
    second = _reading(7, 3.0, eth0=5000, lo=10, veth1=3)
    r = net.rates(first, second)
    assert r["eth0"].rx_bytes == 2000.0
    assert r["eth0"].tx_bytes == 0.0  # a real zero: counters read twice, unchanged
    assert r["lo"].rx_bytes is None  # went backwards: a reset, not a negative rate
    assert r["lo"].tx_bytes == 0.0
    assert r["veth1"] == net.LinkRates()  # new interface: no earlier reading
    # Another namespace (container restarted) or no time passed: nothing known.
    assert net.rates(_reading(8, 1.0, eth0=1), second)["eth0"] == net.LinkRates()
    assert net.rates(second, second)["eth0"] == net.LinkRates()


def _proc(pid: int, start: int) -> Process:
    return Process(pid, 1, "sleep", "S", start, 0, 0, 1, 0, (pid, 1), (), {}, ())


def _ctr(cid: str, pid: int, net_ns: int, shared: str | None) -> ContainerRaw:
    return ContainerRaw(
        id=cid, runtime="docker", name=f"n-{cid}", image=None, state="running", labels={},
        cgroup_path=None, init_pid=pid, pids=(pid,), namespaces={"net": net_ns},
        shared_namespaces={"net": SharedNamespace.from_text(shared)} if shared else {},
        cgroup=None, net=None,
    )  # fmt: skip


def _sample(containers: list[ContainerRaw], processes: list[Process]) -> RawSample:
    host = HostInfo("h", 1, CgroupMode.HYBRID, 2, 1 << 30, 0.0, 100, {"net": 1})
    return RawSample(0, 0.0, host, tuple(containers), tuple(processes), 0, 0, {})


def test_owner_of_a_joined_namespace() -> None:
    # The collector marks the owner "shared-with:…" and the joiners "container:<owner>".
    owner = _ctr("a", 100, 9, "shared-with:n-b,n-c")
    joined = _ctr("b", 200, 9, "container:n-a")
    alone = _ctr("d", 300, 10, None)
    hostnet = _ctr("e", 400, 1, "host")
    assert net.netns_owner(owner) is None
    assert net.joined_by(owner) == ("n-b", "n-c")
    assert net.netns_owner(joined) == SharedNamespace(Sharing.JOINED, ("n-a",))
    assert net.joined_by(joined) == ()
    assert net.netns_owner(alone) is None
    assert net.netns_owner(hostnet) == HOST_NAMESPACE


def test_shared_container_reads_nothing_and_says_so() -> None:
    from ctop_py.host import HostRoot

    hostnet = _ctr("e", 400, 1, "host")
    # No netlink and no file is touched: a fake root that does not exist is fine.
    reading = net.read_container_net(HostRoot.at("/nonexistent"), hostnet)
    assert reading.shared == HOST_NAMESPACE
    assert reading.links == ()
    text = format_net(reading, None)
    assert "shares the host's network namespace" in text
    assert "IFACE" not in text


def test_table_escapes_untrusted_names() -> None:
    links = net.links_from_msgs(
        [link_msg(10, ifname="eth\x1b[31m0", operstate="UP", stats64=_stats(1, 1))], ()
    )
    reading = net.ContainerNet("id", "x\x1b]0;t\x07", 1, 5, None, (), links, 0)
    text = format_net(reading, None)
    assert "\x1b" not in text and "\x07" not in text
    data = net_to_dict(reading)
    assert data["links"][0]["name"] == "eth\x1b[31m0"  # JSON keeps the exact string


def test_missing_namespace_is_gone() -> None:
    from ctop_py.host import Gone, HostRoot

    with pytest.raises(Gone, match="ns/net"):
        net.read_links(HostRoot.at("/nonexistent-ctop-root"), 4242)
