"""ctop_py.netlink, the Network tab's rtnetlink requests without pyroute2: it decodes what
pyroute2 encodes (an independent encoder of the same wire format) into the same records; on
this host and in a container's namespace it says what iproute2's `ip` says; entering a
namespace leaves the caller's thread, threads and fds as they were; the app never imports
pyroute2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest

from ctop_py import net
from ctop_py.host import HostRoot
from ctop_py.netlink import Rtnl, decode_addr, decode_link
from tests.conftest import BASE_IMAGE, REPO, SLEEP, RunContainer, require
from tests.test_net import CTR_ADDRS, CTR_LINKS, HOST_LINKS

HEADER = 16  # nlmsghdr, before the body decode_* read


def test_decodes_what_pyroute2_encodes_into_the_same_records() -> None:
    for msg in [*CTR_LINKS, *HOST_LINKS]:
        mine = decode_link(msg.data[HEADER:])
        assert net.link_from_msg(mine) == net.link_from_msg(msg)
    for msg in CTR_ADDRS:
        assert net.address_from_msg(decode_addr(msg.data[HEADER:])) == net.address_from_msg(msg)
    assert net.links_from_msgs(
        [decode_link(m.data[HEADER:]) for m in CTR_LINKS],
        [decode_addr(m.data[HEADER:]) for m in CTR_ADDRS],
    ) == net.links_from_msgs(CTR_LINKS, CTR_ADDRS)


def _ip(*args: str, netns_pid: int | None = None) -> Any:
    require("ip", "iproute2's ip")
    cmd = ["ip", "-j", *args]
    if netns_pid is not None:
        require("nsenter", "util-linux's nsenter")
        cmd = ["nsenter", "-t", str(netns_pid), "-n", *cmd]
    return json.loads(subprocess.run(cmd, capture_output=True, check=True, text=True).stdout)


def _as_ip_says(netns_pid: int | None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    links = {
        ln["ifname"].split("@")[0]: (
            ln["ifindex"],
            ln["mtu"],
            ln["operstate"],
            ln.get("address"),
            ln.get("linkinfo", {}).get("info_kind"),
            "UP" in ln["flags"],
        )
        for ln in _ip("-d", "link", "show", netns_pid=netns_pid)
    }
    addresses = {
        ln["ifname"]: sorted(f"{a['local']}/{a['prefixlen']} {a['scope']}" for a in ln["addr_info"])
        for ln in _ip("addr", "show", netns_pid=netns_pid)
    }
    return links, addresses


def _as_read(links: tuple[net.Link, ...]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    return (
        {ln.name: (ln.index, ln.mtu, ln.state, ln.mac, ln.kind, ln.admin_up) for ln in links},
        {ln.name: sorted(f"{a.cidr} {a.scope}" for a in ln.addresses) for ln in links},
    )


def test_this_namespace_as_ip_says() -> None:
    """The host's namespace, where other containers' veths come and go: read between two
    answers of `ip` that agree (a few tries)."""
    for _ in range(10):
        before = _as_ip_says(None)
        mine = _as_read(net.read_links(HostRoot(), os.getpid()))
        if _as_ip_says(None) == before:
            assert mine == before
            return
    pytest.fail("the host's links kept changing under `ip`")


def _namespace_of_this_thread() -> int:
    return os.stat(f"/proc/self/task/{threading.get_native_id()}/ns/net").st_ino


def test_a_containers_namespace_as_ip_says_leaving_the_caller_where_it_was(
    run_container: RunContainer,
) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)
    ctr.reload()
    pid = int(ctr.attrs["State"]["Pid"])
    own = _namespace_of_this_thread()
    threads, fds = threading.active_count(), sorted(os.listdir("/proc/self/fd"))
    links = net.read_links(HostRoot(), pid)
    assert _as_read(links) == _as_ip_says(pid)
    assert {ln.name for ln in links} == {"lo", "eth0"}
    # The caller's thread never left its namespace; the thread that entered is gone; no fd kept.
    assert _namespace_of_this_thread() == own
    assert threading.active_count() == threads
    assert sorted(os.listdir("/proc/self/fd")) == fds
    # The host's id for the container's namespace, asked from here, is what `ip` lists.
    with Rtnl() as rtnl:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            answer = rtnl.get_netnsid(fd)
        finally:
            os.close(fd)
    assert answer is not None
    ids = {entry["nsid"] for entry in _ip("netns", "list-id")}
    assert answer["nsid"] in ids or answer["nsid"] == -1


def test_a_file_that_is_no_namespace_is_one_clear_error() -> None:
    fd = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    try:
        with pytest.raises(OSError) as caught:
            Rtnl(fd)
    finally:
        os.close(fd)
    assert caught.value.errno == 22  # EINVAL: setns of a file that is no namespace


def test_the_network_tab_never_imports_pyroute2() -> None:
    script = (
        "import os, sys\n"
        "from ctop_py import net\n"
        "from ctop_py.host import HostRoot\n"
        "import ctop_py.ui.app\n"
        "assert net.read_links(HostRoot(), os.getpid())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyroute2'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
