"""How a container's root filesystem is built: overlay stack, image layers, changes, provenance.

Public entry points (all read through a HostRoot, none needs the Docker daemon):

    read_stack(root, pid, container_id) -> MountStack
    compute_changes(root, stack, *, progress=None, max_changes=None) -> Changes
    provenance(root, stack, path) -> Provenance
    list_layer / list_merged / walk_layer      per-directory browsing, bounded
Their plain text is ctop_py.present.layerstack / layertree (shared by the CLI and the app),
their JSON ctop_py.export.layers (overrides of the one encoder, ctop_py.export.json).
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
    "compute_changes",
    "diff_dirs",
    "layers_provenance",
    "list_dir",
    "list_layer",
    "list_merged",
    "provenance",
    "read_stack",
    "walk_dir",
    "walk_layer",
]
