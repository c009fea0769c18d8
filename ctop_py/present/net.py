"""`ctop-py net` and the app's Network tab: a container's links as a plain-text table."""

from __future__ import annotations

from ctop_py import net, present
from ctop_py.model import SharedNamespace, Sharing


def _sharing_text(shared: SharedNamespace) -> str:
    if shared.sharing is Sharing.HOST:
        return "shares the host's network namespace (--net=host): its links are the host's"
    owner = ",".join(shared.containers)
    return (
        f"shares the network namespace of container {owner} (--net=container:{owner}): "
        f"its links are listed under `ctop-py net {owner}`"
    )


def format_net(reading: net.ContainerNet, rates: dict[str, net.LinkRates] | None) -> str:
    head = (
        f"{present.safe(reading.container_name)}  pid {reading.pid}  "
        f"netns {present.count(reading.netns_inode)}"
    )
    if reading.shared is not None:
        return f"{head}\n{present.safe(_sharing_text(reading.shared))}"
    headers = ["IFACE", "KIND", "STATE", "MTU", "MAC", "ADDRESSES", "RX", "TX"]
    headers += ["RX PKTS", "TX PKTS", "ERR RX/TX", "DROP RX/TX"]
    if rates is not None:
        headers += ["RX/S", "TX/S"]
    headers += ["HOST PEER", "BRIDGE"]
    rows = []
    for ln in reading.links:
        c = ln.counters
        row = [
            present.safe(ln.name, 20),
            present.safe(ln.kind or "–", 12),
            present.safe(ln.state if ln.admin_up else f"{ln.state}(admin down)", 20),
            present.count(ln.mtu),
            present.safe(ln.mac or "–"),
            present.safe(", ".join(a.cidr for a in ln.addresses) or "–", 60),
            present.size(c.rx_bytes if c else None),
            present.size(c.tx_bytes if c else None),
            present.count(c.rx_packets if c else None),
            present.count(c.tx_packets if c else None),
            f"{c.rx_errors}/{c.tx_errors}" if c else "–",
            f"{c.rx_dropped}/{c.tx_dropped}" if c else "–",
        ]
        if rates is not None:
            r = rates.get(ln.name, net.LinkRates())
            row += [present.rate(r.rx_bytes), present.rate(r.tx_bytes)]
        row += [_peer_text(ln), present.safe(ln.peer.master or "–") if ln.peer else ""]
        rows.append(row)
    right = {3, 6, 7, 8, 9} | ({12, 13} if rates is not None else set())
    lines = [head]
    if reading.joined_by:
        joined = ", ".join(present.safe(n) for n in reading.joined_by)
        lines.append(f"also used by: {joined}")
    lines.append(present.table(headers, rows, right=right))
    if reading.host_note:
        lines.append(f"note: {present.safe(reading.host_note)}")
    return "\n".join(lines)


def _peer_text(ln: net.Link) -> str:
    p = ln.peer
    if p is None:
        if ln.link_netnsid is not None and ln.link_index is not None:
            return f"if{ln.link_index} in netnsid {ln.link_netnsid}"
        return ""
    name = present.safe(p.name) if p.name else "?"
    return f"{name} (if{p.index}){'' if p.confirmed else ' unconfirmed'}"
