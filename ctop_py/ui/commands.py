"""The command palette (ctrl+p): the same actions as the keys, plus "open <container>"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from ctop_py import present
from ctop_py.model import ContainerView
from ctop_py.ui import columns as cols
from ctop_py.ui.control import Controller
from ctop_py.ui.state import UiState

if TYPE_CHECKING:
    from ctop_py.layers.image import ImageRef  # the layers package is imported on first use

Command = tuple[str, str, Callable[[], object]]  # title (trusted or safe()d), help, callback


class Commandable(Protocol):
    """What the palette asks of the app (it never imports the app)."""

    @property
    def state(self) -> UiState: ...

    @property
    def controller(self) -> Controller: ...

    def action_toggle_pause(self) -> None: ...

    def action_control(self, action: str, *args: Any) -> None: ...

    def action_namespaces(self) -> None: ...

    def action_help(self) -> None: ...

    def containers_action(self, action: str, *args: str) -> None: ...

    def open_container(self, key: str) -> None: ...

    def open_actions(self, view: ContainerView) -> None: ...

    def open_image_layers(self, ref: str) -> None: ...

    def image_refs(self) -> tuple[ImageRef, ...]: ...


class CtopCommands(Provider):
    images: tuple[ImageRef, ...] = ()

    async def startup(self) -> None:
        """The local images, read off the UI thread when the palette opens."""
        app = cast(Commandable, self.app)
        self.images = await asyncio.to_thread(app.image_refs)

    def _commands(self) -> list[Command]:
        app = cast(Commandable, self.app)
        commands: list[Command] = [
            (
                title,
                help_text,
                app.action_toggle_pause
                if action == ("pause",)
                else partial(app.action_control, *action),
            )
            for title, help_text, action in app.controller.commands()
        ]
        commands += [
            ("Namespaces", "every namespace on the host (n)", app.action_namespaces),
            ("Help", "all keys (?)", app.action_help),
            (
                "Containers: show all / running only",
                "toggle stopped containers (a)",
                partial(app.containers_action, "toggle_all"),
            ),
            (
                "Containers: filter",
                "by name, image or id (/)",
                partial(app.containers_action, "filter"),
            ),
            ("Containers: reverse sort", "(r)", partial(app.containers_action, "reverse_sort")),
            (
                "Containers: choose columns",
                "show, hide, reorder, save (c)",
                partial(app.containers_action, "choose_columns"),
            ),
        ]
        for column in cols.SORTABLE:
            commands.append(
                (
                    f"Sort by {column.title}",
                    f"({column.letter})" if column.letter else "",
                    partial(app.containers_action, "sort_by", column.key),
                )
            )
        snapshot = app.state.snapshot
        if snapshot is not None:
            from ctop_py.ui.history import container_key

            for view in snapshot.containers:
                commands.append(
                    (
                        f"Open {present.safe(view.name, 60)}",
                        f"{view.raw.runtime} {present.short_id(present.safe(view.id))}",
                        partial(app.open_container, container_key(view)),
                    )
                )
                if app.state.acting:
                    commands.append(
                        (
                            f"Actions on {present.safe(view.name, 60)}",
                            "stop, start, restart, pause, remove, a shell (x)",
                            partial(app.open_actions, view),
                        )
                    )

        for image in self.images:
            commands.append(
                (
                    f"Layers of image {present.safe(image.name, 60)}",
                    f"explore {present.safe(image.image_id[7:19])} from the image store",
                    partial(app.open_image_layers, image.name),
                )
            )
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(Content(title), callback, text=title, help=escape(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                # Content(title), not matcher.highlight(): highlight() parses markup, and a
                # container name is untrusted. The palette parses help as markup: escaped.
                yield Hit(score, Content(title), callback, text=title, help=escape(help_text))
