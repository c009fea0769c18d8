"""The app driven in a child process (as nobody, under strace): one script, the steps apart.

The child collects twice, finds the container whose id is its first argument, runs `before`,
opens that container's screen and runs `after`. The steps are written at the margin and indented
here; the names in scope are `app`, `pilot`, `view`, `plain` (a Static's content as text) and the
imports below.
"""

from __future__ import annotations

import textwrap

_SCRIPT = """
import asyncio, sys, time
from rich.text import Text
from textual.widgets import Static
from ctop_py.host import HostRoot
from ctop_py.launch import AppOptions
from ctop_py.sources import LiveSource
from ctop_py.ui.app import make_app
from ctop_py.ui.history import container_key
from ctop_py.ui.widgets.logs_view import LogsView

def plain(content):
    return content.plain if isinstance(content, Text) else content

async def main() -> None:
    source = LiveSource(HostRoot())
    app = make_app(source, AppOptions(autostart=False))
    async with app.run_test(size=(200, 50)) as pilot:
        for _ in range(2):
            await app.collect().wait()
            await pilot.pause()
        view = next(v for v in app.snapshot.containers if v.id == sys.argv[1])
{before}
        app.open_container(container_key(view))
        await pilot.pause()
{after}
    source.close()

asyncio.run(main())
"""


def app_script(after: str, before: str = "pass") -> str:
    """The script's text: `before` runs before the container is opened, `after` once it is."""
    indent = " " * 8
    return _SCRIPT.format(
        before=textwrap.indent(textwrap.dedent(before).strip(), indent),
        after=textwrap.indent(textwrap.dedent(after).strip(), indent),
    )
