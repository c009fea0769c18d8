"""The Textual UI: the only package of ctop-py that imports Textual or Rich.

Built by `ctop_py.ui.app.make_app(source, options)`, which `ctop_py.cli` runs. Snapshots come
from a source (`ctop_py.ui.source`): live (Collector + derive in a worker thread), a recording,
or static (tests, screenshots).
"""

from __future__ import annotations

import sys


def _asyncio_without_ssl() -> None:
    """Import asyncio (Textual's loop) without the `ssl` module it imports only in case a
    connection asks for TLS, which none of the app's does: `ssl` loads libssl and libcrypto,
    4.1 MiB of the app's RSS at start (2.9 of it their mapped pages). `ssl` is importable again
    right after, as it was (the Engine's SDK over TCP with TLS imports it when it needs it);
    asyncio alone keeps no TLS (its loops say "stdlib ssl module not available")."""
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return  # too late or already paid: nothing to gain
    sys.modules["ssl"] = None  # type: ignore[assignment]  # `import ssl` raises ImportError
    try:
        import asyncio  # noqa: F401
    finally:
        if sys.modules.get("ssl", False) is None:
            del sys.modules["ssl"]


_asyncio_without_ssl()
