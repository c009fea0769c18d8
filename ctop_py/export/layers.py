"""The `layers ... --json` schema: overrides of the one encoder for the layer records whose
documented JSON differs from their fields (renamed keys, a file mode in octal, an enum's
letter, derived counts). Registered in `ctop_py.export.json.all_overrides`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctop_py.codec import Encode, Override
from ctop_py.layers.changes import Change, Changes
from ctop_py.layers.efficiency import Efficiency
from ctop_py.layers.image import LayerChain
from ctop_py.layers.listing import Entry, Listing, Walk, WalkEntry
from ctop_py.layers.provenance import LayerHit, Provenance
from ctop_py.layers.stack import Layer, MountStack
from ctop_py.layers.tree import Node, TreeListing, TreeWalk
from ctop_py.mounts import MountInfo


def _mode(mode: int) -> str:
    return f"{mode & 0o7777:04o}"


def _layer(layer: Layer, enc: Encode) -> dict[str, Any]:
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


def _mount(mount: MountInfo, enc: Encode) -> dict[str, Any]:
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


def _stack(stack: MountStack, enc: Encode) -> dict[str, Any]:
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
        "layers": enc(stack.layers),
        "data_layers": enc(stack.data_layers),
        "root_mount": enc(stack.root_mount),
        "mounts": enc(stack.mounts),
        "warnings": list(stack.warnings),
    }


def _change(change: Change, enc: Encode) -> dict[str, Any]:
    return {
        "path": change.path,
        "kind": change.kind.letter,
        "kind_code": change.kind.value,
        "type": change.file_type.value,
        "size": change.size,
    }


def _changes(changes: Changes, enc: Encode) -> dict[str, Any]:
    return {
        "added": changes.added,
        "modified": changes.modified,
        "deleted": changes.deleted,
        "upper_size": changes.upper_size,
        "truncated": changes.truncated,
        "changes": enc(changes.changes),
        "skipped": enc(changes.skipped),
    }


def _hit(hit: LayerHit, enc: Encode) -> dict[str, Any]:
    return {
        "layer": hit.layer.label,
        "layer_path": hit.layer.path,
        "instruction": hit.layer.instruction,
        "state": hit.state.value,
        "type": hit.file_type.value,
        "size": hit.size,
        "mode": _mode(hit.mode),
        "symlink_target": hit.symlink_target,
        "opaque": hit.opaque,
    }


def _provenance(found: Provenance, enc: Encode) -> dict[str, Any]:
    return {
        "path": found.path,
        "exists": found.exists,
        "type": enc(found.file_type),
        "provider": enc(found.provider),
        "hits": enc(found.hits),
        "hidden_by": found.hidden_by,
        "skipped": enc(found.skipped),
    }


def _entry(entry: Entry, enc: Encode) -> dict[str, Any]:
    return {
        "name": entry.name,
        "type": entry.file_type.value,
        "size": entry.size,
        "mode": _mode(entry.mode),
        "uid": entry.uid,
        "gid": entry.gid,
        "mtime_ns": entry.mtime_ns,
        "symlink_target": entry.symlink_target,
        "opaque": entry.opaque,
        "layer": entry.layer,
    }


def _listing(listing: Listing, enc: Encode) -> dict[str, Any]:
    return {
        "path": listing.path,
        "exists": listing.exists,
        "total": listing.total,
        "truncated": listing.truncated,
        "entries": enc(listing.entries),
        "skipped": enc(listing.skipped),
    }


def _walk_entry(item: WalkEntry, enc: Encode) -> dict[str, Any]:
    return {"path": item.path, **enc(item.entry)}


def _walk(walk: Walk, enc: Encode) -> dict[str, Any]:
    return {
        "path": walk.path,
        "files": walk.files,
        "dirs": walk.dirs,
        "total_size": walk.total_size,
        "truncated": walk.truncated,
        "entries": enc(walk.entries),
        "skipped": enc(walk.skipped),
    }


def _chain(chain: LayerChain, enc: Encode) -> dict[str, Any]:
    return {
        "name": chain.name,
        "image_id": chain.image_id,
        "container_id": chain.container_id,
        "layers": [
            {
                "index": i,
                "label": layer.label,
                "role": layer.role.value,
                "instruction": layer.instruction,
                "created_by": layer.created_by,
                "size_bytes": layer.size,
                "diff_id": layer.diff_id,
                "chain_id": layer.chain_id,
                "cache_id": layer.layer_id,
                "path": layer.path,
                "exists": layer.exists,
            }
            for i, layer in enumerate(chain.layers)
        ],
        "warnings": list(chain.warnings),
    }


def _node(node: Node, enc: Encode) -> dict[str, Any]:
    return {
        "path": node.path,
        "type": node.file_type.value,
        "mark": node.mark.value,
        "size_bytes": node.size,
        "layer": node.layer,
        "opaque": node.opaque,
        "symlink_target": node.symlink_target,
        "mode": _mode(node.mode),
        "depth": node.depth,
    }


def _tree_walk(walk: TreeWalk, enc: Encode) -> dict[str, Any]:
    return {
        "path": walk.path,
        "layer": walk.layer,
        "merged": walk.merged,
        "exists": walk.exists,
        "files": walk.files,
        "dirs": walk.dirs,
        "size_bytes": walk.size,
        "removed_bytes": walk.removed_size,
        "counts": {mark.value: n for mark, n in walk.counts().items()},
        "truncated": walk.truncated,
        "nodes": enc(walk.nodes),
        "skipped": enc(walk.skipped),
    }


def _tree_listing(listing: TreeListing, enc: Encode) -> dict[str, Any]:
    return {
        "path": listing.path,
        "layer": listing.layer,
        "merged": listing.merged,
        "exists": listing.exists,
        "total": listing.total,
        "truncated": listing.truncated,
        "nodes": enc(listing.entries),
        "skipped": enc(listing.skipped),
    }


def _efficiency(eff: Efficiency, enc: Encode) -> dict[str, Any]:
    """The issue's schema (efficiency, wasted_bytes, user_size_bytes, wasted) and a few
    more facts."""
    return {
        "efficiency": eff.efficiency,
        "wasted_bytes": eff.wasted_bytes,
        "user_size_bytes": eff.user_size_bytes,
        "size_bytes": eff.size_bytes,
        "wasted_user_fraction": (
            eff.wasted_bytes / eff.user_size_bytes if eff.user_size_bytes else None
        ),
        "layer_sizes": list(eff.layer_sizes),
        "paths": eff.paths,
        "truncated": eff.truncated,
        "wasted": enc(eff.wasted),
        "skipped": enc(eff.skipped),
    }


OVERRIDES: Mapping[type, Override] = {
    Layer: _layer,
    MountInfo: _mount,
    MountStack: _stack,
    Change: _change,
    Changes: _changes,
    LayerHit: _hit,
    Provenance: _provenance,
    Entry: _entry,
    Listing: _listing,
    WalkEntry: _walk_entry,
    Walk: _walk,
    LayerChain: _chain,
    Node: _node,
    TreeWalk: _tree_walk,
    TreeListing: _tree_listing,
    Efficiency: _efficiency,
}
