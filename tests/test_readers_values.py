"""Exact values from the cgroup and /proc readers on real and fake trees (issue 13: mutation
score of cgroupfs.py and procfs.py): layout detection, every file of a v2 and a v1 cgroup read
into its field, brief reads, the parse cache, absent, empty, unreadable and huge files, and the
process reader's caching.

Inputs are the v2 capture in tests/fixtures/cgroup-v2-systemd ("the v2 capture"), fake trees
whose files are quoted from this host (kernel 6.18, cgroup v1 hybrid: "this host") or from
/work/shared/reference/runtime-reference.md ("the reference"), and this machine's own /proc.
Expected values are read off those files by hand (or, for a whole memory.stat, split by the
test itself), never taken from running the code under test.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ctop_py import cgroupfs, procfs
from ctop_py.cgroupfs import (
    CgroupLayout,
    ParseCache,
    _Files,
    detect_layout,
    read_cgroup,
    read_psi,
)
from ctop_py.host import Gone, HostError, HostRoot, Malformed
from ctop_py.model import (
    CgroupEntry,
    CgroupMode,
    CgroupStats,
    CpuCounters,
    IoCounters,
    Limits,
    MemoryCounters,
    Process,
    Psi,
    PsiLine,
)
from tests.fakeroot import CAPTURE_V2, FakeHost, write_v1
from tests.test_parsers_values import DOCKERD_ENTRIES

LIMITED_ID = "4442952b11c14f1587556e8f7119067f60b70fb842b8d78143451689ea8cc84b"
SCOPE = f"/system.slice/docker-{LIMITED_ID}.scope"
CAPTURE_CGROUP = CAPTURE_V2 / "sys/fs/cgroup"
CAPTURE_SCOPE = CAPTURE_CGROUP / SCOPE.lstrip("/")


def file_dict(path: Path) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines())}


# Every value below is the content of the file of that name in CAPTURE_SCOPE.
CAPTURE_LIMITS = Limits(
    cpu_quota_us=50000,  # cpu.max "50000 100000"
    cpu_period_us=100000,
    cpu_weight=100,  # cpu.weight
    cpuset_cpus="0-1",  # cpuset.cpus.effective
    cpuset_mems="0",  # cpuset.mems.effective
    memory_max_bytes=134217728,  # memory.max
    memory_high_bytes=None,  # memory.high "max"
    memory_low_bytes=None,  # memory.low "0": no protection
    swap_max_bytes=134217728,  # memory.swap.max
    pids_max=64,  # pids.max
)
CAPTURE_CPU = CpuCounters(  # cpu.stat, µs to ns
    usage_ns=28475951000,
    user_ns=27402539000,
    system_ns=1073411000,
    nr_periods=570,
    nr_throttled=559,
    throttled_ns=22054371000,
)
CAPTURE_PSI = {
    "cpu": Psi(PsiLine(27.36, 18.30, 5.44, 18027384), PsiLine(27.36, 18.28, 5.43, 18011919)),
    "memory": Psi(PsiLine(0.0, 0.0, 0.0, 0), PsiLine(0.0, 0.0, 0.0, 0)),
    "io": Psi(PsiLine(0.0, 0.0, 0.0, 1), PsiLine(0.0, 0.0, 0.0, 1)),
}


def capture_stats() -> CgroupStats:
    return CgroupStats(
        version=2,
        path=SCOPE,
        limits=CAPTURE_LIMITS,
        cpu=CAPTURE_CPU,
        memory=MemoryCounters(
            current_bytes=17608704,  # memory.current
            used_bytes=17608704 - 16777216,  # minus memory.stat inactive_file
            peak_bytes=18845696,  # memory.peak
            swap_current_bytes=0,  # memory.swap.current
            stat=file_dict(CAPTURE_SCOPE / "memory.stat"),
            events={"low": 0, "high": 0, "max": 0, "oom": 0, "oom_kill": 0, "oom_group_kill": 0},
        ),
        io=IoCounters(0, 16777216),  # io.stat "254:0 rbytes=0 wbytes=16777216 ..."
        pids_current=1,  # pids.current
        psi=CAPTURE_PSI,
        pids_events={"max": 0},  # pids.events
    )


def copy_capture(tmp_path: Path) -> tuple[CgroupLayout, Path]:
    shutil.copytree(CAPTURE_V2 / "sys", tmp_path / "sys")
    return detect_layout(HostRoot.at(tmp_path)), tmp_path / "sys/fs/cgroup" / SCOPE.lstrip("/")


# ---- layout ---------------------------------------------------------------------------------


def test_layout_of_the_v2_capture() -> None:
    layout = detect_layout(HostRoot.at(CAPTURE_V2))
    assert layout == CgroupLayout(CgroupMode.V2, CAPTURE_CGROUP, {})
    assert layout.version == 2


def test_layout_without_a_cgroup_filesystem(tmp_path: Path) -> None:
    assert detect_layout(HostRoot.at(tmp_path)) == CgroupLayout(CgroupMode.NONE, None, {})
    (tmp_path / "sys/fs/cgroup").mkdir(parents=True)
    assert detect_layout(HostRoot.at(tmp_path)) == CgroupLayout(CgroupMode.NONE, None, {})


def test_layout_v2_mounted_only_at_unified(tmp_path: Path) -> None:
    unified = tmp_path / "sys/fs/cgroup/unified"
    unified.mkdir(parents=True)
    (unified / "cgroup.controllers").write_text("\n")
    assert detect_layout(HostRoot.at(tmp_path)) == CgroupLayout(CgroupMode.V2, unified, {})


def test_layout_v1_names_combined_mounts_files_and_late_names(tmp_path: Path) -> None:
    base = tmp_path / "sys/fs/cgroup"
    base.mkdir(parents=True)
    (base / "a-stray-file").write_text("")  # not a hierarchy
    for name in ("cpu,cpuacct", "memory", "systemd", "net_cls,net_prio", "xyz"):
        (base / name).mkdir()
    (base / "cpu").symlink_to("cpu,cpuacct")
    (base / "cpuacct").symlink_to("cpu,cpuacct")
    layout = detect_layout(HostRoot.at(tmp_path))
    assert layout == CgroupLayout(
        CgroupMode.V1,
        None,
        {
            "cpu": base / "cpu",  # sorted first: the symlink
            "cpuacct": base / "cpu,cpuacct",
            "memory": base / "memory",
            "name=systemd": base / "systemd",
            "net_cls": base / "net_cls,net_prio",
            "net_prio": base / "net_cls,net_prio",
            "xyz": base / "xyz",  # a hierarchy mounted by hand, sorted after "unified"
        },
    )
    assert layout.version == 1
    # A v2 hierarchy beside them makes it hybrid; a "unified" without cgroup.controllers is
    # not one. Hierarchies sorted after it are still found.
    (base / "unified").mkdir()
    assert detect_layout(HostRoot.at(tmp_path)).mode is CgroupMode.V1
    (base / "unified/cgroup.controllers").write_text("\n")
    hybrid = detect_layout(HostRoot.at(tmp_path))
    assert (hybrid.mode, hybrid.unified) == (CgroupMode.HYBRID, base / "unified")
    assert hybrid.controllers == layout.controllers
    assert hybrid.version == 1


def _mountinfo_cgroups() -> tuple[str | None, dict[str, str]]:
    """From /proc/self/mountinfo: the v2 mount point under /sys/fs/cgroup and each v1
    controller's mount point (independent of the code under test)."""
    subsystems = {
        line.split()[0]
        for line in Path("/proc/cgroups").read_text().splitlines()
        if not line.startswith("#")
    }
    unified, controllers = None, {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, right = line.split(" - ", 1)
        mount_point = left.split()[4]
        fstype, _source, options = right.split()[:3]
        if not mount_point.startswith("/sys/fs/cgroup"):
            continue
        if fstype == "cgroup2":
            unified = mount_point
        elif fstype == "cgroup":
            for option in options.split(","):
                if option in subsystems or option.startswith("name="):
                    controllers[option] = mount_point
    return unified, controllers


def test_layout_of_this_machine_matches_mountinfo() -> None:
    unified, controllers = _mountinfo_cgroups()
    layout = detect_layout(HostRoot())
    if not controllers:
        assert layout.mode is CgroupMode.V2 and str(layout.unified) == unified
        return
    expected_mode = CgroupMode.HYBRID if unified else CgroupMode.V1
    assert layout.mode is expected_mode
    assert (str(layout.unified) if layout.unified else None) == unified
    found = {c: os.path.realpath(p) for c, p in layout.controllers.items()}
    assert found == {c: os.path.realpath(p) for c, p in controllers.items()}


# ---- v2 --------------------------------------------------------------------------------------


def test_v2_capture_every_file_read_into_its_field() -> None:
    notes: set[str] = set()
    layout = detect_layout(HostRoot.at(CAPTURE_V2))
    assert read_cgroup(layout, SCOPE, notes) == capture_stats()
    assert notes == set()


def test_v2_brief_reads_what_a_row_not_open_needs() -> None:
    """cgroupfs.BRIEF_SET on v2: the list's counters, memory.events (the OOM mark, memory-high
    and -max), pids.events, the peak; no swap, no PSI: read_psi reads it (with the limits)."""
    layout = detect_layout(HostRoot.at(CAPTURE_V2))
    full = capture_stats()
    no_swap = replace(full.memory, swap_current_bytes=None)
    assert no_swap.events == file_dict(CAPTURE_SCOPE / "memory.events")
    between = replace(full, memory=no_swap, psi={})
    assert between.pids_events == file_dict(CAPTURE_SCOPE / "pids.events")
    stats = read_cgroup(layout, SCOPE, set(), known_limits=CAPTURE_LIMITS, brief=True)
    assert stats == between
    # The tick that reads the limits gets the same; PSI comes from read_psi.
    assert read_cgroup(layout, SCOPE, set(), brief=True) == between
    assert read_psi(layout, SCOPE, set()) == full.psi != {}


def test_v2_known_limits_are_not_read_again(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    known = Limits(cpu_quota_us=1, cpu_period_us=2, pids_max=3)
    for name in ("cpu.max", "memory.max", "pids.max", "cpu.weight"):
        (scope / name).unlink()
    stats = read_cgroup(layout, SCOPE, set(), known_limits=known)
    assert stats.limits is known
    assert stats.cpu == CAPTURE_CPU


def test_v2_absent_empty_and_broken_files(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    for name in ("cpu.stat", "io.stat", "memory.stat", "cpu.max", "memory.peak", "pids.events"):
        (scope / name).unlink()
    (scope / "cpuset.cpus.effective").unlink()
    (scope / "cpuset.cpus").write_text("1\n")  # the capture's is empty: nothing requested
    (scope / "cpu.pressure").write_text("")
    (scope / "memory.pressure").write_text("some avg10=oops\n")
    notes: set[str] = set()
    stats = read_cgroup(layout, SCOPE, notes)
    assert stats.cpu == CpuCounters()
    assert stats.io == IoCounters()
    assert (stats.limits.cpu_quota_us, stats.limits.cpu_period_us) == (None, None)
    assert stats.limits.cpuset_cpus == "1"
    assert stats.memory.stat == {}
    assert stats.memory.used_bytes == stats.memory.current_bytes == 17608704
    assert stats.memory.peak_bytes is None
    assert stats.pids_events == {}
    assert stats.psi == {"io": CAPTURE_PSI["io"]}
    assert notes == {"memory.pressure: unparsable"}
    assert not stats.gone


def test_v2_empty_effective_cpuset_falls_back(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    (scope / "cpuset.cpus.effective").write_text("\n")
    (scope / "cpuset.mems.effective").write_text("\n")
    (scope / "cpuset.cpus").write_text("0\n")
    limits = read_cgroup(layout, SCOPE, set()).limits
    assert (limits.cpuset_cpus, limits.cpuset_mems) == ("0", None)
    (scope / "cpuset.cpus").write_text("\n")
    assert read_cgroup(layout, SCOPE, set()).limits.cpuset_cpus is None


def test_v2_memory_high_and_low_set(tmp_path: Path) -> None:
    # docker run --memory-reservation 32m sets memory.low; memory.high is set by hand here.
    layout, scope = copy_capture(tmp_path)
    (scope / "memory.high").write_text("100663296\n")
    (scope / "memory.low").write_text("33554432\n")
    limits = read_cgroup(layout, SCOPE, set()).limits
    assert (limits.memory_high_bytes, limits.memory_low_bytes) == (100663296, 33554432)


def test_cpuset_bytes_that_are_not_ascii_are_replaced(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    (scope / "cpuset.cpus.effective").write_bytes(b"0-\xff\n")
    assert read_cgroup(layout, SCOPE, set()).limits.cpuset_cpus == "0-\ufffd"
    (scope / "cpuset.cpus.effective").unlink()
    (scope / "cpuset.cpus").write_bytes(b"\xfe1\n")  # read by _Files.text
    assert read_cgroup(layout, SCOPE, set()).limits.cpuset_cpus == "\ufffd1"


def test_v2_cpu_stat_without_the_cpu_controller(tmp_path: Path) -> None:
    # This host: the unified hierarchy's cpu.stat of a container (no v2 controllers enabled
    # there): usage only, no throttling counters.
    layout, scope = copy_capture(tmp_path)
    (scope / "cpu.stat").write_text(
        "usage_usec 26023\nuser_usec 20818\nsystem_usec 5204\nnice_usec 0\n"
    )
    cpu = read_cgroup(layout, SCOPE, set()).cpu
    assert cpu == CpuCounters(usage_ns=26023000, user_ns=20818000, system_ns=5204000)


def test_v2_throttling_without_usage(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    (scope / "cpu.stat").write_text("nr_periods 3\nnr_throttled 2\nthrottled_usec 7\n")
    cpu = read_cgroup(layout, SCOPE, set()).cpu
    assert cpu == CpuCounters(nr_periods=3, nr_throttled=2, throttled_ns=7000)


def test_v2_cgroup_that_vanished(tmp_path: Path) -> None:
    layout, _ = copy_capture(tmp_path)
    stats = read_cgroup(layout, "/system.slice/docker-gone.scope", set())
    assert stats == CgroupStats(
        version=2,
        path="/system.slice/docker-gone.scope",
        limits=Limits(),
        cpu=CpuCounters(),
        memory=MemoryCounters(),
        io=IoCounters(),
        pids_current=None,
        psi={},
        gone=True,
    )


def test_v2_memory_stat_longer_than_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroupfs, "_KEYS", {})
    layout, scope = copy_capture(tmp_path)
    lines = [f"key_{n:05} {n}" for n in range(7000)]  # 77,000 bytes: more than one 64 KiB read
    (scope / "memory.stat").write_text("\n".join(lines) + "\ninactive_file 1000\n")
    stat = read_cgroup(layout, SCOPE, set()).memory.stat
    assert len(stat) == 7001
    assert (stat["key_00000"], stat["key_06999"], stat["inactive_file"]) == (0, 6999, 1000)


def test_v2_a_directory_where_a_file_belongs_is_an_error(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    (scope / "memory.stat").unlink()
    (scope / "memory.stat").mkdir()
    with pytest.raises(HostError) as info:
        read_cgroup(layout, SCOPE, set())
    assert type(info.value) is HostError
    assert info.value.path == str(scope / "memory.stat")


def test_v2_cache_returns_the_same_stats_while_nothing_changes(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    cache = ParseCache()
    known = read_cgroup(layout, SCOPE, set()).limits
    first = read_cgroup(layout, SCOPE, set(), known_limits=known, cache=cache)
    assert first == capture_stats()
    assert (cache.hits, cache.misses) == (0, 8)  # cpu.stat, io.stat, 3 PSI, 3 keyed files
    # One counter moved: the stats are new, the unchanged files are not parsed again.
    (scope / "cpu.stat").write_text((scope / "cpu.stat").read_text().replace("570", "571"))
    cache.next_tick()
    second = read_cgroup(layout, SCOPE, set(), known_limits=known, cache=cache)
    assert second.cpu.nr_periods == 571 and first.cpu.nr_periods == 570
    assert second.memory.stat is first.memory.stat
    assert second.psi["cpu"] is first.psi["cpu"]
    assert (cache.hits, cache.misses) == (7, 9)
    # Nothing changed: the very same stats, nothing parsed.
    for _ in range(2):
        cache.next_tick()
        assert read_cgroup(layout, SCOPE, set(), known_limits=known, cache=cache) is second
    assert (cache.hits, cache.misses) == (7, 9)
    # Limits read again and found equal: the same stats (they keep the previous Limits).
    cache.next_tick()
    equal = Limits(**known.__dict__)
    assert read_cgroup(layout, SCOPE, set(), known_limits=equal, cache=cache) is second
    # Limits that differ: not reused, the new limits in new stats.
    cache.next_tick()
    other = Limits(**{**known.__dict__, "pids_max": 4321})
    third = read_cgroup(layout, SCOPE, set(), known_limits=other, cache=cache)
    assert third is not second and third.limits is other
    assert third == CgroupStats(**{**second.__dict__, "limits": other})


# ---- v1 (and hybrid) -------------------------------------------------------------------------

V1_PATH = "/docker/01e6febaf71e6bc53468b3bf1b1fb462fc25a3cda29c8d61ebd15bc0b97d0025"
# Throttling and limits from the reference (`spin`, section 3.1/3.2); the other files from a
# container on this host, with a few values changed so that no two fields hold the same number.
V1_FILES: dict[str, dict[str, str]] = {
    "cpu": {
        "cpu.stat": (
            "nr_periods 908\nnr_throttled 907\nthrottled_time 71931136688\nnr_bursts 0\n"
            "burst_time 0\n"
        ),
        "cpu.cfs_quota_us": "20000\n",
        "cpu.cfs_period_us": "100000\n",
        "cpu.shares": "1024\n",
    },
    "cpuacct": {
        "cpuacct.usage": "18184807403\n",
        "cpuacct.usage_user": "16000000\n",
        "cpuacct.usage_sys": "4000000\n",
    },
    "cpuset": {"cpuset.cpus": "0-1\n", "cpuset.effective_cpus": "1\n", "cpuset.mems": "0\n"},
    "memory": {
        "memory.usage_in_bytes": "335872\n",
        "memory.limit_in_bytes": "67108864\n",
        "memory.memsw.limit_in_bytes": "134217728\n",
        "memory.memsw.usage_in_bytes": "339968\n",
        "memory.max_usage_in_bytes": "4075520\n",
        "memory.stat": (
            "cache 0\nrss 49152\ninactive_file 4096\nhierarchical_memory_limit 67108864\n"
            "total_cache 0\ntotal_rss 49152\ntotal_inactive_file 8192\n"
        ),
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        "memory.failcnt": "5\n",
    },
    "pids": {"pids.current": "6\n", "pids.max": "max\n", "pids.events": "max 9\n"},
    "blkio": {
        "blkio.throttle.io_service_bytes_recursive": (
            "8:0 Read 4096\n8:0 Write 12288\n8:0 Sync 0\n8:0 Async 16384\n8:0 Discard 0\n"
            "8:0 Total 16384\nTotal 16384\n"
        ),
        "blkio.throttle.io_service_bytes": "8:0 Read 1\n8:0 Write 1\nTotal 2\n",
        "blkio.io_service_bytes_recursive": "8:0 Read 2\n8:0 Write 2\nTotal 4\n",
    },
}
UNIFIED_FILES = {  # this host: the unified hierarchy's pressure files of a container
    "cpu.pressure": (
        "some avg10=0.14 avg60=0.11 avg300=0.02 total=105692\n"
        "full avg10=0.11 avg60=0.09 avg300=0.02 total=92262\n"
    ),
    "memory.pressure": (
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=17\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=16\n"
    ),
    "io.pressure": (
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=3\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=2\n"
    ),
}
V1_LIMITS = Limits(
    cpu_quota_us=20000,
    cpu_period_us=100000,
    cpu_shares=1024,
    cpuset_cpus="1",  # effective_cpus before cpus
    cpuset_mems="0",
    memory_max_bytes=67108864,
    swap_max_bytes=134217728 - 67108864,  # memsw is memory + swap
    pids_max=None,
)
V1_CPU = CpuCounters(
    usage_ns=18184807403,
    user_ns=16000000,
    system_ns=4000000,
    nr_periods=908,
    nr_throttled=907,
    throttled_ns=71931136688,  # v1 reports ns
)
V1_PSI = {
    "cpu": Psi(PsiLine(0.14, 0.11, 0.02, 105692), PsiLine(0.11, 0.09, 0.02, 92262)),
    "memory": Psi(PsiLine(0.0, 0.0, 0.0, 17), PsiLine(0.0, 0.0, 0.0, 16)),
    "io": Psi(PsiLine(0.0, 0.0, 0.0, 3), PsiLine(0.0, 0.0, 0.0, 2)),
}


def v1_host(tmp_path: Path, mode: str = "hybrid") -> tuple[FakeHost, CgroupLayout]:
    host = FakeHost(tmp_path, mode)
    write_v1(host, V1_PATH, V1_FILES)
    if mode == "hybrid":
        host.write_cgroup(V1_PATH, UNIFIED_FILES, "unified")
    return host, detect_layout(host.root)


def v1_stats(**changes: object) -> CgroupStats:
    stats = CgroupStats(
        version=1,
        path=V1_PATH,
        limits=V1_LIMITS,
        cpu=V1_CPU,
        memory=MemoryCounters(
            current_bytes=335872,
            used_bytes=335872 - 8192,  # total_inactive_file, not inactive_file
            peak_bytes=4075520,
            swap_current_bytes=339968 - 335872,
            stat={
                "cache": 0,
                "rss": 49152,
                "inactive_file": 4096,
                "hierarchical_memory_limit": 67108864,
                "total_cache": 0,
                "total_rss": 49152,
                "total_inactive_file": 8192,
            },
            events={"oom_kill": 2, "max": 5},  # oom_control's oom_kill, failcnt
        ),
        io=IoCounters(4096, 12288),  # the first of the blkio files found
        pids_current=6,
        psi=V1_PSI,
        pids_events={"max": 9},
    )
    return CgroupStats(**{**stats.__dict__, **changes})


def test_v1_hybrid_every_file_read_into_its_field(tmp_path: Path) -> None:
    _, layout = v1_host(tmp_path)
    notes: set[str] = set()
    assert read_cgroup(layout, V1_PATH, notes, unified_path=V1_PATH) == v1_stats()
    assert notes == set()
    # Without the unified path there is no PSI.
    assert read_cgroup(layout, V1_PATH, set()) == v1_stats(psi={})


def test_v1_brief(tmp_path: Path) -> None:
    """cgroupfs.BRIEF_SET on v1: no user/system split, no swap; oom_control, failcnt (under a
    memory limit), max_usage_in_bytes and pids.events kept; no PSI: read_psi reads it from
    the unified hierarchy."""
    host, layout = v1_host(tmp_path)
    full = v1_stats()
    between = v1_stats(
        cpu=CpuCounters(
            usage_ns=18184807403, nr_periods=908, nr_throttled=907, throttled_ns=71931136688
        ),
        memory=replace(full.memory, swap_current_bytes=None),
        psi={},
    )
    stats = read_cgroup(
        layout, V1_PATH, set(), unified_path=V1_PATH, known_limits=V1_LIMITS, brief=True
    )
    assert stats == between
    assert read_cgroup(layout, V1_PATH, set(), unified_path=V1_PATH, brief=True) == between
    assert read_psi(layout, V1_PATH, set(), unified_path=V1_PATH) == V1_PSI != {}
    assert read_psi(layout, V1_PATH, set()) == {}  # no unified path, no PSI (as read_cgroup)
    # No memory limit of its own: failcnt cannot move (the kernel counts a failed charge in
    # the cgroup whose limit failed it), so it is not read.
    memory_dir = host.cgroup_dir(V1_PATH, "memory")
    (memory_dir / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    unlimited = read_cgroup(layout, V1_PATH, set(), unified_path=V1_PATH, brief=True)
    assert unlimited.memory.events == {"oom_kill": 2}
    assert unlimited.limits.memory_max_bytes is None


def test_v1_blkio_file_choice(tmp_path: Path) -> None:
    host, layout = v1_host(tmp_path, "v1")
    blkio = host.cgroup_dir(V1_PATH, "blkio")
    (blkio / "blkio.throttle.io_service_bytes_recursive").unlink()
    assert read_cgroup(layout, V1_PATH, set()).io == IoCounters(1, 1)
    (blkio / "blkio.throttle.io_service_bytes").unlink()
    assert read_cgroup(layout, V1_PATH, set()).io == IoCounters(2, 2)
    (blkio / "blkio.io_service_bytes_recursive").write_text("8:0 Read x\n")
    with pytest.raises(Malformed) as info:
        read_cgroup(layout, V1_PATH, set())
    assert info.value.path == f"{blkio}/blkio.io_service_bytes_recursive"
    (blkio / "blkio.io_service_bytes_recursive").unlink()
    assert read_cgroup(layout, V1_PATH, set()).io == IoCounters()


def test_v1_swap_and_events_edges(tmp_path: Path) -> None:
    host, layout = v1_host(tmp_path, "v1")
    memory = host.cgroup_dir(V1_PATH, "memory")
    # docker run --memory 64m --memory-swap 64m: no swap at all.
    (memory / "memory.memsw.limit_in_bytes").write_text("67108864\n")
    (memory / "memory.memsw.usage_in_bytes").write_text("335872\n")
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\n")  # < 4.13
    stats = read_cgroup(layout, V1_PATH, set())
    assert stats.limits.swap_max_bytes == 0
    assert stats.memory.swap_current_bytes == 0
    assert stats.memory.events == {"max": 5}
    # memsw read a moment after usage and already lower: not a negative swap.
    (memory / "memory.memsw.usage_in_bytes").write_text("335871\n")
    (memory / "memory.failcnt").unlink()
    stats = read_cgroup(layout, V1_PATH, set())
    assert stats.memory.swap_current_bytes is None
    assert stats.memory.events == {}
    # No swap accounting (swapaccount=0): no memsw files.
    (memory / "memory.memsw.limit_in_bytes").unlink()
    (memory / "memory.memsw.usage_in_bytes").unlink()
    stats = read_cgroup(layout, V1_PATH, set())
    assert stats.limits.swap_max_bytes is None and stats.memory.swap_current_bytes is None
    # No memory limit: unlimited memsw says nothing of swap either.
    (memory / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (memory / "memory.memsw.limit_in_bytes").write_text("9223372036854771712\n")
    stats = read_cgroup(layout, V1_PATH, set())
    assert stats.limits.memory_max_bytes is None and stats.limits.swap_max_bytes is None
    # A usage file gone: no swap figure, no used figure.
    (memory / "memory.memsw.usage_in_bytes").write_text("339968\n")
    (memory / "memory.usage_in_bytes").unlink()
    stats = read_cgroup(layout, V1_PATH, set())
    assert stats.memory.current_bytes is None and stats.memory.swap_current_bytes is None


def test_v1_memsw_limit_without_a_memory_limit(tmp_path: Path) -> None:
    host, layout = v1_host(tmp_path, "v1")
    memory = host.cgroup_dir(V1_PATH, "memory")
    (memory / "memory.limit_in_bytes").unlink()
    assert read_cgroup(layout, V1_PATH, set()).limits.swap_max_bytes is None


def test_v1_cpuset_without_effective_cpus(tmp_path: Path) -> None:
    host, layout = v1_host(tmp_path, "v1")
    (host.cgroup_dir(V1_PATH, "cpuset") / "cpuset.effective_cpus").unlink()
    assert read_cgroup(layout, V1_PATH, set()).limits.cpuset_cpus == "0-1"


def test_v1_missing_controllers(tmp_path: Path) -> None:
    host, _ = v1_host(tmp_path, "v1")
    for controller in ("pids", "cpuset", "blkio", "memory"):
        shutil.rmtree(host.base / "sys/fs/cgroup" / controller)
    layout = detect_layout(host.root)
    stats = read_cgroup(layout, V1_PATH, set())
    assert stats == v1_stats(
        limits=Limits(cpu_quota_us=20000, cpu_period_us=100000, cpu_shares=1024),
        memory=MemoryCounters(),
        io=IoCounters(),
        pids_current=None,
        psi={},
        pids_events={},
    )


def test_v1_only_limit_files_readable_is_not_gone(tmp_path: Path) -> None:
    host = FakeHost(tmp_path, "v1")
    host.write_cgroup(V1_PATH, {"cpu.cfs_quota_us": "-1\n"}, "cpu")
    stats = read_cgroup(detect_layout(host.root), V1_PATH, set())
    assert not stats.gone and stats.limits == Limits()
    assert read_cgroup(detect_layout(host.root), "/docker/none", set()).gone


def test_v1_cache_key_holds_the_unified_path(tmp_path: Path) -> None:
    _, layout = v1_host(tmp_path)
    cache = ParseCache()
    limits = V1_LIMITS
    first = read_cgroup(layout, V1_PATH, set(), V1_PATH, known_limits=limits, cache=cache)
    cache.next_tick()
    assert read_cgroup(layout, V1_PATH, set(), V1_PATH, known_limits=limits, cache=cache) is first
    cache.next_tick()
    other = read_cgroup(layout, V1_PATH, set(), None, known_limits=limits, cache=cache)
    assert other == v1_stats(psi={})


@pytest.mark.parametrize(
    ("controller", "name"),
    [
        ("cpu", "cpu.stat"),
        ("cpu", "cpu.cfs_quota_us"),
        ("cpu", "cpu.cfs_period_us"),
        ("cpu", "cpu.shares"),
        ("cpuacct", "cpuacct.usage"),
        ("cpuacct", "cpuacct.usage_user"),
        ("cpuacct", "cpuacct.usage_sys"),
        ("memory", "memory.stat"),
        ("memory", "memory.usage_in_bytes"),
        ("memory", "memory.limit_in_bytes"),
        ("memory", "memory.memsw.limit_in_bytes"),
        ("memory", "memory.memsw.usage_in_bytes"),
        ("memory", "memory.max_usage_in_bytes"),
        ("memory", "memory.oom_control"),
        ("memory", "memory.failcnt"),
        ("pids", "pids.current"),
        ("pids", "pids.max"),
        ("pids", "pids.events"),
    ],
)
def test_v1_malformed_file_is_named(tmp_path: Path, controller: str, name: str) -> None:
    host, layout = v1_host(tmp_path, "v1")
    path = host.cgroup_dir(V1_PATH, controller) / name
    path.write_text("a x\n" if V1_FILES[controller][name].count(" ") else "x\n")
    with pytest.raises(Malformed) as info:
        read_cgroup(layout, V1_PATH, set())
    assert info.value.path == str(path)


def test_v1_pids_limit(tmp_path: Path) -> None:
    host, layout = v1_host(tmp_path, "v1")
    host.write_cgroup(V1_PATH, {"pids.max": "64\n"}, "pids")
    assert read_cgroup(layout, V1_PATH, set()).limits.pids_max == 64


def test_v1_and_v2_readers_read_everything_by_default(tmp_path: Path) -> None:
    _, layout = v1_host(tmp_path)
    assert cgroupfs.read_v1(_Files(set()), layout, V1_PATH, V1_PATH) == v1_stats()
    stats = cgroupfs.read_v2(_Files(set()), CAPTURE_SCOPE, SCOPE)
    assert stats == capture_stats()


def test_v1_cache_tells_cgroups_and_ticks_apart(tmp_path: Path) -> None:
    host, layout = v1_host(tmp_path, "v1")
    twin = "/docker/twin"
    write_v1(host, twin, V1_FILES)  # the very same bytes in every file

    def read(path: str) -> CgroupStats:
        return read_cgroup(layout, path, set(), known_limits=V1_LIMITS, cache=cache)

    cache = ParseCache()
    twin_stats = read(twin)
    first = read(V1_PATH)
    assert twin_stats == v1_stats(path=twin, psi={}) and first == v1_stats(psi={})
    cache.next_tick()
    assert read(twin) is twin_stats  # its own, though the other's bytes are the same
    cpu = host.cgroup_dir(V1_PATH, "cpu") / "cpu.stat"
    cpu.write_text(cpu.read_text().replace("nr_periods 908", "nr_periods 909"))
    hits = cache.hits
    second = read(V1_PATH)
    assert second.cpu.nr_periods == 909 and second.io is first.io
    assert cache.hits == hits + 4  # blkio, memory.stat, oom_control, pids.events
    cache.next_tick()
    assert read(V1_PATH) is second
    assert cache.hits == hits + 4  # the whole cgroup came back: no file looked up


@pytest.mark.parametrize(
    ("name", "garbage"),
    [
        ("cpu.stat", "a x\n"),
        ("memory.stat", "a x\n"),
        ("memory.current", "x\n"),
        ("memory.peak", "x\n"),
        ("memory.swap.current", "x\n"),
        ("memory.events", "a x\n"),
        ("io.stat", "8:0 rbytes=x\n"),
        ("pids.current", "x\n"),
        ("pids.events", "a x\n"),
        ("cpu.max", "1 2 3\n"),
        ("cpu.weight", "x\n"),
        ("memory.max", "x\n"),
        ("memory.high", "x\n"),
        ("memory.low", "x\n"),
        ("memory.swap.max", "x\n"),
        ("pids.max", "x\n"),
    ],
)
def test_v2_malformed_file_is_named(tmp_path: Path, name: str, garbage: str) -> None:
    layout, scope = copy_capture(tmp_path)
    (scope / name).write_text(garbage)
    with pytest.raises(Malformed) as info:
        read_cgroup(layout, SCOPE, set())
    assert info.value.path == str(scope / name)


def test_v2_cache_tells_cgroups_apart(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    twin = "/system.slice/twin.scope"
    shutil.copytree(scope, scope.parent / "twin.scope")
    cache = ParseCache()
    first = read_cgroup(layout, SCOPE, set(), known_limits=CAPTURE_LIMITS, cache=cache)
    cache.next_tick()
    second = read_cgroup(layout, twin, set(), known_limits=CAPTURE_LIMITS, cache=cache)
    assert second.path == twin and first.path == SCOPE


# ---- the parse cache on its own -------------------------------------------------------------


def test_parse_cache_hits_only_for_the_same_bytes_and_parser() -> None:
    cache = ParseCache()
    calls: list[bytes] = []

    def parser(data: bytes, path: str) -> list[bytes]:
        calls.append(data)
        return [data, path.encode()]

    first = cache.parse("/a", b"1\n", parser)
    assert first == [b"1\n", b"/a"] and (cache.hits, cache.misses) == (0, 1)
    cache.next_tick()
    assert cache.parse("/a", b"1\n", parser) is first
    cache.next_tick()
    assert cache.parse("/a", b"1\n", parser) is first  # kept while it is used
    assert (cache.hits, cache.misses) == (2, 1)
    cache.next_tick()
    assert cache.parse("/a", b"2\n", parser) == [b"2\n", b"/a"]
    cache.next_tick()
    assert cache.parse("/a", b"2\n", lambda d, p: "other") == "other"
    assert (cache.hits, cache.misses) == (2, 3)
    cache.next_tick()
    cache.next_tick()  # a tick without it: dropped
    assert cache.parse("/a", b"2\n", parser) == [b"2\n", b"/a"]
    assert (cache.hits, cache.misses) == (2, 4)
    cache.next_tick()
    cache.clear()
    assert cache.previous == {} and cache.current == {}
    assert cache.parse("/a", b"2\n", parser) == [b"2\n", b"/a"]
    assert (cache.hits, cache.misses) == (2, 5) and len(calls) == 4


def test_parse_cache_keeps_whole_stats() -> None:
    cache = ParseCache()
    stats = capture_stats()
    raw = (b"a", None)
    cache.keep("/c", raw, stats)
    assert cache.reuse("/c", raw, stats.limits) is None  # only the previous tick's
    cache.next_tick()
    assert cache.reuse("/c", (b"b", None), stats.limits) is None
    changed = Limits(**{**stats.limits.__dict__, "pids_max": 4321})
    assert cache.reuse("/c", raw, changed) is None
    assert cache.reuse("/c", raw, Limits(**stats.limits.__dict__)) is stats  # equal limits
    assert cache.reuse("/c", raw, stats.limits) is stats
    cache.next_tick()
    assert cache.reuse("/c", raw, stats.limits) is stats  # kept while it is used
    cache.current.clear()
    cache.next_tick()
    assert cache.reuse("/c", raw, stats.limits) is None
    cache.parse("/d", b"a", lambda d, p: stats)
    cache.next_tick()
    assert cache.reuse("/d", (b"a",), stats.limits) is None  # a file's entry, not a cgroup's


# ---- _Files ---------------------------------------------------------------------------------


def test_files_get_many_number_text(tmp_path: Path) -> None:
    (tmp_path / "pids.max").write_text("max\n")
    (tmp_path / "cpuset.cpus").write_text("  0-1 \n")
    (tmp_path / "cpuset.mems").write_text("\n")
    (tmp_path / "memory.events").write_text("low 1\noom_kill 2\n")
    files = _Files(set())
    assert files.get(str(tmp_path / "absent")) is None and not files.any_read
    assert files.number(str(tmp_path / "absent")) is None
    assert files.text(str(tmp_path / "absent")) is None and not files.any_read
    assert files.many(None, ("/pids.max", None)) == (None, None) and not files.any_read
    assert files.many(str(tmp_path), ("/absent", None)) == (None, None) and not files.any_read
    assert files.get(str(tmp_path / "pids.max")) == b"max\n" and files.any_read
    assert files.number(str(tmp_path / "pids.max")) is None
    assert files.text(str(tmp_path / "cpuset.cpus")) == "0-1"
    assert files.text(str(tmp_path / "cpuset.mems")) is None
    got = files.many(str(tmp_path), ("/cpuset.cpus", None, "/absent", "/memory.events"))
    assert got == (b"  0-1 \n", None, None, b"low 1\noom_kill 2\n")
    assert files.keyed_of(None, "x") == {}
    assert files.keyed_of(got[3], "memory.events") == {"low": 1, "oom_kill": 2}
    assert files.notes == set()
    other = _Files(set())
    assert other.many(str(tmp_path), ("/pids.max",)) == (b"max\n",) and other.any_read


def test_files_keyed_of_goes_through_the_cache() -> None:
    cache = ParseCache()
    files = _Files(set(), cache)
    first = files.keyed_of(b"max 0\n", "/c/pids.events")
    cache.next_tick()
    assert files.keyed_of(b"max 0\n", "/c/pids.events") is first
    assert cache.hits == 1


def test_files_directory_instead_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").mkdir()
    for read in (
        lambda: _Files(set()).get(str(tmp_path / "cpu.max")),
        lambda: _Files(set()).many(str(tmp_path), ("/cpu.max",)),
    ):
        with pytest.raises(HostError) as info:
            read()
        assert type(info.value) is HostError
        assert info.value.path == str(tmp_path / "cpu.max")


def _as_nobody(work: Callable[[], object]) -> object:
    """work() in a forked child that dropped root (a root reader is never denied); its JSON."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            os.write(write, json.dumps(work()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result = json.loads(pipe.read())
    os.waitpid(child, 0)
    return result


def test_unreadable_files_are_absent_and_noted() -> None:
    base = Path(tempfile.mkdtemp(prefix="ctop-m1-noaccess-"))
    try:
        base.chmod(0o755)
        host = FakeHost(base, "v1")
        write_v1(host, V1_PATH, V1_FILES)
        cpu, memory = host.cgroup_dir(V1_PATH, "cpu"), host.cgroup_dir(V1_PATH, "memory")
        (cpu / "cpu.cfs_quota_us").chmod(0)  # read by _Files.get
        (memory / "memory.stat").chmod(0)  # read by _Files.many
        layout = detect_layout(host.root)
        # As root: everything is read (and the test is known to reach these readers).
        as_root = read_cgroup(layout, V1_PATH, set())
        assert (as_root.limits.cpu_quota_us, len(as_root.memory.stat)) == (20000, 7)

        def work() -> object:
            notes: set[str] = set()
            stats = read_cgroup(layout, V1_PATH, notes)
            return {
                "notes": sorted(notes),
                "quota": stats.limits.cpu_quota_us,
                "period": stats.limits.cpu_period_us,
                "stat": dict(stats.memory.stat),
                "current": stats.memory.current_bytes,
            }

        result = _as_nobody(work)
    finally:
        shutil.rmtree(base)
    assert result == {
        "notes": [
            "cpu.cfs_quota_us: permission denied (needs root)",
            "memory.stat: permission denied (needs root)",
        ],
        "quota": None,
        "period": 100000,
        "stat": {},
        "current": 335872,
    }


def test_dir_joins_below_the_hierarchy() -> None:
    base = Path("/sys/fs/cgroup/memory")
    assert cgroupfs._dir(base, "/Xorg/docker/a") == "/sys/fs/cgroup/memory/Xorg/docker/a"
    assert cgroupfs._dir(base, "/") == "/sys/fs/cgroup/memory"
    assert cgroupfs._join(base, "//a") == base / "a"
    # _dir is cached across tests: _join itself, uncached.
    assert cgroupfs._join(base, "/Xorg/docker/a") == base / "Xorg/docker/a"


# ---- processes ------------------------------------------------------------------------------

# This host's dockerd (see tests/test_parsers_values.py for the field positions).
DOCKERD_STAT = (
    "29733 (dockerd) S 1 29714 29261 0 -1 4194560 22708 541525 14 25 165 267 217 218 20 0 41 0 "
    "1143704 2157731840 26026 18446744073709551615 94390533545984 94390560793045 "
    "140720828082512 0 0 0 1002055680 0 2143420159 0 0 0 17 1 0 0 0 0 0 94390566447376 "
    "94390590993016 94391388385280 140720828091053 140720828091076 140720828091076 "
    "140720828092390 0\n"
)
DOCKERD_CGROUP = (
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/c2173e86cf87f273ae38dfc346a8e8fc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n"
    "0::/\n"
)
DOCKERD_NS = {  # the reference, section 1.1
    "cgroup": 4026531835,
    "mnt": 4026532180,
    "net": 4026532184,
    "pid": 4026532183,
    "time": 4026531834,
    "user": 4026531837,
    "uts": 4026532181,
}


def fake_process(
    proc: Path, pid: int, stat: str = DOCKERD_STAT, cmdline: bytes = b"/usr/sbin/dockerd\0-H\0"
) -> Path:
    directory = proc / str(pid)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stat").write_text(stat.replace("29733 (", f"{pid} (", 1))
    (directory / "status").write_text(
        f"Name:\tdockerd\nUid:\t0\t0\t0\t0\nNStgid:\t{pid}\nNSpid:\t{pid}\t7\n"
    )
    (directory / "cmdline").write_bytes(cmdline)
    (directory / "cgroup").write_text(DOCKERD_CGROUP)
    ns = directory / "ns"
    ns.mkdir(exist_ok=True)
    for kind, inode in DOCKERD_NS.items():
        if not (ns / kind).is_symlink():
            (ns / kind).symlink_to(f"{kind}:[{inode}]")
    return directory


def dockerd_process(pid: int, cmdline: tuple[str, ...] = ("/usr/sbin/dockerd", "-H")) -> Process:
    return Process(
        pid=pid,
        ppid=1,
        comm="dockerd",
        state="S",
        start_ticks=1143704,
        cpu_ticks=165 + 267,  # utime + stime
        rss_bytes=26026 * os.sysconf("SC_PAGE_SIZE"),
        threads=41,
        uid=0,
        nspid=(pid, 7),
        cmdline=cmdline,
        namespaces=DOCKERD_NS,
        cgroups=DOCKERD_ENTRIES,
    )


def test_process_read_every_field(tmp_path: Path) -> None:
    fake_process(tmp_path / "proc", 29733)
    root = HostRoot.at(tmp_path)
    assert procfs.read_process(root, 29733) == dockerd_process(29733)
    with pytest.raises(Gone):
        procfs.read_process(root, 29734)


def test_process_without_nspid_is_in_our_namespace(tmp_path: Path) -> None:
    directory = fake_process(tmp_path / "proc", 40)
    (directory / "status").write_text("Name:\tdockerd\nUid:\t5\t0\t0\t0\n")
    process = procfs.read_process(HostRoot.at(tmp_path), 40)
    assert (process.uid, process.nspid) == (5, (40,))


def test_process_reader_reuses_what_did_not_change(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    directory = fake_process(proc, 100)
    reader = procfs.ProcessReader(HostRoot.at(tmp_path))
    first = reader.read(100)
    assert reader.read(100) is first  # same stat and cgroup bytes: not parsed again
    # It ran a little: new counters, same static fields (the command line is not read again).
    (directory / "cmdline").write_bytes(b"changed\0")
    (directory / "stat").write_text(
        DOCKERD_STAT.replace(" 165 267 ", " 166 267 ").replace("29733", "100", 1)
    )
    second = reader.read(100)
    assert second.cpu_ticks == 166 + 267 and second.cmdline == ("/usr/sbin/dockerd", "-H")
    # It moved to another cgroup: re-parsed.
    (directory / "cgroup").write_text("0::/moved\n")
    assert reader.read(100).cgroups == (CgroupEntry(0, (), "/moved"),)
    # It exec'd (same pid and start time, new comm): static fields read again.
    (directory / "stat").write_text(
        DOCKERD_STAT.replace("(dockerd)", "(sh)").replace("29733", "100", 1)
    )
    assert reader.read(100).cmdline == ("changed",)


def test_read_all_sorts_skips_and_forgets(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    for pid in (300, 20, 1000):
        fake_process(proc, pid)
    (proc / "self").symlink_to("20")
    (proc / "net").mkdir()
    (proc / "stat").write_text("cpu 1 2 3 4\n")
    broken = fake_process(proc, 77)
    (broken / "stat").write_text("77 (x) R\n")
    half = fake_process(proc, 88)
    (half / "status").unlink()  # exited between its stat and its status
    for pid in range(60, 68):
        (proc / str(pid)).mkdir()  # exited before its stat was read (listed in any order)
    (fake_process(proc, 90) / "cgroup").write_text("x\n")
    (fake_process(proc, 91) / "status").write_text("Uid:\n")
    reader = procfs.ProcessReader(HostRoot.at(tmp_path))
    notes: set[str] = set()
    assert reader.read_all(notes) == [dockerd_process(p) for p in (20, 300, 1000)]
    assert notes == {
        f"{proc}/77/stat: unparsable stat line: list index out of range",
        f"{proc}/90/cgroup: expected id:controllers:path, got 'x'",
        f"{proc}/91/status: unparsable status field: list index out of range",
    }
    assert reader.read_all() == [dockerd_process(p) for p in (20, 300, 1000)]  # no notes set
    key = (300, 1143704, "dockerd")
    assert set(reader._static) == {(20, 1143704, "dockerd"), key, (1000, 1143704, "dockerd")}
    # Skipped: not read, but what is known of it is kept; the others are all read (the
    # first and the last pid each skipped once: one of them is not the last listed).
    assert [p.pid for p in reader.read_all(skip={20})] == [300, 1000]
    assert [p.pid for p in reader.read_all(skip={1000})] == [20, 300]
    assert [p.pid for p in reader.read_all(skip={300})] == [20, 1000]
    assert key in reader._static
    # Gone: forgotten.
    shutil.rmtree(proc / "300")
    assert [p.pid for p in reader.read_all()] == [20, 1000]
    assert key not in reader._static and 300 not in reader._last
    assert set(reader._last) == {20, 1000}


def test_unreadable_cmdline_is_empty() -> None:
    base = Path(tempfile.mkdtemp(prefix="ctop-m1-cmdline-"))
    try:
        base.chmod(0o755)
        (fake_process(base / "proc", 50) / "cmdline").chmod(0)
        root = HostRoot.at(base)
        assert procfs.read_process(root, 50).cmdline == ("/usr/sbin/dockerd", "-H")  # as root
        result = _as_nobody(lambda: list(procfs.read_process(root, 50).cmdline))
    finally:
        shutil.rmtree(base)
    assert result == []


def test_read_all_without_proc(tmp_path: Path) -> None:
    with pytest.raises(HostError) as info:
        procfs.ProcessReader(HostRoot.at(tmp_path)).read_all()
    assert str(info.value) == f"{tmp_path}/proc: No such file or directory"


def test_namespaces_of_this_process() -> None:
    expected = {}
    for kind in ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"):
        if os.path.exists(f"/proc/self/ns/{kind}"):
            expected[kind] = os.stat(f"/proc/self/ns/{kind}").st_ino
    assert procfs.read_namespaces(Path("/proc/self")) == expected
    assert procfs.read_namespaces("/proc/self") == expected


def test_namespaces_unreadable_or_odd_links_are_left_out(tmp_path: Path) -> None:
    ns = tmp_path / "ns"
    ns.mkdir()
    (ns / "net").symlink_to("net:[4026532184]")
    (ns / "pid").symlink_to("not a namespace")
    (ns / "uts").write_text("")  # not a link
    (ns / "user").symlink_to("user:[4026531837]")
    assert procfs.read_namespaces(tmp_path) == {"net": 4026532184, "user": 4026531837}
