"""Every /proc and cgroup parser on literal file contents: v1, v2, hybrid, odd spacing, missing
keys, garbage."""

from __future__ import annotations

import pytest

from ctop_py import cgroupfs, procfs
from ctop_py.host import Malformed
from ctop_py.model import CgroupEntry, IoCounters


def test_stat_comm_with_spaces_and_parentheses() -> None:
    line = (
        b"4418 (a) b (c)) R 4397 4418 4418 0 -1 4194560 107 0 0 0 1234 56 0 0 20 0 3 0 "
        b"987654 2674688 250 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
    )
    stat = procfs.parse_stat(line)
    assert stat.comm == "a) b (c)"
    assert (stat.state, stat.ppid, stat.utime, stat.stime) == ("R", 4397, 1234, 56)
    assert (stat.threads, stat.start_ticks, stat.rss_pages) == (3, 987654, 250)


@pytest.mark.parametrize("data", [b"", b"12 (x", b"12 (x) R", b"12 (x) R notanumber"])
def test_stat_garbage_is_malformed(data: bytes) -> None:
    with pytest.raises(Malformed):
        procfs.parse_stat(data, "/proc/12/stat")


def test_status_uid_and_nspid() -> None:
    data = b"Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t3115\t1\nKthread:\t0\n"
    status = procfs.parse_status(data)
    assert status.uid == 1000
    assert status.nspid == (3115, 1)


def test_status_without_nspid() -> None:
    status = procfs.parse_status(b"Name:\tx\nUid:\t0\t0\t0\t0\n")
    assert status.nspid == ()


def test_cgroup_hybrid() -> None:
    data = (
        b"9:name=systemd:/docker/abc\n4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n"
        b"0::/docker/abc\n"
    )
    entries = procfs.parse_cgroup(data)
    assert entries[0] == CgroupEntry(9, ("name=systemd",), "/docker/abc")
    assert entries[2] == CgroupEntry(2, ("cpu", "cpuacct"), "/docker/abc")
    assert entries[3] == CgroupEntry(0, (), "/docker/abc")


def test_cgroup_path_with_colon_and_deleted_suffix() -> None:
    entries = procfs.parse_cgroup(b"0::/a:b/c (deleted)\n")
    assert entries == (CgroupEntry(0, (), "/a:b/c"),)


def test_cgroup_garbage() -> None:
    with pytest.raises(Malformed, match="/proc/1/cgroup"):
        procfs.parse_cgroup(b"nonsense\n", "/proc/1/cgroup")


def test_cmdline_keeps_invalid_utf8_and_empty_args() -> None:
    args = procfs.parse_cmdline(b"sh\0-c\0\xff\xfe\0\0")
    assert args[:2] == ("sh", "-c")
    assert args[2].encode("utf-8", "surrogateescape") == b"\xff\xfe"
    assert procfs.parse_cmdline(b"") == ()


def test_ns_link() -> None:
    assert procfs.parse_ns_link("net:[4026532184]") == 4026532184
    with pytest.raises(Malformed):
        procfs.parse_ns_link("garbage")


def test_net_dev_sums_all_but_loopback() -> None:
    data = (
        b"Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n"
        b"    lo:   500 5 0 0 0 0 0 0   500 5 0 0 0 0 0 0\n"
        b"  eth0:1376 16 0 0 0 0 0 0 42 1 0 0 0 0 0 0\n"
        b"  eth1: 24 2 0 0 0 0 0 0 8 1 0 0 0 0 0 0\n"
    )
    net = procfs.parse_net_dev(data)
    assert (net.rx_bytes, net.tx_bytes, net.rx_packets, net.tx_packets) == (1400, 50, 18, 2)
    assert net.interfaces == ("eth0", "eth1")


def test_net_dev_short_line_is_malformed() -> None:
    with pytest.raises(Malformed):
        procfs.parse_net_dev(b"h\nh\n eth0: 1 2 3\n")


def test_proc_stat_cpu_busy_and_total() -> None:
    busy, total = procfs.parse_proc_stat_cpu(b"cpu  10 1 5 100 4 0 2 0 0 0\ncpu0 1 1 1 1\n")
    assert (busy, total) == (18, 122)


def test_meminfo_and_btime() -> None:
    assert procfs.parse_meminfo_total(b"MemTotal:   2048 kB\n") == 2048 * 1024
    assert procfs.parse_btime(b"cpu 1\nbtime 1700000000\n") == 1700000000.0


# ---- cgroup files --------------------------------------------------------------------------


def test_flat_keyed_odd_spacing_and_unknown_keys() -> None:
    data = b"usage_usec 19031884\n  nr_periods   908\nnew_key 7\n\nbroken\n"
    assert cgroupfs.parse_flat_keyed(data) == {
        "usage_usec": 19031884,
        "nr_periods": 908,
        "new_key": 7,
    }


def test_flat_keyed_non_integer() -> None:
    with pytest.raises(Malformed, match=r"cpu\.stat"):
        cgroupfs.parse_flat_keyed(b"usage_usec abc\n", "cpu.stat")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"max\n", None),
        (b"-1\n", None),
        (b"9223372036854771712\n", None),  # v1's "no limit"
        (b"67108864\n", 67108864),
        (b"0\n", 0),
    ],
)
def test_int_or_max(text: bytes, expected: int | None) -> None:
    assert cgroupfs.parse_int_or_max(text) == expected


def test_cpu_max() -> None:
    assert cgroupfs.parse_cpu_max(b"20000 100000\n") == (20000, 100000)
    assert cgroupfs.parse_cpu_max(b"max 100000\n") == (None, 100000)
    with pytest.raises(Malformed):
        cgroupfs.parse_cpu_max(b"")


def test_psi_with_and_without_full() -> None:
    psi = cgroupfs.parse_psi(
        b"some avg10=57.84 avg60=56.28 avg300=20.39 total=71560128\n"
        b"full avg10=57.84 avg60=56.28 avg300=20.39 total=71556853\n"
    )
    assert psi.some is not None and psi.some.avg10 == 57.84 and psi.some.total_us == 71560128
    assert psi.full is not None and psi.full.total_us == 71556853
    only_some = cgroupfs.parse_psi(b"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    assert only_some.full is None
    with pytest.raises(Malformed):
        cgroupfs.parse_psi(b"some avg10=1\n")


def test_io_stat_sums_devices() -> None:
    io = cgroupfs.parse_io_stat(
        b"8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
        b"254:0 rbytes=100 wbytes=200 rios=1 wios=1 dbytes=0 dios=0\n"
    )
    assert (io.read_bytes, io.write_bytes) == (1459300, 314773704)
    assert cgroupfs.parse_io_stat(b"") == IoCounters(0, 0)


def test_blkio_ignores_totals() -> None:
    io = cgroupfs.parse_blkio_bytes(
        b"8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:0 Total 12288\nTotal 12288\n"
    )
    assert (io.read_bytes, io.write_bytes) == (4096, 8192)


def test_used_memory_like_docker_stats() -> None:
    # v1: total_inactive_file wins; v2: inactive_file
    assert cgroupfs.used_memory(1000, {"total_inactive_file": 300, "inactive_file": 1}) == 700
    assert cgroupfs.used_memory(1000, {"inactive_file": 400}) == 600
    # larger than usage: falls back to usage, as the docker CLI does
    assert cgroupfs.used_memory(1000, {"inactive_file": 5000}) == 1000
    assert cgroupfs.used_memory(None, {}) is None
