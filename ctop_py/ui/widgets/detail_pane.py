"""A pane whose content is loaded on demand in a worker thread (layers, network, stacks).

`loader(view)` runs off the UI thread and returns a str (shown literally, line by line, after
present.safe) or a Rich renderable built by UI code. Without a loader the pane says what will
appear there.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from rich.protocol import is_renderable
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ctop_py import present
from ctop_py.model import ContainerView
from ctop_py.ui import fmt

Loader = Callable[[ContainerView], object]


def as_renderable(result: object) -> RenderableType:
    if isinstance(result, str):
        return Text("\n".join(present.safe(line) for line in result.splitlines()))
    if is_renderable(result):
        return result  # type: ignore[return-value]  # is_renderable narrows at runtime only
    return Text(present.safe(repr(result), 2000))


class DetailPane(VerticalScroll):
    DEFAULT_CSS = """
    DetailPane > Static {
        padding: 0 1;
    }
    """

    def __init__(
        self, placeholder: str, loader: Loader | None = None, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.placeholder = placeholder
        self.loader = loader
        self.loaded_for: str | None = None  # container id whose content is shown

    def compose(self) -> ComposeResult:
        yield Static(Text(self.placeholder, style=fmt.DIM), classes="content")

    def _show(self, renderable: RenderableType) -> None:
        self.query_one(".content", Static).update(renderable)

    def load(self, view: ContainerView, force: bool = False) -> None:
        """Fill the pane for `view` (once per container unless forced)."""
        if self.loader is None or (self.loaded_for == view.id and not force):
            return
        self.loaded_for = view.id
        self._show(Text("loading…", style=fmt.DIM))
        self._run(self.loader, view)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def _run(self, loader: Loader, view: ContainerView) -> object:
        return loader(view)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "detail":
            return
        event.stop()
        if event.state == WorkerState.SUCCESS:
            self._show(as_renderable(event.worker.result))
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            self._show(Text(f"could not load: {present.safe(str(error), 400)}", style=fmt.DANGER))
