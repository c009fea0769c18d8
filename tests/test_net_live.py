"""ctop-py net against the real engine: addresses and MACs equal `docker inspect`, the host peer
and its bridge equal sysfs, counters equal /proc/PID/net/dev, sharing is said.

Traffic rule of this workplace: nothing is sent to a private-range address (docker0's 172.17.0.1
included). The "counters grow" test pings 127.0.0.1 *inside* the container's namespace, so the
packets only cross the container's own `lo`. (IPv6 link-local between containers is not an
option here: Docker sets disable_ipv6=1 in container namespaces on this host.)"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ctop_py import cli, net
from ctop_py.collect import Collector
from ctop_py.host import Gone, HostRoot
from ctop_py.model import HOST_NAMESPACE, ContainerRaw, RawSample, SharedNamespace, Sharing
from tests.conftest import BASE_IMAGE, SLEEP, RunContainer, wait_for

pytestmark = pytest.mark.docker


def sample_with(*cids: str) -> tuple[RawSample, list[ContainerRaw]]:
    collector = Collector()
    try:
        sample = collector.sample()
    finally:
        collector.close()
    by_id = {c.id: c for c in sample.containers}
    return sample, [by_id[c] for c in cids]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def proc_rx(pid: int) -> dict[str, net.LinkCounters]:
    return net.parse_net_dev(Path(f"/proc/{pid}/net/dev").read_bytes())


def test_eth0_equals_inspect_sysfs_and_proc(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)
    settings = ctr.attrs["NetworkSettings"]
    _, (raw,) = sample_with(ctr.id)
    assert raw.init_pid is not None

    before = proc_rx(raw.init_pid)
    reading = net.read_container_net(HostRoot(), raw)
    after = proc_rx(raw.init_pid)

    assert reading.shared is None
    assert reading.netns_inode == os.stat(f"/proc/{raw.init_pid}/ns/net").st_ino
    links = {ln.name: ln for ln in reading.links}
    assert set(links) == {"lo", "eth0"}
    eth0 = links["eth0"]
    assert eth0.kind == "veth"
    assert eth0.state == "UP"
    assert eth0.mac == settings["MacAddress"]
    assert f"{settings['IPAddress']}/{settings['IPPrefixLen']}" in [a.cidr for a in eth0.addresses]
    assert links["lo"].addresses[0].cidr == "127.0.0.1/8"

    # The host end: sysfs (of the host namespace, where this test runs) agrees.
    peer = eth0.peer
    assert peer is not None and peer.confirmed and peer.name is not None
    sys_peer = Path("/sys/class/net") / peer.name
    assert int((sys_peer / "ifindex").read_text()) == peer.index == eth0.link_index
    assert int((sys_peer / "iflink").read_text()) == eth0.index
    assert peer.master == os.path.basename(os.readlink(sys_peer / "master")) == "docker0"
    assert peer.master_kind == "bridge"
    assert peer.kind == "veth"

    # Netlink's counters sit between two reads of /proc/PID/net/dev.
    for name, ln in links.items():
        assert ln.counters is not None
        for field in ("rx_bytes", "rx_packets", "tx_bytes", "tx_packets"):
            low, high = getattr(before[name], field), getattr(after[name], field)
            assert low <= getattr(ln.counters, field) <= high, (name, field)

    code, out, _ = run_cli(capsys, "net", ctr.name, "--json")
    assert code == 0
    data = json.loads(out)
    (eth0_json,) = [ln for ln in data["links"] if ln["name"] == "eth0"]
    assert eth0_json["host_peer"]["master"] == "docker0"
    assert eth0_json["mac"] == settings["MacAddress"]
    assert data["shared"] is None

    code, out, _ = run_cli(capsys, "net", ctr.name)
    assert code == 0
    assert "docker0" in out and peer.name in out and settings["IPAddress"] in out


def test_loopback_counters_grow_and_rates(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)
    _, (raw,) = sample_with(ctr.id)
    first = net.read_container_net(HostRoot(), raw, host_side=False)
    result = ctr.exec_run(["ping", "-c", "3", "-i", "0.2", "127.0.0.1"])  # loopback only
    assert result.exit_code == 0, result.output
    second = net.read_container_net(HostRoot(), raw, host_side=False)

    lo1 = next(ln for ln in first.links if ln.name == "lo").counters
    lo2 = next(ln for ln in second.links if ln.name == "lo").counters
    assert lo1 is not None and lo2 is not None
    # 3 echo requests and 3 replies, each sent and received on lo, 84 bytes each (20 IP + 8
    # ICMP + 56 data); nothing else runs in this namespace.
    assert lo2.rx_packets - lo1.rx_packets == 6
    assert lo2.tx_packets - lo1.tx_packets == 6
    assert lo2.rx_bytes - lo1.rx_bytes == 6 * 84
    assert lo2.tx_bytes - lo1.tx_bytes == 6 * 84

    rates = net.rates(first.reading, second.reading)
    assert rates["lo"].rx_packets is not None and rates["lo"].rx_packets > 0
    assert net.rates(None, second.reading)["lo"] == net.LinkRates()

    # The cheap path agrees with netlink on what it counts.
    cheap = net.read_proc_counters(HostRoot(), raw.init_pid or 0, raw.namespaces.get("net"))
    assert cheap.counters["lo"].rx_packets == lo2.rx_packets  # no traffic since

    code, out, _ = run_cli(capsys, "net", ctr.name, "--json", "--interval", "0.2")
    assert code == 0
    data = json.loads(out)
    lo = next(ln for ln in data["links"] if ln["name"] == "lo")
    # Two readings, no traffic between them: a rate of exactly 0, not "unknown".
    assert lo["rates_per_s"]["rx_bytes"] == 0.0 and lo["rates_per_s"]["tx_packets"] == 0.0
    assert lo["counters"]["rx_packets"] == lo2.rx_packets


def test_host_and_container_sharing(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = run_container(BASE_IMAGE, SLEEP)
    joined = run_container(BASE_IMAGE, SLEEP, network_mode=f"container:{owner.id}")
    hostnet = run_container(BASE_IMAGE, SLEEP, network_mode="host")
    _, (c_owner, c_joined, c_host) = sample_with(owner.id, joined.id, hostnet.id)

    r_host = net.read_container_net(HostRoot(), c_host)
    assert (r_host.shared, r_host.links) == (HOST_NAMESPACE, ())
    r_joined = net.read_container_net(HostRoot(), c_joined)
    assert (r_joined.shared, r_joined.links) == (
        SharedNamespace(Sharing.JOINED, (owner.name,)),
        (),
    )
    r_owner = net.read_container_net(HostRoot(), c_owner)
    assert r_owner.shared is None
    assert r_owner.joined_by == (joined.name,)
    assert {ln.name for ln in r_owner.links} == {"lo", "eth0"}

    code, out, _ = run_cli(capsys, "net", hostnet.name)
    assert code == 0
    assert "shares the host's network namespace" in out
    assert "IFACE" not in out
    code, out, _ = run_cli(capsys, "net", joined.name, "--json")
    data: dict[str, Any] = json.loads(out)
    assert (data["shared"], data["links"]) == (f"container:{owner.name}", [])


def test_vanished_container_is_one_line(
    run_container: RunContainer, capsys: pytest.CaptureFixture[str]
) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)
    _, (raw,) = sample_with(ctr.id)
    ctr.kill()
    ctr.wait(timeout=10)
    wait_for(lambda: not os.path.exists(f"/proc/{raw.init_pid}"), 5, "the container to exit")
    with pytest.raises(Gone):
        net.read_container_net(HostRoot(), raw)
    code, _, err = run_cli(capsys, "net", ctr.name)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "not running" in err
