"""A partial update that renders only the widgets under what changed.

Textual's partial update renders every visible widget that overlaps the bounding box of the
changed regions, whole (each widget's every visible line, most from its cache, filtered
again), and then keeps only the changed lines. On a container tab the header (top) and a
chart or a table row (below the tab bar) change every second: their bounding box is most of
the screen, so the title, the diagnosis, the tab bar's dozen widgets, the limits and the
footer were rendered each tick for nothing, and each container under a chart rendered its
every line. Here a widget is rendered only if it overlaps one of the changed regions, and
only its lines from the first to the last changed one; the frame written is the same (a
line's output is cut to the changed regions' spans, and only widgets that overlap those are
under them).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip


def compositor() -> Compositor:
    """The container screen's compositor: ours where Textual's has the internals it builds on
    (the Textual pinned for development has; `textual>=8.2,<9` lets another be installed),
    else Textual's own: the same frames, at Textual's cost."""
    plain = Compositor()
    internals = ("_get_renders", "render_partial_update", "visible_widgets")
    if hasattr(plain, "_dirty_regions") and all(hasattr(Compositor, n) for n in internals):
        return ChangedOnlyCompositor()
    return plain


class ChangedOnlyCompositor(Compositor):
    def __init__(self) -> None:
        super().__init__()
        self._changed: tuple[Region, ...] | None = None

    def render_partial_update(self) -> ChopsUpdate | None:
        self._changed = tuple(self._dirty_regions)
        try:
            return super().render_partial_update()
        finally:
            self._changed = None

    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        changed = self._changed
        if changed is None or crop is None:
            yield from super()._get_renders(crop)
            return
        # Textual's loop (Compositor._get_renders), with "what the widget shows overlaps one
        # of the changed regions" in place of "its container's clip overlaps their bounding
        # box" (the clip of every widget in the tab is the whole tab), and only the lines
        # from the first to the last changed one under it rendered (a container's 43 lines
        # were all rendered, from its cache, for a chart's one).
        for widget, (region, clip) in self.visible_widgets.items():
            shown = region.intersection(clip)
            under = [r for r in changed if shown.overlaps(r)]
            if not under:
                continue
            x, y, width, height = shown
            top = max(y, min(r.y for r in under))
            bottom = min(y + height, max(r.bottom for r in under))
            strips = widget.render_lines(Region(x - region.x, top - region.y, width, bottom - top))
            if top > y or bottom < y + height:
                # Lines no changed region covers here: never written (Textual's chops skip
                # the lines outside the changed regions, and cut the others to them).
                unused = Strip.blank(width)
                strips = [unused] * (top - y) + strips + [unused] * (y + height - bottom)
            yield region, clip, strips
