"""Plain-text tables for stacks, changes, provenance and listings (their JSON is
`ctop_py.export.layers`, through the one encoder).

Text output escapes control characters, because names and history are untrusted.
"""

from __future__ import annotations

import re

from ctop_py import present
from ctop_py.layers.changes import Changes
from ctop_py.layers.listing import Listing
from ctop_py.layers.provenance import Provenance
from ctop_py.layers.stack import Layer, LayerRole, MountStack

_WHAT_WIDTH = 48
_INIT_SHOWN = 3


def _clip(text: str, limit: int = _WHAT_WIDTH) -> str:
    """Escape first (escapes lengthen the text), then cut to the column width."""
    shown = present.safe(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _clip_left(text: str, limit: int = _WHAT_WIDTH) -> str:
    """For paths, whose informative end is on the right (…/snapshots/12/fs)."""
    shown = present.safe(text)
    return shown if len(shown) <= limit else "…" + shown[-(limit - 1) :]


def _size(value: int | None) -> str:
    return present.size(value)


def _lines(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def changes_summary(changes: Changes) -> str:
    text = f"+ {changes.added} added, ~ {changes.modified} modified, - {changes.deleted} deleted"
    return text + (" (truncated)" if changes.truncated else "")


def _layer_row(layer: Layer) -> list[str]:
    mode = "ro" if layer.read_only else "rw"
    if layer.role is LayerRole.INIT:
        shown = ", ".join(present.safe(p) for p in layer.contents[:_INIT_SHOWN])
        if len(layer.contents) > _INIT_SHOWN:
            shown += ", …"
        name = layer.layer_id or layer.path
        if re.match(r"^[0-9a-f]{64}-init$", name):
            name = name[:12] + "-init"  # the mount id, shortened like docker's ids
        return [layer.label, _clip(name), mode, _size(layer.size), shown]
    if layer.instruction is not None:
        what = _clip(layer.instruction)
        detail = ""
    else:
        what = "? " + _clip_left(layer.path)
        detail = "instruction unknown"
    if layer.position == 1:
        detail = (detail + "  (base)").strip()
    if not layer.exists:
        detail = (detail + "  (missing on disk)").strip()
    return [layer.label, what, mode, _size(layer.size), detail]


def format_stack(stack: MountStack, changes: Changes | None = None) -> str:
    """The stack as a table, top to bottom, then the other mounts and any warnings."""
    rows: list[list[str]] = [["merged", "/", "", "", "(what the container sees)"]]
    if stack.overlay is None:
        rows[0][4] = f"({present.safe(stack.root_mount.fstype)}, not an overlay)"
    if stack.upper is not None:
        size = _size(changes.upper_size) if changes else ""
        detail = changes_summary(changes) if changes else ""
        rows.append(["upper", "container layer", "rw", size, detail])
    rows.extend(_layer_row(layer) for layer in stack.below_upper)
    rows.extend(_layer_row(layer) for layer in stack.data_layers)
    out = _lines(rows)
    if stack.mounts:
        out.append("")
        out.append("mounts")
        mount_rows = [
            [
                "  " + present.safe(m.mount_point),
                m.kind,
                present.safe(m.fstype),
                "ro" if m.read_only else "rw",
                present.safe(m.root if m.kind in ("bind", "volume") else m.source),
            ]
            for m in stack.mounts
        ]
        out.extend(_lines(mount_rows))
    if changes is not None and changes.skipped:
        out.append(f"skipped {len(changes.skipped)} unreadable entries in the upper layer")
    out.extend(f"warning: {present.safe(w)}" for w in stack.warnings)
    return "\n".join(out)


def format_changes(changes: Changes) -> str:
    """`docker diff`-like lines (A/C/D path) with sizes, then a summary."""
    rows = [
        [c.kind.letter, present.safe(c.path), "" if c.size is None else _size(c.size)]
        for c in changes.changes
    ]
    out = _lines(rows) if rows else []
    out.append(changes_summary(changes) + f", {_size(changes.upper_size)} in the upper layer")
    out.extend(f"skipped {present.safe(s.path)}: {present.safe(s.reason)}" for s in changes.skipped)
    return "\n".join(out)


def format_provenance(found: Provenance) -> str:
    head = present.safe(found.path)
    if found.provider is not None:
        kind = found.file_type.value if found.file_type else "?"
        out = [f"{head}: {kind} from {found.provider.layer.label}"]
    else:
        out = [f"{head}: not in the merged view ({present.safe(found.hidden_by or 'absent')})"]
    rows = []
    for hit in found.hits:
        target = f" → {present.safe(hit.symlink_target)}" if hit.symlink_target else ""
        opaque = " (opaque)" if hit.opaque else ""
        rows.append(
            [
                "  " + hit.layer.label,
                hit.state.value,
                hit.file_type.value + target + opaque,
                _size(hit.size) if hit.file_type.value == "file" else "",
                _clip(hit.layer.instruction or ""),
            ]
        )
    if rows:
        out.extend(_lines(rows))
    return "\n".join(out)


def format_listing(listing: Listing) -> str:
    if not listing.exists:
        return f"{present.safe(listing.path)}: not a directory here"
    rows = []
    for e in listing.entries:
        name = present.safe(e.name) + ("/" if e.file_type.value == "dir" else "")
        if e.symlink_target is not None:
            name += f" → {present.safe(e.symlink_target)}"
        rows.append(
            [
                f"{e.mode & 0o7777:04o}",
                e.file_type.value + (" opaque" if e.opaque else ""),
                _size(e.size) if e.file_type.value == "file" else "",
                e.layer or "",
                name,
            ]
        )
    out = _lines(rows) if rows else []
    if listing.truncated:
        out.append(f"… {listing.total - len(listing.entries)} more")
    return "\n".join(out)
