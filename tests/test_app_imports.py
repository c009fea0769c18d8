"""The app runs without loading `ssl` (libssl and libcrypto: ~4 MiB of its RSS, for TLS that
no connection of the app asks for): not in the process's mappings (the kernel's
/proc/self/maps) after its modules are imported and it has drawn frames; `ssl` still imports
and works afterwards, for what needs it (the Engine's SDK over TCP with TLS)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

SCRIPT = """
import json, sys
from ctop_py import cli, demo
from ctop_py.launch import AppOptions
from ctop_py.ui import app as ui_app
from ctop_py.ui.source import StaticSource
import asyncio  # after the app's modules, as `ctop-py` runs

def tls_libraries():
    with open("/proc/self/maps") as f:
        return sorted({line.split()[-1] for line in f if "libssl" in line or "libcrypto" in line})

async def frames():
    app = ui_app.make_app(StaticSource(demo.snapshots(3)), AppOptions())
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await pilot.pause(0.2)
        return app.snapshot is not None

shown = asyncio.run(frames())
seen = {"shown": shown, "ssl": "ssl" in sys.modules or "_ssl" in sys.modules,
        "mapped": tls_libraries()}
import ssl
context = ssl.create_default_context()
seen["after"] = {"context": type(context).__name__, "mapped": bool(tls_libraries())}
print(json.dumps(seen))
"""


def test_the_app_runs_without_ssl_loaded_and_ssl_still_imports() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["shown"] is True
    assert seen["ssl"] is False and seen["mapped"] == []
    # What needs TLS still gets it: the module, and its libraries mapped once it is imported.
    assert seen["after"] == {"context": "SSLContext", "mapped": True}
