"""How a container's root filesystem is built: overlay stack, image layers, changes, provenance.

Public entry points (all read through a HostRoot, none needs the Docker daemon):

    read_stack(root, pid, container_id) -> MountStack
    compute_changes(root, stack, *, progress=None, max_changes=None) -> Changes
    provenance(root, stack, path) -> Provenance
    list_layer / list_merged / walk_layer      per-directory browsing, bounded
    stack_to_dict / changes_to_dict / provenance_to_dict / listing_to_dict   JSON-able
    format_stack / format_changes / format_provenance / format_listing      plain text
"""

from ctop_py.layers.changes import Change, ChangeKind, Changes, compute_changes, diff_dirs
from ctop_py.layers.fsutil import FileType, Skipped
from ctop_py.layers.listing import (
    Entry,
    Listing,
    Walk,
    list_dir,
    list_layer,
    list_merged,
    walk_dir,
    walk_layer,
)
from ctop_py.layers.provenance import (
    HitState,
    LayerHit,
    Provenance,
    layers_provenance,
    provenance,
)
from ctop_py.layers.render import (
    changes_to_dict,
    format_changes,
    format_listing,
    format_provenance,
    format_stack,
    layer_to_dict,
    listing_to_dict,
    mount_to_dict,
    provenance_to_dict,
    stack_to_dict,
    walk_to_dict,
)
from ctop_py.layers.stack import Layer, LayerRole, MountStack, read_stack

__all__ = [
    "Change",
    "ChangeKind",
    "Changes",
    "Entry",
    "FileType",
    "HitState",
    "Layer",
    "LayerHit",
    "LayerRole",
    "Listing",
    "MountStack",
    "Provenance",
    "Skipped",
    "Walk",
    "changes_to_dict",
    "compute_changes",
    "diff_dirs",
    "format_changes",
    "format_listing",
    "format_provenance",
    "format_stack",
    "layer_to_dict",
    "layers_provenance",
    "list_dir",
    "list_layer",
    "list_merged",
    "listing_to_dict",
    "mount_to_dict",
    "provenance",
    "provenance_to_dict",
    "read_stack",
    "stack_to_dict",
    "walk_dir",
    "walk_layer",
    "walk_to_dict",
]
