"""A partial update that renders only the widgets under what changed.

Textual's partial update renders every visible widget that overlaps the bounding box of the
changed regions, whole (each widget's every visible line, most from its cache, filtered
again), and then keeps only the changed lines. On a container tab the header (top) and a
chart or a table row (below the tab bar) change every second: their bounding box is most of
the screen, so the title, the diagnosis, the tab bar's dozen widgets, the limits and the
footer were rendered each tick for nothing. Here a widget is rendered only if it overlaps
one of the changed regions; the frame written is the same (a line's output is cut to the
changed regions' spans, and only widgets that overlap those are under them).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip


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
        # box" (the clip of every widget in the tab is the whole tab).
        for widget, (region, clip) in self.visible_widgets.items():
            shown = region.intersection(clip)
            if not any(shown.overlaps(r) for r in changed):
                continue
            x, y, width, height = shown
            if width and height:
                yield (
                    region,
                    clip,
                    widget.render_lines(Region(x - region.x, y - region.y, width, height)),
                )
