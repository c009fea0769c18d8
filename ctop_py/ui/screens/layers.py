"""An image's layers in the explorer: a local image that no container needs to run, read
from the image store on disk (opened with `i` on a container screen, or from the palette)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static, Tree

from ctop_py import present
from ctop_py.layers.explore import ExploreSource
from ctop_py.ui.widgets.footer import Footer
from ctop_py.ui.widgets.layer_explorer import LayerExplorer


class ImageLayersScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("R", "reload", "Reload", show=False),
    ]

    def __init__(self, source: ExploreSource, ref: str) -> None:
        super().__init__()
        self.source = source
        self.ref = ref

    def compose(self) -> ComposeResult:
        yield Static(Text(f"image {present.safe(self.ref, 100)}", style="bold"), id="title")
        yield LayerExplorer(self.source, "the image's layers load here", id="image-explorer")
        yield Footer()

    def on_mount(self) -> None:
        self._open(force=False)
        self.query_one("#lx-files", Tree).focus()

    def _open(self, force: bool) -> None:
        source, ref = self.source, self.ref
        self.query_one(LayerExplorer).open(ref, lambda: source.image_chain(ref), force=force)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self._open(force=True)
