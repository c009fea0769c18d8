"""A running container's mount stack as the app's Layers tab shows it.

The table renderers themselves (`format_stack`, `format_changes`, …) are
`ctop_py.present.layerstack`, which `ctop-py layers` prints directly."""

from __future__ import annotations

from ctop_py import layers
from ctop_py.present import layerstack


def stack_text(
    stack: layers.MountStack, changes: layers.Changes | None, notes: tuple[str, ...] = ()
) -> str:
    """The stack, any note about the container layer, then its changes (docker diff)."""
    text = [layerstack.format_stack(stack, changes), *notes]
    if changes is not None and changes.changes:
        text += ["", "container layer changes (docker diff):", layerstack.format_changes(changes)]
    return "\n".join(text)
