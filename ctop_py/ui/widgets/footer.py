"""Textual's Footer without its leak (textual#6666, open upstream).

The Footer is recomposed whenever the bindings change: each time its screen is shown again,
and when the focus moves (the filter opened and closed). Each compose makes new FooterKeys
bound to the Footer's `compact` (`data_bind`), which leaves a watcher entry holding the key
on the Footer. Textual drops the entries of closed keys only when `compact` changes, which it
never does here. So every key, with its styles and rendered lines, stays in memory: on the
list screen 34 keys a visit to a container screen (~0.55 MiB of Python objects a visit:
tracemalloc, 3.76 MiB with both leaks, 3.21 with this one fixed).
Here the closed keys' entries are dropped before each new set is made.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter

# Where textual.reactive._watch keeps the watchers of an object's reactives.
_WATCHERS = "__watchers"


class Footer(TextualFooter):
    def compose(self) -> ComposeResult:
        # A recompose has removed (closed) the previous keys by now.
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, _WATCHERS, {})
        for entries in watchers.values():
            entries[:] = [entry for entry in entries if not _closed(entry[0])]
        yield from super().compose()


def _closed(node: object) -> bool:
    return bool(getattr(node, "_closing", False) or getattr(node, "_closed", False))
