"""The header's "ctop-py itself: CPU x %" against what the kernel counts for the whole process
(all threads) in /proc/self/stat, over the same window."""

from __future__ import annotations

import os
import threading
import time

import pytest

from ctop_py.ui.source import PsutilProbe

CLK_TCK = os.sysconf("SC_CLK_TCK")


def kernel_cpu_s() -> float:
    """utime + stime of this process (every thread), from /proc/self/stat."""
    with open("/proc/self/stat", "rb") as f:
        data = f.read()
    rest = data[data.rindex(b")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        x += 1


def test_self_cpu_is_the_kernels_count_for_all_threads() -> None:
    window = 10.0
    probe = PsutilProbe(window_s=window)
    k0, t0 = kernel_cpu_s(), time.monotonic()
    assert probe().cpu_percent is None  # one sample: no rate yet
    # CPU in other threads (as the collector's worker and the explorer's run), and some idle.
    threads = [threading.Thread(target=burn, args=(0.6,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(max(0.0, window - (time.monotonic() - t0)))
    own = probe()
    k1, t1 = kernel_cpu_s(), time.monotonic()
    truth = 100.0 * (k1 - k0) / (t1 - t0)
    assert own.cpu_percent is not None
    assert truth > 10.0  # the threads' work is in it (1.2 s over 10 s)
    # To 0.1 % of a core, plus the kernel's own resolution: one clock tick over the window.
    tick = 100.0 / CLK_TCK / window
    assert abs(own.cpu_percent - truth) <= 0.1 + tick, (own.cpu_percent, truth)
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    assert own.rss_bytes is not None and abs(own.rss_bytes - rss) < 8 << 20


def test_self_cpu_window_slides() -> None:
    """The figure is the last window's average, not since the start."""
    now = [0.0]
    cpu = [0.0]
    probe = PsutilProbe(window_s=10.0, clock=lambda: now[0], cputime=lambda: cpu[0])
    probe()
    for _ in range(20):  # 20 s at 50 % of a core
        now[0] += 1.0
        cpu[0] += 0.5
        probe()
    for _ in range(10):  # then 10 s idle: the window holds only those
        now[0] += 1.0
        probe()
    last = probe()
    assert last.cpu_percent == 0.0
    now[0] += 1.0
    cpu[0] += 0.1
    assert probe().cpu_percent == pytest.approx(1.0)  # 0.1 s over the last 10 s
