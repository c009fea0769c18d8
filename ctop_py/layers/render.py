"""JSON-able dicts and plain-text tables for stacks, changes, provenance and listings.

Dicts keep exact strings (file names are surrogateescape'd str: serialise them with
json.dumps' default ensure_ascii=True, which writes lone surrogates as \\udcXX escapes).
Text output escapes control characters, because names and history are untrusted.
"""

from __future__ import annotations

import re
from typing import Any

from ctop_py import present
from ctop_py.layers.changes import Changes
from ctop_py.layers.listing import Entry, Listing, Walk
from ctop_py.layers.provenance import LayerHit, Provenance
from ctop_py.layers.stack import Layer, LayerRole, MountStack
from ctop_py.mounts import MountInfo

_WHAT_WIDTH = 48
_INIT_SHOWN = 3


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    return {
        "label": layer.label,
        "role": layer.role.value,
        "position": layer.position,
        "path": layer.path,
        "mount_path": layer.mount_path,
        "read_only": layer.read_only,
        "exists": layer.exists,
        "layer_id": layer.layer_id,
        "chain_id": layer.chain_id,
        "diff_id": layer.diff_id,
        "size": layer.size,
        "created_by": layer.created_by,
        "created": layer.created,
        "comment": layer.comment,
        "instruction": layer.instruction,
        "contents": list(layer.contents),
    }


def mount_to_dict(mount: MountInfo) -> dict[str, Any]:
    return {
        "mount_id": mount.mount_id,
        "parent_id": mount.parent_id,
        "device": f"{mount.major}:{mount.minor}",
        "target": mount.mount_point,
        "root": mount.root,
        "source": mount.source,
        "fstype": mount.fstype,
        "kind": mount.kind,
        "read_only": mount.read_only,
        "mount_options": list(mount.mount_options),
        "optional_fields": list(mount.optional_fields),
        "super_options": list(mount.super_options),
    }


def stack_to_dict(stack: MountStack) -> dict[str, Any]:
    overlay = stack.overlay
    return {
        "pid": stack.pid,
        "container_id": stack.container_id,
        "runtime": stack.runtime,
        "image_id": stack.image_id,
        "merged": {"path": "/", "host_path": stack.merged_path},
        "overlay": None
        if overlay is None
        else {
            "lowerdirs": list(overlay.lowerdirs),
            "datadirs": list(overlay.datadirs),
            "upperdir": overlay.upperdir,
            "workdir": overlay.workdir,
            "options": list(overlay.other),
        },
        "layers": [layer_to_dict(layer) for layer in stack.layers],
        "data_layers": [layer_to_dict(layer) for layer in stack.data_layers],
        "root_mount": mount_to_dict(stack.root_mount),
        "mounts": [mount_to_dict(m) for m in stack.mounts],
        "warnings": list(stack.warnings),
    }


def changes_to_dict(changes: Changes) -> dict[str, Any]:
    return {
        "added": changes.added,
        "modified": changes.modified,
        "deleted": changes.deleted,
        "upper_size": changes.upper_size,
        "truncated": changes.truncated,
        "changes": [
            {
                "path": c.path,
                "kind": c.kind.letter,
                "kind_code": c.kind.value,
                "type": c.file_type.value,
                "size": c.size,
            }
            for c in changes.changes
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in changes.skipped],
    }


def _hit_to_dict(hit: LayerHit) -> dict[str, Any]:
    return {
        "layer": hit.layer.label,
        "layer_path": hit.layer.path,
        "instruction": hit.layer.instruction,
        "state": hit.state.value,
        "type": hit.file_type.value,
        "size": hit.size,
        "mode": f"{hit.mode & 0o7777:04o}",
        "symlink_target": hit.symlink_target,
        "opaque": hit.opaque,
    }


def provenance_to_dict(found: Provenance) -> dict[str, Any]:
    return {
        "path": found.path,
        "exists": found.exists,
        "type": found.file_type.value if found.file_type else None,
        "provider": _hit_to_dict(found.provider) if found.provider else None,
        "hits": [_hit_to_dict(h) for h in found.hits],
        "hidden_by": found.hidden_by,
        "skipped": [{"path": s.path, "reason": s.reason} for s in found.skipped],
    }


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "type": entry.file_type.value,
        "size": entry.size,
        "mode": f"{entry.mode & 0o7777:04o}",
        "uid": entry.uid,
        "gid": entry.gid,
        "mtime_ns": entry.mtime_ns,
        "symlink_target": entry.symlink_target,
        "opaque": entry.opaque,
        "layer": entry.layer,
    }


def listing_to_dict(listing: Listing) -> dict[str, Any]:
    return {
        "path": listing.path,
        "exists": listing.exists,
        "total": listing.total,
        "truncated": listing.truncated,
        "entries": [entry_to_dict(e) for e in listing.entries],
        "skipped": [{"path": s.path, "reason": s.reason} for s in listing.skipped],
    }


def walk_to_dict(walk: Walk) -> dict[str, Any]:
    return {
        "path": walk.path,
        "files": walk.files,
        "dirs": walk.dirs,
        "total_size": walk.total_size,
        "truncated": walk.truncated,
        "entries": [{"path": w.path, **entry_to_dict(w.entry)} for w in walk.entries],
        "skipped": [{"path": s.path, "reason": s.reason} for s in walk.skipped],
    }


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
