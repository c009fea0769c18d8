"""Textual's caches that keep removed widgets alive, emptied when a screen is shown again.

Two of Textual's methods are memoised with `functools.lru_cache`, whose keys hold `self`:
`StylesCache.get_inner_outer` (1,024 entries; textual#6665, open upstream) keeps each
widget's StylesCache with the lines it rendered, and `DataTable._get_styles_to_render_cell`
(32 entries) keeps whole tables with their rows. Neither lets go when the widget is removed,
only when newer entries push it out. A visit to a container screen left about 165
StylesCaches (3.2 MiB of Python objects, more of RSS) and its Processes and Events tables.
Emptied each time a live screen comes back on top (the one above it was just removed), they
go; the live widgets make their styles again when they next render (a few Style objects from
colours and flags; Textual empties the second itself on a theme change). Widgets removed
within a screen (the Footer's keys when the focus moves) wait for the next time, at most
the caches' sizes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# (module, class, method): private names, looked up so that a Textual without them (the
# dependency allows any 8.x) only leaves its cache as it is.
_MEMOISED = (
    ("textual._styles_cache", "StylesCache", "get_inner_outer"),
    ("textual.widgets._data_table", "DataTable", "_get_styles_to_render_cell"),
)


def _clearers() -> tuple[Callable[[], None], ...]:
    found = []
    for module, owner, name in _MEMOISED:
        try:
            cls = getattr(importlib.import_module(module), owner, None)
        except ImportError:
            continue
        clear = getattr(getattr(cls, name, None), "cache_clear", None)
        if callable(clear):
            found.append(clear)
    return tuple(found)


_CLEARERS = _clearers()


def forget_removed_widgets() -> None:
    """Empty the memo caches whose keys hold removed widgets."""
    for clear in _CLEARERS:
        clear()
