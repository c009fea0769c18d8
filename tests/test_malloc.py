"""The allocator settings the app makes at start (ctop_py.malloc): applied where the C library
is glibc (its own report, malloc_stats, says how many arenas the threads got), and nothing,
without an error, where it is not."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from ctop_py import malloc
from ctop_py.demo import raw_samples
from ctop_py.ring import SampleRing
from tests.conftest import require


def _glibc_here() -> str | None:
    """glibc's version as the C library reports it to confstr (not through ctop_py)."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        return None
    return text.split()[-1] if text and text.startswith("glibc") else None


# Eight threads each malloc while all are alive, then glibc prints its arenas to stderr.
_THREADS = textwrap.dedent(
    """
    import ctypes, sys, threading
    from ctop_py import malloc
    if sys.argv[1] == "tuned":
        print(malloc.tune(arena_max=2))
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    barrier = threading.Barrier(8)
    def work():
        barrier.wait()
        [libc.malloc(64) for _ in range(100)]
        barrier.wait()
    threads = [threading.Thread(target=work) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    sys.stdout.flush()
    libc.malloc_stats()
    """
)


def _run(script: str, mode: str) -> subprocess.CompletedProcess[str]:
    """`script` in a fresh interpreter, untouched by MALLOC_* settings in the environment."""
    proc = subprocess.run(
        [sys.executable, "-c", script, mode],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _arenas(mode: str) -> tuple[str, int]:
    proc = _run(_THREADS, mode)
    return proc.stdout.strip(), proc.stderr.count("Arena ")


def test_tune_limits_the_arenas_the_threads_get() -> None:
    version = _glibc_here()
    require(version is not None, "the C library here is not glibc")
    assert malloc.glibc_version() == version
    untuned = _arenas("untuned")[1]
    tuned_out, tuned = _arenas("tuned")
    assert tuned_out == "{'M_ARENA_MAX': 1, 'M_MMAP_THRESHOLD': 1}"  # mallopt's 1: applied
    # Without it glibc gives concurrent threads arenas of their own (up to 8 a core).
    assert untuned > 2, untuned
    assert tuned == 2  # the main heap and one for the eight threads


# A 1 MiB block (mapped) freed, then a 200 KiB one: glibc's own threshold has risen to 1 MiB,
# so the second comes from the heap; with tune()'s fixed threshold it gets a mapping of its
# own. Prints mallinfo2's count of mapped blocks (hblks) before and while it is held.
_MAPPED = textwrap.dedent(
    """
    import ctypes, sys
    from ctop_py import malloc
    if sys.argv[1] == "tuned":
        malloc.tune()
    class Mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    libc.mallinfo2.restype = Mallinfo2
    libc.free(libc.malloc(1 << 20))
    before = libc.mallinfo2().hblks
    held = libc.malloc(200 * 1024)
    print(before, libc.mallinfo2().hblks)
    libc.free(held)
    """
)


def _mapped_blocks(mode: str) -> tuple[int, int]:
    before, held = _run(_MAPPED, mode).stdout.split()
    return int(before), int(held)


def test_tune_fixes_the_size_from_which_a_block_is_mapped() -> None:
    require(_glibc_here() is not None, "the C library here is not glibc")
    before, held = _mapped_blocks("untuned")
    assert held == before  # glibc's threshold rose with the 1 MiB block: from the heap
    before, held = _mapped_blocks("tuned")
    assert held == before + 1  # a mapping of its own, given back whole when freed


def test_trim_acts_only_once_tuned(monkeypatch: pytest.MonkeyPatch) -> None:
    require(_glibc_here() is not None, "the C library here is not glibc")
    monkeypatch.setattr(malloc, "_tuned", False)
    assert malloc.trim() is None  # a test, a one-shot command: left alone
    monkeypatch.setattr(malloc, "_tuned", True)
    assert malloc.trim() in (True, False)


@pytest.mark.parametrize("how", ["not linux", "no such library", "not glibc"])
def test_harmless_where_glibc_is_absent(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setattr(malloc, "_looked", False)
    monkeypatch.setattr(malloc, "_libc", None)
    monkeypatch.setattr(malloc, "_tuned", False)
    if how == "not linux":
        monkeypatch.setattr(sys, "platform", "darwin")
    elif how == "no such library":

        def fail(*args: Any) -> None:
            raise OSError("no libc")

        monkeypatch.setattr(ctypes, "CDLL", fail)
    else:  # musl: a C library without gnu_get_libc_version

        class Musl:
            def __getattr__(self, name: str) -> Any:
                raise AttributeError(name)

        monkeypatch.setattr(ctypes, "CDLL", lambda *args: Musl())
    assert malloc.glibc_version() is None
    assert malloc.tune() is None
    assert malloc.trim() is None
    assert malloc._tuned is False


def test_the_app_trims_from_its_timer_not_the_ring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """malloc_trim runs on the UI thread's timer, each time TRIM_EVERY_S has passed; the sample
    ring (on the worker thread) leaves the allocator alone."""
    import time

    from ctop_py import demo
    from ctop_py.launch import AppOptions
    from ctop_py.ui import app as ui_app
    from ctop_py.ui.source import StaticSource

    calls: list[float] = []
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    monkeypatch.setattr(malloc, "trim", lambda: calls.append(now[0]))
    ring = SampleRing(keyframe_every=10)
    for sample in raw_samples(35):
        ring.append(sample)
    assert calls == []
    app = ui_app.make_app(StaticSource(demo.snapshots(2)), AppOptions(autostart=False))
    app._collecting = True  # the timer's check alone, no collection started
    every = ui_app.TRIM_EVERY_S
    for at in (1.0, every, every + 1, 2 * every - 0.5, 2 * every + 0.5):
        now[0] = 1000.0 + at
        app.tick()
    assert calls == [1000.0 + every, 1000.0 + 2 * every + 0.5]


@pytest.mark.parametrize("setting", [None, "off"])
def test_the_app_tunes_the_allocator_as_it_starts_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, setting: str | None
) -> None:
    import gc

    from textual.app import App

    from ctop_py import demo
    from ctop_py.launch import AppOptions
    from ctop_py.ui import app as ui_app
    from ctop_py.ui.source import StaticSource

    calls: list[str] = []
    monkeypatch.setattr(malloc, "tune", lambda: calls.append("tune"))
    monkeypatch.setattr(gc, "freeze", lambda: None)  # not this test process's objects

    def textual_run(self: App[int], *args: Any, **kwargs: Any) -> int:
        calls.append("textual")
        return 0

    monkeypatch.setattr(App, "run", textual_run)
    if setting is None:
        monkeypatch.delenv("CTOP_MALLOC", raising=False)
    else:
        monkeypatch.setenv("CTOP_MALLOC", setting)
    app = ui_app.make_app(StaticSource(demo.snapshots(2)), AppOptions(autostart=False))
    assert app.run() == 0
    # Before Textual's run starts its threads.
    assert calls == (["tune", "textual"] if setting is None else ["textual"])
