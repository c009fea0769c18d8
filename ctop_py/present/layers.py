"""A running container's mount stack as the app's Layers tab shows it.

The table renderers themselves (`format_stack`, `format_changes`, …) live beside the layer
records in `ctop_py.layers.render`, which `ctop-py layers` prints directly."""

from __future__ import annotations

from ctop_py import layers


def stack_text(
    stack: layers.MountStack, changes: layers.Changes | None, notes: tuple[str, ...] = ()
) -> str:
    """The stack, any note about the container layer, then its changes (docker diff)."""
    text = [layers.format_stack(stack, changes), *notes]
    if changes is not None and changes.changes:
        text += ["", "container layer changes (docker diff):", layers.format_changes(changes)]
    return "\n".join(text)
