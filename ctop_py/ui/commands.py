"""The command palette (ctrl+p): the same actions as the keys, plus "open <container>"."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from ctop_py import present
from ctop_py.ui import columns as cols

if TYPE_CHECKING:
    from ctop_py.ui.app import CtopApp

Command = tuple[str, str, Callable[[], object]]  # title (trusted or safe()d), help, callback


class CtopCommands(Provider):
    def _commands(self) -> list[Command]:
        app = cast("CtopApp", self.app)
        commands: list[Command]
        if app.replay is None:
            commands = [
                ("Pause / resume", "stop or restart sampling (p, space)", app.action_toggle_pause),
                ("Refresh faster", "shorter refresh interval (+)", app.action_faster),
                ("Refresh slower", "longer refresh interval (-)", app.action_slower),
            ]
        else:
            commands = [
                ("Pause / resume", "pause or play the replay (p, space)", app.action_toggle_pause),
                (
                    "Replay: step back",
                    "one sample back, paused ([ ,)",
                    partial(app.action_replay_step, -1),
                ),
                (
                    "Replay: step forward",
                    "one sample forward, paused (] .)",
                    partial(app.action_replay_step, 1),
                ),
                ("Replay: slower", "half the speed, down to 0.25× (<)", app.action_replay_slower),
                ("Replay: faster", "double the speed, up to 16× (>)", app.action_replay_faster),
                (
                    "Replay: go to a time",
                    "seconds from the start or a time (g)",
                    app.action_replay_jump,
                ),
                ("Replay: first sample", "(home)", app.action_replay_first),
                ("Replay: last sample", "(end)", app.action_replay_last),
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
        ]
        for column in cols.SORTABLE:
            commands.append(
                (
                    f"Sort by {column.title}",
                    f"({column.letter})" if column.letter else "",
                    partial(app.containers_action, "sort_by", column.key),
                )
            )
        snapshot = app.snapshot
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
