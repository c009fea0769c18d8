"""The made-up host every fake shares: the demo scenario (`ctop_py.demo`), the fake roots of
the tests (tests/fakeroot.py) and the benchmarks' fake host (benchmarks/fakehost.py). Its
namespace inodes are those of a real Debian host's initial namespaces."""

from __future__ import annotations

from types import MappingProxyType

HOST_NS = MappingProxyType(
    {
        "cgroup": 4026531835,
        "ipc": 4026531839,
        "mnt": 4026531841,
        "net": 4026531840,
        "pid": 4026531836,
        "time": 4026531834,
        "user": 4026531837,
        "uts": 4026531838,
    }
)

# The two header lines of /proc/PID/net/dev.
NET_DEV_HEADER = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
)
