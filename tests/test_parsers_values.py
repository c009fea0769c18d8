"""Exact values from every /proc and cgroup parser, on literal kernel text (issue 13: mutation
score of procfs.py and cgroupfs.py).

Every input is quoted from where it was seen: this host (kernel 6.18, cgroup v1 hybrid, Debian
docker.io; "this host" below), the v2 capture in tests/fixtures/cgroup-v2-systemd ("the v2
capture": Debian 12, kernel 6.1, systemd driver) or the reference notes
(/work/shared/reference/runtime-reference.md, "the reference"). Expected values are read off
that text by hand, never taken from running the code. The general parsers behind the fast
paths are called directly too: both must give the same result, and kernel text must not need
the general one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ctop_py import cgroupfs, procfs
from ctop_py.cgroupfs import CgroupLayout, container_cgroup_path
from ctop_py.host import Malformed
from ctop_py.model import CgroupEntry, CgroupMode, IoCounters, NetCounters, Psi, PsiLine


def malformed_message(call: Callable[[], object]) -> str:
    with pytest.raises(Malformed) as info:
        call()
    return str(info.value)


class Spy:
    """Counts calls of a module function it replaces (to see which path a parser took)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
        self.calls = 0
        self.real: Callable[..., Any] = getattr(module, name)
        monkeypatch.setattr(module, name, self)

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.real(*args)


# ---- /proc/PID/stat ------------------------------------------------------------------------

# This host: /proc/<dockerd>/stat. Fields after the comm: 3 state S, 4 ppid 1, ..., 14 utime 165,
# 15 stime 267, 16 cutime 217, 17 cstime 218, 18 priority 20, 19 nice 0, 20 num_threads 41,
# 21 itrealvalue 0, 22 starttime 1143704, 23 vsize 2157731840, 24 rss 26026.
DOCKERD_STAT = (
    b"29733 (dockerd) S 1 29714 29261 0 -1 4194560 22708 541525 14 25 165 267 217 218 20 0 41 0 "
    b"1143704 2157731840 26026 18446744073709551615 94390533545984 94390560793045 "
    b"140720828082512 0 0 0 1002055680 0 2143420159 0 0 0 17 1 0 0 0 0 0 94390566447376 "
    b"94390590993016 94391388385280 140720828091053 140720828091076 140720828091076 "
    b"140720828092390 0\n"
)


def test_stat_fields_of_a_real_line() -> None:
    assert procfs.parse_stat(DOCKERD_STAT) == procfs.StatFields(
        comm="dockerd",
        state="S",
        ppid=1,
        utime=165,
        stime=267,
        threads=41,
        start_ticks=1143704,
        rss_pages=26026,
    )


def test_stat_comm_keeps_undecodable_bytes() -> None:
    # A comm is whatever the process set (prctl PR_SET_NAME): any bytes but NUL.
    stat = procfs.parse_stat(DOCKERD_STAT.replace(b"(dockerd)", b"(d\xffx)"))
    assert stat.comm.encode("utf-8", "surrogateescape") == b"d\xffx"
    assert stat.start_ticks == 1143704


def test_stat_state_that_is_not_ascii_is_replaced() -> None:
    stat = procfs.parse_stat(DOCKERD_STAT.replace(b") S ", b") \xff "))
    assert stat.state == "\ufffd"


def test_stat_errors_name_the_file() -> None:
    assert malformed_message(lambda: procfs.parse_stat(b"12 (x) R")) == (
        "stat: unparsable stat line: list index out of range"
    )
    assert malformed_message(lambda: procfs.parse_stat(b"12 x R", "/proc/12/stat")) == (
        "/proc/12/stat: unparsable stat line: subsection not found"
    )


# ---- /proc/PID/status ----------------------------------------------------------------------


def test_status_real_uid_and_nspid() -> None:
    # The reference, section 1.2 (host view of `spin`), with distinct real, effective, saved
    # and filesystem uids: the real uid (the first) is the owner shown.
    data = (
        b"Name:\tsh\nUmask:\t0022\nState:\tR (running)\nTgid:\t3115\nNgid:\t0\nPid:\t3115\n"
        b"PPid:\t3094\nUid:\t1000\t1001\t1002\t1003\nGid:\t0\t0\t0\t0\n"
        b"NStgid:\t3115\t1\nNSpid:\t3115\t1\nNSpgid:\t3115\t1\nNSsid:\t3115\t1\nKthread:\t0\n"
    )
    assert procfs.parse_status(data) == procfs.StatusFields(uid=1000, nspid=(3115, 1))


def test_status_of_a_process_in_the_readers_namespace() -> None:
    # This host: /proc/<dockerd>/status (no pid namespace of its own: one NSpid value).
    data = b"Name:\tdockerd\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNStgid:\t29733\nNSpid:\t29733\n"
    assert procfs.parse_status(data) == procfs.StatusFields(uid=0, nspid=(29733,))
    assert procfs.parse_status(b"Name:\tx\n") == procfs.StatusFields(uid=None, nspid=())


def test_status_fields_first_and_last_without_a_final_newline() -> None:
    data = b"Uid:\t7\t8\t9\t10\nName:\tUid: 5\nNSpid:\t40\t2"
    assert procfs.parse_status(data) == procfs.StatusFields(uid=7, nspid=(40, 2))
    assert procfs.parse_status(b"NSpid:\t3\nXUid:\t1\n") == procfs.StatusFields(
        uid=None, nspid=(3,)
    )


def test_status_errors_name_the_file() -> None:
    assert malformed_message(lambda: procfs.parse_status(b"Uid:\n")) == (
        "status: unparsable status field: list index out of range"
    )
    message = malformed_message(lambda: procfs.parse_status(b"NSpid:\t1\tx\n", "/proc/1/status"))
    assert message == (
        "/proc/1/status: unparsable status field: invalid literal for int() with base 10: b'x'"
    )


# ---- /proc/PID/cgroup ----------------------------------------------------------------------

# This host: /proc/<dockerd>/cgroup (hybrid: v1 hierarchies, then the v2 line).
DOCKERD_CGROUP = (
    b"9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    b"4:memory:/process_api/c2173e86cf87f273ae38dfc346a8e8fc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n"
    b"0::/\n"
)
DOCKERD_ENTRIES = (
    CgroupEntry(9, ("name=systemd",), "/"),
    CgroupEntry(8, ("pids",), "/"),
    CgroupEntry(7, ("blkio",), "/"),
    CgroupEntry(6, ("freezer",), "/"),
    CgroupEntry(5, ("devices",), "/"),
    CgroupEntry(4, ("memory",), "/process_api/c2173e86cf87f273ae38dfc346a8e8fc"),
    CgroupEntry(3, ("cpuset",), "/"),
    CgroupEntry(2, ("cpuacct",), "/"),
    CgroupEntry(1, ("cpu",), "/"),
    CgroupEntry(0, (), "/"),
)


def test_cgroup_lines_of_a_real_process() -> None:
    assert procfs._parse_cgroup(DOCKERD_CGROUP, "cgroup") == DOCKERD_ENTRIES
    assert procfs.parse_cgroup(DOCKERD_CGROUP) == DOCKERD_ENTRIES


def test_cgroup_v2_line_of_the_capture() -> None:
    # The v2 capture: proc/888/cgroup (spin-limited).
    path = (
        "/system.slice/"
        "docker-4442952b11c14f1587556e8f7119067f60b70fb842b8d78143451689ea8cc84b.scope"
    )
    data = b"0::" + path.encode() + b"\n"
    assert procfs._parse_cgroup(data, "cgroup") == (CgroupEntry(0, (), path),)


def test_cgroup_combined_controllers_colons_deleted_and_blank_lines() -> None:
    # Combined v1 mounts list their controllers with commas; a path may hold ':'; a zombie whose
    # cgroup was removed gets " (deleted)" (the reference, section 2.1).
    data = b"2:cpu,cpuacct:/docker/a:b\n\n   \n0::/gone/c (deleted)\n"
    expected = (CgroupEntry(2, ("cpu", "cpuacct"), "/docker/a:b"), CgroupEntry(0, (), "/gone/c"))
    assert procfs._parse_cgroup(data, "cgroup") == expected
    undecodable = procfs._parse_cgroup(b"0::/x\xff\n", "cgroup")[0].path
    assert undecodable.encode("utf-8", "surrogateescape") == b"/x\xff"


def test_cgroup_errors_name_the_file() -> None:
    assert malformed_message(lambda: procfs.parse_cgroup(b"nonsense\n")) == (
        "cgroup: expected id:controllers:path, got 'nonsense'"
    )
    assert malformed_message(lambda: procfs._parse_cgroup(b"x::/\n", "/proc/1/cgroup")) == (
        "/proc/1/cgroup: bad hierarchy id in 'x::/'"
    )


def test_cgroup_contents_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procfs, "_CGROUP_LINES", {})
    first = procfs.parse_cgroup(DOCKERD_CGROUP)
    spy = Spy(monkeypatch, procfs, "_parse_cgroup")
    assert procfs.parse_cgroup(DOCKERD_CGROUP) is first
    assert spy.calls == 0
    assert procfs.parse_cgroup(b"0::/other\n") == (CgroupEntry(0, (), "/other"),)
    assert spy.calls == 1


def test_cgroup_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    almost_full = {str(n).encode(): () for n in range(4095)}
    monkeypatch.setattr(procfs, "_CGROUP_LINES", almost_full)
    procfs.parse_cgroup(b"0::/a\n")
    assert len(procfs._CGROUP_LINES) == 4096  # the 4096th entry still fits
    procfs.parse_cgroup(b"0::/b\n")
    # full: started again
    assert list(procfs._CGROUP_LINES.items()) == [(b"0::/b\n", (CgroupEntry(0, (), "/b"),))]


# ---- cmdline, ns links ---------------------------------------------------------------------


def test_cmdline_splits_at_nul() -> None:
    # `sleep infinity` as the kernel shows it: every argument ends with a NUL.
    assert procfs.parse_cmdline(b"sleep\x00infinity\x00") == ("sleep", "infinity")
    assert procfs.parse_cmdline(b"sh\x00\x00-c\x00\x00\x00") == ("sh", "", "-c")
    assert procfs.parse_cmdline(b"\x00") == ("",)
    assert procfs.parse_cmdline(b"startx\x00--\x00-X\x00") == ("startx", "--", "-X")
    assert procfs.parse_cmdline(b"") == ()


def test_ns_links() -> None:
    # The reference, section 1.1.
    assert procfs.parse_ns_link("net:[4026532184]") == 4026532184
    assert procfs.parse_ns_link("pid_for_children:[4026532183]") == 4026532183
    assert malformed_message(lambda: procfs.parse_ns_link("garbage")) == (
        "garbage: not a namespace link"
    )
    assert malformed_message(lambda: procfs.parse_ns_link("net:[x]")) == (
        "net:[x]: not a namespace link"
    )


# ---- /proc/PID/net/dev ---------------------------------------------------------------------

# This host: /proc/net/dev, a few of its lines (a number may touch the colon, as docker0's
# name does when it is long).
NET_DEV = (
    b"Inter-|   Receive                                                |  Transmit\n"
    b" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    b"drop fifo colls carrier compressed\n"
    b"    lo: 2473035   10113    0    0    0     0          0         0  2473035   10113    0"
    b"    0    0     0       0          0\n"
    b"  eth0: 2021563439   52906    0    0    0     0          0         0  3764197   32364    0"
    b"    0    0     0       0          0\n"
    b"docker0:       0       0    0    0    0     0          0         0    53964     494    0"
    b"   35    0     0       0          0\n"
    b"veth906ae2f:       0       0    0    0    0     0          0         0     1086      13"
    b"    0    0    0     0       0          0\n"
)


def test_net_dev_sums_every_interface_but_loopback() -> None:
    assert procfs.parse_net_dev(NET_DEV) == NetCounters(
        rx_bytes=2021563439,
        tx_bytes=3764197 + 53964 + 1086,
        rx_packets=52906,
        tx_packets=32364 + 494 + 13,
        interfaces=("eth0", "docker0", "veth906ae2f"),
    )


def test_net_dev_takes_bytes_and_packets_columns() -> None:
    # Synthetic: every one of the 16 counters distinct, so a column off by one shows.
    header = NET_DEV.split(b"\n", 2)[:2]
    data = b"\n".join(
        [*header, b"eth0:101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116\n"]
    )
    assert procfs.parse_net_dev(data) == NetCounters(101, 109, 102, 110, ("eth0",))
    lines = list(procfs.net_dev_lines(data))
    assert lines == [("eth0", [str(n).encode() for n in range(101, 117)])]


def test_net_dev_skips_lines_without_an_interface() -> None:
    data = NET_DEV.replace(b"  eth0:", b"not an interface\n  eth0:")
    assert procfs.parse_net_dev(data).interfaces == ("eth0", "docker0", "veth906ae2f")
    only_header = b"".join(NET_DEV.splitlines(keepends=True)[:2])
    assert procfs.parse_net_dev(only_header) == NetCounters(0, 0, 0, 0, ())


def test_net_dev_interface_name_is_kept_literally() -> None:
    header = b"".join(NET_DEV.splitlines(keepends=True)[:2])
    data = header + b" e\xff0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
    (name,) = procfs.parse_net_dev(data).interfaces
    assert name.encode("utf-8", "surrogateescape") == b"e\xff0"


def test_net_dev_short_line_names_the_file() -> None:
    header = b"".join(NET_DEV.splitlines(keepends=True)[:2])
    fifteen = header + b"eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
    assert malformed_message(lambda: procfs.parse_net_dev(fifteen)) == (
        "net/dev: interface 'eth0' has 15 counters, expected 16"
    )
    assert malformed_message(lambda: list(procfs.net_dev_lines(fifteen, "/proc/9/net/dev"))) == (
        "/proc/9/net/dev: interface 'eth0' has 15 counters, expected 16"
    )
    assert malformed_message(lambda: procfs.parse_net_dev(fifteen, "/proc/9/net/dev")) == (
        "/proc/9/net/dev: interface 'eth0' has 15 counters, expected 16"
    )
    assert malformed_message(lambda: list(procfs.net_dev_lines(fifteen))) == (
        "net/dev: interface 'eth0' has 15 counters, expected 16"
    )


# ---- /proc/stat, /proc/meminfo -------------------------------------------------------------


def test_proc_stat_cpu_line_of_this_host() -> None:
    # This host: user nice system idle iowait irq softirq steal guest guest_nice.
    data = (
        b"cpu  1444781 11137 242354 639967 7410 0 3001 484 0 0\n"
        b"cpu0 714240 5587 118348 333931 2183 0 358 236 0 0\n"
        b"cpu1 730541 5550 124006 306036 5226 0 2642 247 0 0\n"
    )
    busy = 1444781 + 11137 + 242354 + 0 + 3001 + 484
    assert procfs.parse_proc_stat_cpu(data) == (busy, busy + 639967 + 7410)


def test_proc_stat_guest_time_is_not_counted_twice() -> None:
    # guest and guest_nice are already inside user and nice (proc(5)).
    data = b"cpu0 9 9 9 9\ncpu  100 0 50 1000 10 0 5 1 30 2\n"
    assert procfs.parse_proc_stat_cpu(data) == (156, 1166)


def test_proc_stat_old_kernels_have_fewer_fields() -> None:
    assert procfs.parse_proc_stat_cpu(b"cpu 1 2 3 4\n") == (6, 10)  # before 2.5.41: no iowait
    assert procfs.parse_proc_stat_cpu(b"cpu 1 2 3 4 5\n") == (6, 15)
    for data in (b"cpu 1 2 3\n", b"cpu 1 x 3 4\n", b"cpu0 1 2 3 4\n", b""):
        assert malformed_message(lambda d=data: procfs.parse_proc_stat_cpu(d)) == (  # type: ignore[misc]
            "/proc/stat: no cpu line"
        )


def test_btime_and_memtotal() -> None:
    # This host: /proc/stat's btime line and /proc/meminfo's first lines.
    assert procfs.parse_btime(b"cpu  1 2 3 4\nctxt 5\nbtime 1795988081\nprocesses 7\n") == (
        1795988081.0
    )
    assert procfs.parse_meminfo_total(b"MemTotal:       24683652 kB\nMemFree: 19889708 kB\n") == (
        24683652 * 1024
    )
    for data in (b"btime\n", b"btime x\n", b"btime 1 2\n", b"xbtime 5\n"):
        assert malformed_message(lambda d=data: procfs.parse_btime(d)) == (  # type: ignore[misc]
            "/proc/stat: no btime line"
        )
    for data in (b"MemTotal:\n", b"MemTotal: x kB\n", b"MemFree: 5 kB\n"):
        assert malformed_message(lambda d=data: procfs.parse_meminfo_total(d)) == (  # type: ignore[misc]
            "/proc/meminfo: no MemTotal line"
        )
    assert procfs.parse_meminfo_total(b"MemTotal: 7\n") == 7 * 1024  # no unit: still kB


# ---- flat keyed files (cpu.stat, memory.stat, memory.events, pids.events) ------------------

# The v2 capture: cpu.stat of spin-limited.
CPU_STAT_V2 = (
    b"usage_usec 28475951\nuser_usec 27402539\nsystem_usec 1073411\nnr_periods 570\n"
    b"nr_throttled 559\nthrottled_usec 22054371\nnr_bursts 0\nburst_usec 0\n"
)
CPU_STAT_V2_VALUES = {
    "usage_usec": 28475951,
    "user_usec": 27402539,
    "system_usec": 1073411,
    "nr_periods": 570,
    "nr_throttled": 559,
    "throttled_usec": 22054371,
    "nr_bursts": 0,
    "burst_usec": 0,
}


def test_flat_keyed_real_cpu_stat_fast_and_general(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroupfs, "_KEYS", {})
    assert cgroupfs._parse_flat_keyed_general(CPU_STAT_V2, "cpu.stat") == CPU_STAT_V2_VALUES
    spy = Spy(monkeypatch, cgroupfs, "_parse_flat_keyed_general")
    # The keys are known now: the kernel's own text never goes to the general parser.
    assert cgroupfs.parse_flat_keyed(CPU_STAT_V2, "cpu.stat") == CPU_STAT_V2_VALUES
    assert spy.calls == 0
    # A key not seen yet goes to the general parser, which learns it.
    events = b"max 0\n"  # this host: pids.events
    assert cgroupfs.parse_flat_keyed(events, "pids.events") == {"max": 0}
    assert spy.calls == 1
    assert cgroupfs.parse_flat_keyed(events, "pids.events") == {"max": 0}
    assert spy.calls == 1


def test_flat_keyed_learns_only_exact_kernel_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroupfs, "_KEYS", {})
    data = b"oom_kill_disable 0\n  under_oom   0\noom_kill\t3\n\nbroken\n"
    expected = {"oom_kill_disable": 0, "under_oom": 0, "oom_kill": 3}
    assert cgroupfs._parse_flat_keyed_general(data, "memory.oom_control") == expected
    assert cgroupfs._KEYS == {b"oom_kill_disable": "oom_kill_disable"}
    assert cgroupfs.parse_flat_keyed(data, "memory.oom_control") == expected


def test_flat_keyed_blank_and_broken_lines_do_not_stop_the_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cgroupfs, "_KEYS", {})
    data = b"\nbroken\na b c\nlow 1\nhigh 2\n"
    assert cgroupfs._parse_flat_keyed_general(data, "memory.events") == {"low": 1, "high": 2}
    assert cgroupfs.parse_flat_keyed(data) == {"low": 1, "high": 2}
    assert cgroupfs.parse_flat_keyed(b"") == {}
    assert cgroupfs._parse_flat_keyed_general(b"", "x") == {}


def test_flat_keyed_huge_and_undecodable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroupfs, "_KEYS", {})
    # v1 memory.stat (this host): the "no limit" sentinel is a value like any other here.
    data = b"hierarchical_memory_limit 9223372036854771712\nk\xff 1\n"
    expected = {"hierarchical_memory_limit": 9223372036854771712, "k\ufffd": 1}
    assert cgroupfs._parse_flat_keyed_general(data, "memory.stat") == expected
    assert cgroupfs.parse_flat_keyed(data) == expected  # learnt keys, fast path
    assert cgroupfs._KEYS[b"k\xff"] == "k\ufffd"


def test_flat_keyed_key_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroupfs, "_KEYS", {str(n).encode(): str(n) for n in range(4095)})
    assert cgroupfs.parse_flat_keyed(b"key_a 1\n") == {"key_a": 1}
    assert cgroupfs._KEYS[b"key_a"] == "key_a"  # the 4096th key is learnt
    assert cgroupfs.parse_flat_keyed(b"key_b 2\n") == {"key_b": 2}
    assert b"key_b" not in cgroupfs._KEYS and len(cgroupfs._KEYS) == 4096


def test_flat_keyed_bad_value_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroupfs, "_KEYS", {b"usage_usec": "usage_usec"})
    assert malformed_message(lambda: cgroupfs.parse_flat_keyed(b"usage_usec abc\n")) == (
        ": non-integer value in b'usage_usec abc'"
    )
    message = malformed_message(lambda: cgroupfs.parse_flat_keyed(b"nr 1\nnew x\n", "cpu.stat"))
    assert message == "cpu.stat: non-integer value in b'new x'"


# ---- single values (pids.max, memory.max, cpu.cfs_quota_us, ...) ---------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"max\n", None),  # v2 "no limit" (the v2 capture: memory.high)
        (b"max", None),
        (b" max \n", None),
        (b"-1\n", None),  # v1 cpu.cfs_quota_us "no quota" (this host)
        (b"-2\n", None),
        (b"9223372036854771712\n", None),  # v1 memory.limit_in_bytes "no limit" (this host)
        (b"4611686018427387904\n", None),  # 1 << 62: the smallest "no limit"
        (b"4611686018427387903\n", 4611686018427387903),
        (b"134217728\n", 134217728),  # the v2 capture: memory.max of spin-limited
        (b"0\n", 0),  # the v2 capture: memory.low
        (b"64", 64),
    ],
)
def test_int_or_max(text: bytes, expected: int | None) -> None:
    assert cgroupfs.parse_int_or_max(text) == expected


def test_int_or_max_garbage_names_the_file() -> None:
    assert malformed_message(lambda: cgroupfs.parse_int_or_max(b" maxi\n", "pids.max")) == (
        "pids.max: expected an integer or 'max', got b'maxi'"
    )
    assert malformed_message(lambda: cgroupfs.parse_int_or_max(b"x" * 50)) == (
        ": expected an integer or 'max', got b'" + "x" * 40 + "'"
    )


def test_cpu_max() -> None:
    assert cgroupfs.parse_cpu_max(b"50000 100000\n") == (50000, 100000)  # the v2 capture
    assert cgroupfs.parse_cpu_max(b"max 100000\n") == (None, 100000)  # the default
    assert cgroupfs.parse_cpu_max(b"20000\n") == (20000, None)
    assert cgroupfs.parse_cpu_max(b"max") == (None, None)


def test_cpu_max_garbage_names_the_file() -> None:
    assert malformed_message(lambda: cgroupfs.parse_cpu_max(b"")) == (
        "cpu.max: expected '$MAX $PERIOD', got b''"
    )
    assert malformed_message(lambda: cgroupfs.parse_cpu_max(b"1 2 3\n", "/x/cpu.max")) == (
        "/x/cpu.max: expected '$MAX $PERIOD', got b'1 2 3\\n'"
    )
    assert malformed_message(lambda: cgroupfs.parse_cpu_max(b"max abc\n")) == (
        "cpu.max: bad period in b'max abc\\n'"
    )
    three = b"1 2 3 " + b"4" * 40
    assert malformed_message(lambda: cgroupfs.parse_cpu_max(three)) == (
        f"cpu.max: expected '$MAX $PERIOD', got {three[:40]!r}"
    )
    assert malformed_message(lambda: cgroupfs.parse_cpu_max(b"maxx 100000\n", "/y/cpu.max")) == (
        "/y/cpu.max: expected an integer or 'max', got b'maxx'"
    )
    long = b"max " + b"9" * 10 + b"x" * 40
    assert malformed_message(lambda: cgroupfs.parse_cpu_max(long)) == (
        f"cpu.max: bad period in {long[:40]!r}"
    )


# ---- PSI -----------------------------------------------------------------------------------

# The v2 capture: cpu.pressure of spin-limited.
CPU_PRESSURE = (
    b"some avg10=27.36 avg60=18.30 avg300=5.44 total=18027384\n"
    b"full avg10=27.36 avg60=18.28 avg300=5.43 total=18011919\n"
)
CPU_PRESSURE_PSI = Psi(
    some=PsiLine(avg10=27.36, avg60=18.30, avg300=5.44, total_us=18027384),
    full=PsiLine(avg10=27.36, avg60=18.28, avg300=5.43, total_us=18011919),
)


def test_psi_kernel_text_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, cgroupfs, "_parse_psi_general")
    assert cgroupfs.parse_psi(CPU_PRESSURE) == CPU_PRESSURE_PSI
    # Before kernel 5.13 /proc/pressure/cpu had no `full` line (the reference, section 3.4).
    some_only = b"some avg10=0.14 avg60=0.11 avg300=0.02 total=105692\n"  # this host, hybrid
    assert cgroupfs.parse_psi(some_only) == Psi(some=PsiLine(0.14, 0.11, 0.02, 105692))
    full_only = CPU_PRESSURE.split(b"\n")[1]
    assert cgroupfs.parse_psi(full_only) == Psi(full=CPU_PRESSURE_PSI.full)
    assert cgroupfs.parse_psi(b"") == Psi()
    assert spy.calls == 0
    assert cgroupfs._parse_psi_general(CPU_PRESSURE, "cpu.pressure") == CPU_PRESSURE_PSI


def test_psi_blank_lines_are_skipped_by_both_parsers(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, cgroupfs, "_parse_psi_general")
    data = b"\n" + CPU_PRESSURE.replace(b"\n", b"\n\n")
    assert cgroupfs.parse_psi(data) == CPU_PRESSURE_PSI
    assert spy.calls == 0
    assert cgroupfs._parse_psi_general(data, "cpu.pressure") == CPU_PRESSURE_PSI


def test_psi_other_layouts_go_to_the_general_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, cgroupfs, "_parse_psi_general")
    reordered = b"some total=5 avg300=3.00 avg60=2.00 avg10=1.00\n"
    assert cgroupfs.parse_psi(reordered) == Psi(some=PsiLine(1.0, 2.0, 3.0, 5))
    assert spy.calls == 1
    extra = b"full avg10=1.00 avg60=2.00 avg300=3.00 total=5 new=6\n"
    assert cgroupfs.parse_psi(extra) == Psi(full=PsiLine(1.0, 2.0, 3.0, 5))
    assert spy.calls == 2
    # Each key checked in its place: one wrong key is enough to leave the fast path.
    for position, wrong in enumerate((b"avg11=1.00", b"avg61=2.00", b"avg301=3.00", b"totals=5")):
        parts = b"some avg10=1.00 avg60=2.00 avg300=3.00 total=5".split()
        parts[position + 1] = wrong
        with pytest.raises(Malformed):
            cgroupfs.parse_psi(b" ".join(parts) + b"\n", "io.pressure")
        assert spy.calls == 3 + position


def test_psi_unknown_line_kind_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, cgroupfs, "_parse_psi_general")
    data = (
        b"some avg10=1.00 avg60=2.00 avg300=3.00 total=5\n"
        b"most avg10=9.00 avg60=9.00 avg300=9.00 total=9\n"
    )
    assert cgroupfs.parse_psi(data) == Psi(some=PsiLine(1.0, 2.0, 3.0, 5))
    assert spy.calls == 1
    # The general parser then reads every line again, and names the file of a broken one.
    broken = data.replace(b"some avg10=1.00", b"some avg10=x")
    broken = broken.split(b"\n")[1] + b"\n" + broken.split(b"\n")[0] + b"\n"
    assert malformed_message(lambda: cgroupfs.parse_psi(broken, "cpu.pressure")) == (
        "cpu.pressure: unparsable PSI line b'some avg10=x avg60=2.00 avg300=3.00 total=5': "
        "could not convert string to float: b'x'"
    )


def test_psi_bad_values_name_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch, cgroupfs, "_parse_psi_general")
    bad_float = b"some avg10=x avg60=2.00 avg300=3.00 total=5\n"
    assert malformed_message(lambda: cgroupfs.parse_psi(bad_float, "cpu.pressure")) == (
        "cpu.pressure: unparsable PSI line b'some avg10=x avg60=2.00 avg300=3.00 total=5': "
        "could not convert string to float: b'x'"
    )
    assert spy.calls == 1
    bad_total = b"some avg10=1.00 avg60=2.00 avg300=3.00 total=5.5\n"
    assert malformed_message(lambda: cgroupfs.parse_psi(bad_total)) == (
        ": unparsable PSI line b'some avg10=1.00 avg60=2.00 avg300=3.00 total=5.5': "
        "invalid literal for int() with base 10: b'5.5'"
    )
    missing = b"some avg10=1.00 avg60=2.00 avg300=3.00\n"
    assert malformed_message(lambda: cgroupfs._parse_psi_general(missing, "p")) == (
        "p: unparsable PSI line b'some avg10=1.00 avg60=2.00 avg300=3.00': b'total'"
    )
    two_signs = b"some avg10=1=2 avg60=2.00 avg300=3.00 total=5\n"
    assert malformed_message(lambda: cgroupfs._parse_psi_general(two_signs, "p")) == (
        "p: unparsable PSI line b'some avg10=1=2 avg60=2.00 avg300=3.00 total=5': "
        "could not convert string to float: b'1=2'"
    )


# ---- I/O -----------------------------------------------------------------------------------


def test_io_stat_sums_rbytes_and_wbytes_over_devices() -> None:
    # The v2 capture's io.stat (254:0), and the reference's example line (8:16).
    data = (
        b"254:0 rbytes=0 wbytes=16777216 rios=0 wios=16 dbytes=0 dios=0\n"
        b"8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
    )
    assert cgroupfs.parse_io_stat(data) == IoCounters(1459200, 16777216 + 314773504)
    assert cgroupfs.parse_io_stat(data.split(b"\n")[1]) == IoCounters(1459200, 314773504)
    assert cgroupfs.parse_io_stat(b"") == IoCounters(0, 0)  # no I/O yet: the file is empty


def test_io_stat_bad_value_names_the_file() -> None:
    assert malformed_message(lambda: cgroupfs.parse_io_stat(b"8:0 rbytes=1x wbytes=2\n")) == (
        "io.stat: bad value in b'rbytes=1x'"
    )
    assert malformed_message(lambda: cgroupfs.parse_io_stat(b"8:0 wbytes\n", "/c/io.stat")) == (
        "/c/io.stat: bad value in b'wbytes'"
    )


def test_blkio_sums_read_and_write_over_devices() -> None:
    # The layout of blkio.throttle.io_service_bytes (the reference, section 3.3): per device
    # Read Write Sync Async Discard Total, then the grand Total.
    data = (
        b"8:16 Read 1459200\n8:16 Write 314773504\n8:16 Sync 300000000\n8:16 Async 16232704\n"
        b"8:16 Discard 0\n8:16 Total 316232704\n"
        b"8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n"
        b"8:0 Total 12288\nTotal 316244992\n"
    )
    assert cgroupfs.parse_blkio_bytes(data) == IoCounters(1459200 + 4096, 314773504 + 8192)
    assert cgroupfs.parse_blkio_bytes(b"Total 0\n") == IoCounters(0, 0)  # this host: no lines


def test_blkio_skips_lines_of_other_shapes() -> None:
    data = b"Total 0\n8:0 Read 1\nbroken\n8:0 Write 2 extra\n8:0 Write 3\n"
    assert cgroupfs.parse_blkio_bytes(data) == IoCounters(1, 3)


def test_blkio_bad_value_names_the_file() -> None:
    assert malformed_message(lambda: cgroupfs.parse_blkio_bytes(b"8:0 Read x\n")) == (
        "blkio: bad value in b'8:0 Read x'"
    )
    assert malformed_message(lambda: cgroupfs.parse_blkio_bytes(b"8:0 Write -\n", "b")) == (
        "b: bad value in b'8:0 Write -'"
    )


# ---- memory used, as `docker stats` --------------------------------------------------------


def test_used_memory_v1_then_v2_key_like_the_docker_cli() -> None:
    # docker/cli calculateMemUsageUnixNoCache: total_inactive_file if below usage, else
    # inactive_file if below usage, else usage.
    assert cgroupfs.used_memory(17608704, {"inactive_file": 16777216}) == 831488  # v2 capture
    assert cgroupfs.used_memory(1000, {"total_inactive_file": 300, "inactive_file": 1}) == 700
    assert cgroupfs.used_memory(1000, {"total_inactive_file": 1000, "inactive_file": 10}) == 990
    assert cgroupfs.used_memory(1000, {"total_inactive_file": 1001, "inactive_file": 999}) == 1
    assert cgroupfs.used_memory(1000, {"inactive_file": 1000}) == 1000
    assert cgroupfs.used_memory(1000, {"inactive_file": 0}) == 1000
    assert cgroupfs.used_memory(1000, {}) == 1000
    assert cgroupfs.used_memory(None, {"inactive_file": 1}) is None


# ---- which cgroup names a process's container ----------------------------------------------

V1 = CgroupLayout(CgroupMode.V1, None)
V2 = CgroupLayout(CgroupMode.V2, None)
HYBRID = CgroupLayout(CgroupMode.HYBRID, None)


def test_container_path_v2_is_the_0_line() -> None:
    entries = (CgroupEntry(1, ("name=systemd",), "/v1"), CgroupEntry(0, (), "/system.slice/x"))
    assert container_cgroup_path(V2, entries) == "/system.slice/x"
    assert container_cgroup_path(V2, entries[:1]) is None
    assert container_cgroup_path(V2, ()) is None


def test_container_path_v1_prefers_memory_then_cpu_pids_cpuacct_systemd() -> None:
    # This host's dockerd: only its memory cgroup is not the root.
    assert container_cgroup_path(HYBRID, DOCKERD_ENTRIES) == (
        "/process_api/c2173e86cf87f273ae38dfc346a8e8fc"
    )
    order = ["memory", "cpu", "pids", "cpuacct", "name=systemd"]
    entries = [CgroupEntry(9, ("blkio",), "/blkio"), CgroupEntry(0, (), "/unified")]
    entries += [CgroupEntry(i + 1, (c,), f"/{c}") for i, c in enumerate(order)]
    for controller in order:
        assert container_cgroup_path(V1, tuple(entries)) == f"/{controller}"
        entries = [e for e in entries if e.controllers != (controller,)]
    assert container_cgroup_path(V1, tuple(entries)) == "/blkio"  # else the first line
    assert container_cgroup_path(V1, ()) is None


def test_container_path_v1_combined_hierarchy() -> None:
    entries = (CgroupEntry(3, ("cpu", "cpuacct"), "/docker/a"), CgroupEntry(0, (), "/other"))
    assert container_cgroup_path(HYBRID, entries) == "/docker/a"


def test_layout_version() -> None:
    assert [CgroupLayout(mode, None).version for mode in CgroupMode] == [
        1 if mode is not CgroupMode.V2 else 2 for mode in CgroupMode
    ]
    assert CgroupLayout(CgroupMode.V2, None).version == 2
    assert CgroupLayout(CgroupMode.HYBRID, None).version == 1
