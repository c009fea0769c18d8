"""The container layer's changes (`docker diff`) computed from an upper directory with 10,000
and 100,000 entries, against a synthetic image layer (plain directories under /tmp).

The upper tree looks like a container that installed packages and edited some files: 80 %
new files in new directories, 10 % new files in directories of the image, 8 % modified copies
of image files, 2 % whiteouts (deleted image files, char device 0:0 as overlayfs writes them;
skipped when mknod is not permitted), and one opaque directory when trusted.* xattrs can be
set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any

from benchmarks.util import log, spread
from ctop_py.layers import diff_dirs

FILES_PER_DIR = 50


def build(base: Path, upper_files: int) -> dict[str, Any]:
    """lower/ (the image: upper_files / 5 files) and upper/ (upper_files entries)."""
    if base.exists():
        shutil.rmtree(base)
    lower, upper = base / "lower", base / "upper"
    lower.mkdir(parents=True)
    upper.mkdir()
    lower_count = max(upper_files // 5, FILES_PER_DIR)
    lower_dirs = []
    for i in range(lower_count // FILES_PER_DIR):
        d = lower / "usr" / "lib" / f"pkg{i:05d}"
        d.mkdir(parents=True)
        lower_dirs.append(d)
        for j in range(FILES_PER_DIR):
            (d / f"file{j:03d}.so").write_bytes(b"x" * 64)
    new_in_new = upper_files * 80 // 100
    new_in_old = upper_files * 10 // 100
    modified = upper_files * 8 // 100
    deleted = upper_files - new_in_new - new_in_old - modified
    counts = {"made_new_in_new_dirs": 0, "made_new_in_image_dirs": 0, "made_modified": 0,
              "made_whiteouts": 0}  # fmt: skip
    for i in range(new_in_new):
        d = upper / "opt" / "app" / f"mod{i // FILES_PER_DIR:05d}"
        if i % FILES_PER_DIR == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i % FILES_PER_DIR:03d}.py").write_bytes(b"print(1)\n")
        counts["made_new_in_new_dirs"] += 1
    for i in range(new_in_old):
        rel = lower_dirs[i % len(lower_dirs)].relative_to(lower)
        d = upper / rel
        d.mkdir(parents=True, exist_ok=True)
        (d / f"new{i:06d}.so").write_bytes(b"y" * 32)
        counts["made_new_in_image_dirs"] += 1
    image_files = [(d, f"file{j:03d}.so") for d in lower_dirs for j in range(FILES_PER_DIR)]
    for i in range(min(modified, len(image_files))):
        d, name = image_files[i]
        target = upper / d.relative_to(lower)
        target.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(b"changed content, longer than before")
        counts["made_modified"] += 1
    whiteouts_ok = True
    for i in range(deleted):
        d, name = image_files[-1 - i]
        target = upper / d.relative_to(lower)
        target.mkdir(parents=True, exist_ok=True)
        try:
            os.mknod(target / name, stat.S_IFCHR | 0o000, os.makedev(0, 0))
            counts["made_whiteouts"] += 1
        except OSError:
            whiteouts_ok = False
            break
    opaque = False
    with contextlib.suppress(OSError):
        d = upper / "etc" / "replaced"
        d.mkdir(parents=True)
        (d / "config").write_text("new\n")
        (lower / "etc" / "replaced").mkdir(parents=True)
        (lower / "etc" / "replaced" / "old-config").write_text("old\n")
        os.setxattr(d, "trusted.overlay.opaque", b"y")
        opaque = True
    entries = sum(len(files) + len(dirs) for _, dirs, files in os.walk(upper))
    return {
        "upper_entries": entries,
        "lower_files": lower_count,
        **counts,
        "whiteouts_possible": whiteouts_ok,
        "opaque_dir": opaque,
    }


def bench_changes(workdir: Path, upper_files: int, repeats: int = 3) -> dict[str, Any]:
    base = workdir / f"layers-{upper_files}"
    t0 = time.monotonic()
    shape = build(base, upper_files)
    built_s = time.monotonic() - t0
    try:
        times = []
        changes = None
        for _ in range(repeats):
            t = time.perf_counter()
            changes = diff_dirs(base / "upper", [base / "lower"])
            times.append(time.perf_counter() - t)
        assert changes is not None
        result = {
            **shape,
            "build_s": round(built_s, 1),
            "seconds": spread(times),
            "changes": len(changes.changes),
            "added": changes.added,
            "modified": changes.modified,
            "deleted": changes.deleted,
            "skipped": len(changes.skipped),
        }
        log(
            f"  layers: {shape['upper_entries']} upper entries -> {len(changes.changes)} "
            f"changes in {result['seconds']['median']:.2f} s"
        )
        return result
    finally:
        shutil.rmtree(base, ignore_errors=True)
