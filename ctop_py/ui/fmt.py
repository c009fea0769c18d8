"""Compact cell formatting, danger colours and sparklines for the UI.

Everything here returns plain strings or `rich.text.Text` built from plain strings: nothing is
ever parsed as markup. Untrusted strings go through `present.safe()` first.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from ctop_py import present
from ctop_py.present import DASH, NO_LIMIT

BLOCKS = "▁▂▃▄▅▆▇█"

# Styles (Rich style strings, fixed: never derived from data).
DANGER = "bold red"
WARN = "yellow"
OK = ""
DIM = "dim"

THROTTLE_WARN = 1.0  # % of periods
THROTTLE_DANGER = 25.0
MEMORY_WARN = 80.0  # % of limit
MEMORY_DANGER = 95.0
PIDS_DANGER = 90.0


def short_size(value: float | None) -> str:
    """Bytes in at most 5 characters: 0B, 512B, 9.5K, 512M, 1.2G."""
    if value is None:
        return DASH
    amount = float(value)
    for unit in "BKMGTP":
        if abs(amount) < 1000 or unit == "P":
            if unit == "B":
                return f"{int(amount)}B"
            return f"{amount:.1f}{unit}" if abs(amount) < 9.95 else f"{amount:.0f}{unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def short_limit(value: int | None, known: bool) -> str:
    """A limit: its size, '∞' when there is none, '–' when it is not known at all."""
    if value is None:
        return NO_LIMIT if known else DASH
    return short_size(value)


def pct(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def cores(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def seconds(value: float | None) -> str:
    if value is None:
        return DASH
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def throttle_style(value: float | None) -> str:
    if value is None:
        return OK
    if value >= THROTTLE_DANGER:
        return DANGER
    return WARN if value >= THROTTLE_WARN else OK


def memory_style(percent_of_limit: float | None) -> str:
    if percent_of_limit is None:
        return OK
    if percent_of_limit >= MEMORY_DANGER:
        return DANGER
    return WARN if percent_of_limit >= MEMORY_WARN else OK


def spark(values: Sequence[float | None], width: int, top: float | None = None) -> str:
    """The last `width` values as block characters; unknown values are blanks, not zeros."""
    recent = list(values)[-width:]
    known = [v for v in recent if v is not None]
    scale = top if top is not None else max(known, default=0.0)
    if scale <= 0:
        scale = 1.0
    chars = []
    for v in recent:
        if v is None:
            chars.append(" ")
        else:
            level = round(max(0.0, min(1.0, v / scale)) * (len(BLOCKS) - 1))
            chars.append(BLOCKS[level])
    return "".join(chars).rjust(width)


def plain(text: str, style: str = "", right: bool = False) -> Text:
    """A Text that shows `text` literally (no markup), optionally right-aligned."""
    return Text(text, style=style, justify="right" if right else "left", no_wrap=True, end="")


def untrusted(text: str | None, limit: int | None = None, style: str = "") -> Text:
    """An untrusted string (container name, image, command line) shown literally."""
    if text is None:
        return Text(DASH, style=DIM, no_wrap=True, end="")
    return Text(present.safe(text, limit), style=style, no_wrap=True, end="")
