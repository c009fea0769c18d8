"""glibc's allocator, set for a process that runs for hours (the app): one arena, a fixed
size from which a block is mapped on its own, and the free pages handed back every few
seconds (the app's timer, `ui.app.TRIM_EVERY_S`). Only glibc has these calls (through
ctypes, no build step); elsewhere (musl, macOS, no ctypes) every function here does nothing
and says so.

Measured at 100 moving containers (benchmarks/rss_smaps.py): each thread that allocates
gets an arena of its own (64 MiB reserved, what it touched kept), and the free chunks
between live ones in the heap and the arenas stay resident until something calls
malloc_trim, which glibc does only for the top of the main heap.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

# mallopt's parameters (malloc.h)
M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
# One arena (the main heap) for every thread: they allocate holding the GIL, mostly in
# turn, so they seldom wait on each other. At 100 moving containers, side by side, RSS after 4 to 5
# minutes: 59.2 MiB with 1 against 60.3 with glibc's default (8 a core), and, with the
# trim below, 62.4 against 64.7 with 2 (benchmarks/rss_smaps.py).
ARENA_MAX = 1
# A fixed size from which a block gets its own mapping (given back whole when freed). glibc's
# own threshold starts at 128 KiB but rises to the size of each mapped block freed (up to 32
# MiB): after the first large buffer freed, the next ones (a ring segment packed, a sample's
# JSON) are cut from the heap and leave holes between live chunks that malloc_trim cannot
# give back. Fixed, it stays (and glibc's trim threshold with it). At 100 moving containers
# over 6 minutes, side by side (benchmarks/rss_smaps.py, MALLOC_MMAP_THRESHOLD_ for the
# same setting), 30 s -> 6 min (peak), fixed against glibc's: 54.1 -> 53.5 (55.8) against
# 53.2 -> 56.4 (56.6) MiB in one run; 53.0 -> 55.1 (56.1) against 54.7 -> 55.4 (56.2) in a
# second: lower or level, never higher.
MMAP_THRESHOLD = 128 * 1024

_libc: Any = None
_looked = False
_tuned = False  # trim() acts only in a process that asked for tune() (the app)


def _glibc() -> Any:
    """The C library's symbols when it is glibc (it alone has gnu_get_libc_version)."""
    global _libc, _looked
    if not _looked:
        _looked = True
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None)
                libc.gnu_get_libc_version.restype = ctypes.c_char_p
                libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
                libc.malloc_trim.argtypes = (ctypes.c_size_t,)
            except (OSError, AttributeError):
                libc = None
            _libc = libc
    return _libc


def glibc_version() -> str | None:
    libc = _glibc()
    return None if libc is None else str(libc.gnu_get_libc_version().decode())


def tune(arena_max: int = ARENA_MAX, mmap_threshold: int = MMAP_THRESHOLD) -> dict[str, int] | None:
    """Set the allocator for a long run: call before threads start (an arena, once a thread
    has one, is kept). Returns mallopt's answer for each setting (1: applied, 0: refused),
    or None where the C library is not glibc."""
    global _tuned
    libc = _glibc()
    if libc is None:
        return None
    _tuned = True
    return {
        "M_ARENA_MAX": int(libc.mallopt(M_ARENA_MAX, arena_max)),
        "M_MMAP_THRESHOLD": int(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)),
    }


def trim() -> bool | None:
    """Give the free pages of every arena back to the kernel (malloc_trim(0)): True if some
    were, None where the C library is not glibc or tune() was not called (a command that
    ends soon, a test). Costs a walk over the free chunks (~0.5-0.9 ms at 100 containers):
    the app calls it from its UI thread's timer every TRIM_EVERY_S."""
    libc = _glibc()
    if libc is None or not _tuned:
        return None
    return bool(libc.malloc_trim(0))
