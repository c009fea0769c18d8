"""Value checks of the steady-container read path in cgroupfs (issue 13, after issue 16's
plans): files prefetched in a tick are used instead of read again, every file read is
recorded (and only counter files, never limits), known v1 limits are not read again, and the
parse cache's per-container log can be carried to a later tick. Expected values come from the
files the tests write or from the v2 capture, never from running the reader."""

from __future__ import annotations

from pathlib import Path

from ctop_py.cgroupfs import ParseCache, _Files, read_cgroup
from ctop_py.model import CgroupStats, CpuCounters, Limits
from tests.test_readers_values import (
    CAPTURE_CPU,
    SCOPE,
    V1_PATH,
    capture_stats,
    copy_capture,
    v1_host,
    v1_stats,
)

# The v2 counter files read every tick (cgroup-v2 docs; the limits are read apart).
V2_COUNTER_FILES = (
    "cpu.stat",
    "memory.stat",
    "memory.current",
    "memory.peak",
    "memory.swap.current",
    "memory.events",
    "io.stat",
    "pids.current",
    "cpu.pressure",
    "memory.pressure",
    "io.pressure",
    "pids.events",
)


# ---- _Files with prefetched bytes and a reads record ----------------------------------------


def test_files_get_prefers_prefetched_and_records_only_real_reads(tmp_path: Path) -> None:
    for name, text in (("a", "on disk a\n"), ("b", "on disk b\n"), ("c", "on disk c\n")):
        (tmp_path / name).write_text(text)
    a, b, c, absent = (str(tmp_path / n) for n in ("a", "b", "c", "absent"))
    reads: list[tuple[str, bytes | None]] = []
    # "a" prefetched with other bytes than on disk, "b" prefetched as absent although it is
    # on disk: the prefetched value wins both times, and neither is recorded as read.
    files = _Files(set(), prefetched={a: b"prefetched a\n", b: None}, reads=reads)
    assert files.get(b) is None
    assert files.any_read is False  # an absent prefetched file is no read
    assert files.get(a) == b"prefetched a\n"
    assert files.any_read is True
    assert files.get(b) is None and files.any_read is True  # stays set
    assert reads == []
    assert files.get(c) == b"on disk c\n"
    assert files.get(absent) is None
    assert reads == [(c, b"on disk c\n"), (absent, None)]

    fresh = _Files(set(), prefetched={a: b"prefetched a\n"})
    assert fresh.get(a) == b"prefetched a\n" and fresh.any_read is True


def test_files_many_prefers_prefetched_and_records_only_real_reads(tmp_path: Path) -> None:
    for name, text in (("a", "on disk a\n"), ("b", "on disk b\n"), ("c", "on disk c\n")):
        (tmp_path / name).write_text(text)
    d = str(tmp_path)
    a, b, c, absent = (str(tmp_path / n) for n in ("a", "b", "c", "absent"))
    prefetched: dict[str, bytes | None] = {a: b"prefetched a\n", b: None}
    reads: list[tuple[str, bytes | None]] = []

    only_absent = _Files(set(), prefetched=prefetched, reads=reads)
    assert only_absent.many(d, ("/b",)) == (None,)
    assert only_absent.any_read is False and reads == []
    only_present = _Files(set(), prefetched=prefetched, reads=reads)
    assert only_present.many(d, ("/a",)) == (b"prefetched a\n",)
    assert only_present.any_read is True and reads == []

    files = _Files(set(), prefetched=prefetched, reads=reads)
    got = files.many(d, ("/b", "/a", None, "/c", "/absent", "/a"))
    assert got == (None, b"prefetched a\n", None, b"on disk c\n", None, b"prefetched a\n")
    assert files.any_read is True
    assert reads == [(c, b"on disk c\n"), (absent, None)]


# ---- read_cgroup with prefetched files and a reads record -----------------------------------


def test_v2_read_uses_prefetched_files_and_records_the_counter_files(tmp_path: Path) -> None:
    layout, scope = copy_capture(tmp_path)
    cpu_stat = (scope / "cpu.stat").read_bytes()
    assert b"nr_periods 570\n" in cpu_stat
    prefetched: dict[str, bytes | None] = {
        str(scope / "cpu.stat"): cpu_stat.replace(b"nr_periods 570\n", b"nr_periods 571\n"),
        str(scope / "pids.current"): None,  # gone since it was read, as far as this tick knows
    }
    reads: list[tuple[str, bytes | None]] = []
    # No known limits: the limit files are read too, but they are not recorded.
    stats = read_cgroup(layout, SCOPE, set(), prefetched=prefetched, reads=reads)
    expected = capture_stats()
    assert stats == CgroupStats(
        **{
            **expected.__dict__,
            "cpu": CpuCounters(**{**CAPTURE_CPU.__dict__, "nr_periods": 571}),
            "pids_current": None,
        }
    )
    wanted = {
        str(scope / name): (scope / name).read_bytes()
        for name in V2_COUNTER_FILES
        if str(scope / name) not in prefetched
    }
    assert len(reads) == len(wanted) == 10
    assert dict(reads) == wanted


def test_v1_known_limits_are_not_read_again(tmp_path: Path) -> None:
    _, layout = v1_host(tmp_path)
    known = Limits(cpu_quota_us=1, cpu_period_us=2, pids_max=3)  # not what the files say
    stats = read_cgroup(layout, V1_PATH, set(), unified_path=V1_PATH, known_limits=known)
    assert stats.limits is known
    assert stats == v1_stats(limits=known)


# ---- the parse cache's log, carried to a later tick -------------------------------------------


def test_parse_cache_log_carried_to_a_later_tick() -> None:
    def parser(data: bytes, path: str) -> tuple[bytes, str]:
        return (data, path)

    stats = capture_stats()
    raw = (b"x", None)
    cache = ParseCache()
    # Tick 1, logged: a file parsed and a cgroup's stats kept.
    cache.log = {}
    value = cache.parse("/c/f", b"1\n", parser)
    assert value == (b"1\n", "/c/f")
    cache.keep("/c", raw, stats)
    tick1 = cache.log
    assert set(tick1) == {"/c/f", "/c"}
    assert tick1["/c/f"][0] == b"1\n" and tick1["/c/f"][2] is value
    assert tick1["/c"][0] == raw and tick1["/c"][2] is stats
    # Tick 2, logged: the same bytes; the whole stats are reused, and logged.
    cache.next_tick()
    cache.log = {}
    assert cache.reuse("/c", raw, stats.limits) is stats
    assert set(cache.log) == {"/c"} and cache.log["/c"][2] is stats
    tick2 = cache.log
    cache.log = None
    # Ticks 3 and 4: the container is not read (its files did not change); its entries are
    # carried instead, so tick 5 still finds them.
    for log in (tick2, {**tick1, **tick2}):
        cache.next_tick()
        cache.carry(log)
    cache.next_tick()
    assert cache.reuse("/c", raw, stats.limits) is stats
    assert cache.parse("/c/f", b"1\n", parser) is value
    assert (cache.hits, cache.misses) == (1, 1)
    # Nothing carried: gone after one tick.
    cache.next_tick()
    cache.next_tick()
    assert cache.reuse("/c", raw, stats.limits) is None
