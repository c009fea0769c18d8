"""Units, formatting and string sanitising shared by the UI and the CLI's text output.

The package holds every plain-text renderer the CLI and the app share (no Textual, no Rich):
`containers` (the snapshot table), `namespaces`, `net`, `stacks`, `layers` (the app's pane),
`layerstack` and `layertree` (`ctop-py layers` and the explorer). It imports the
model and the readers' records, never `commands` or `ui`."""

from __future__ import annotations

import re
import unicodedata

DASH = "–"  # unknown: never shown as 0
NO_LIMIT = "∞"

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe(text: str, limit: int | None = None) -> str:
    """Make an untrusted string harmless on a terminal: control characters (ESC, CR, LF, NUL,
    C1) become visible escapes, bidi overrides are escaped, invalid UTF-8 (surrogate escapes)
    is shown as \\xNN. Markup is not interpreted here: the UI passes the result as plain Text."""
    if text.isascii() and text.isprintable() and (limit is None or len(text) <= limit):
        return text  # nothing to escape or cut (most names and images: every changed row's)
    return _escaped(text, limit)


def _escaped(text: str, limit: int | None) -> str:
    """`safe` character by character."""
    out = []
    for index, ch in enumerate(text):
        if limit is not None and index >= limit:
            out.append("…")
            break
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape'd byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif _CONTROL.match(ch):
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}"))
        elif unicodedata.category(ch) == "Cf":  # format chars: RLO, LRM, zero-width joiners
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def size(value: int | float | None, limit_meaning_none: bool = False) -> str:
    """Bytes as 1.5 MiB; None as '–' (or '∞' when None means "no limit")."""
    if value is None:
        return NO_LIMIT if limit_meaning_none else DASH
    amount = float(value)
    for unit in _UNITS:
        if abs(amount) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(amount)} B"
            return f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def rate(value: float | None) -> str:
    return DASH if value is None else size(value) + "/s"


def percent(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}f}%"


def cores(value: float | None) -> str:
    return NO_LIMIT if value is None else f"{value:.2f}"


def count(value: int | None, limit_meaning_none: bool = False) -> str:
    if value is None:
        return NO_LIMIT if limit_meaning_none else DASH
    return str(value)


def short_id(container_id: str) -> str:
    return container_id[:12]


def table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """A plain-text table with columns sized to their content."""
    right = right or set()
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def log_text(text: str) -> str:
    """A log line for a terminal: tabs kept, a TTY's trailing CR dropped, every other control
    character and escape sequence shown as a visible escape (see `safe`)."""
    if text.endswith("\r"):
        text = text[:-1]
    return "\t".join(safe(part) for part in text.split("\t"))
