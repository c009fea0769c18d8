"""Every namespace on the host, grouped by type, with its processes and containers.

The list is computed by `source.namespaces()` in a worker (it opens /proc/PID/ns files); the
screen loads it when opened and again on `r`, not on every tick. In a replay it is computed
from the recorded sample alone (cheap, no host read), again whenever the cursor moves; the tree
is rebuilt only when the namespaces differ.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static, Tree

from ctop_py import present
from ctop_py.model import NAMESPACE_TYPES, RawSample
from ctop_py.nsfs import Namespace
from ctop_py.ui import fmt
from ctop_py.ui.base import LiveScreen
from ctop_py.ui.source import NamespaceLister
from ctop_py.ui.state import UiState
from ctop_py.ui.widgets.footer import Footer
from ctop_py.ui.widgets.header import HostHeader

PROCESSES_SHOWN = 50  # per namespace; the rest are counted
REPLAY_NOTE = (
    "replay: the namespaces of the recorded containers' processes only. A recording stores no "
    "other process, so the host's own namespaces appear only where a container shares them; "
    "owner user namespaces are not recorded."
)


def namespace_label(ns: Namespace) -> Text:
    text = Text(no_wrap=True, end="")
    text.append(f"{ns.inode}", style="bold")
    if ns.is_host:
        text.append("  host", style=fmt.WARN)
    text.append(f"  {len(ns.pids)} process{'es' if len(ns.pids) != 1 else ''}")
    if ns.containers:
        text.append("  containers: ")
        text.append(", ".join(present.safe(c, 40) for c in ns.containers), style="cyan")
        if len(ns.containers) > 1:
            text.append("  (shared)", style="bold cyan")
    if ns.owner_userns is not None and ns.type != "user":
        text.append(f"  owner userns {ns.owner_userns}", style=fmt.DIM)
    return text


def process_label(pid: int, comm: str | None) -> Text:
    return Text(f"{pid}  {present.safe(comm, 40) if comm is not None else '–'}", end="")


class NamespacesScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Reload"),
    ]

    class Loaded(Message):
        def __init__(self, namespaces: list[Namespace], sample: RawSample) -> None:
            super().__init__()
            self.namespaces = namespaces
            self.sample = sample

    def __init__(self, state: UiState, lister: NamespaceLister) -> None:
        """`lister` lists a sample's namespaces (in a worker: it may read the host)."""
        super().__init__(state, id="namespaces")
        self.lister = lister
        self.namespaces: list[Namespace] | None = None
        self._requested: RawSample | None = None

    def compose(self) -> ComposeResult:
        yield HostHeader()
        yield Static(Text(REPLAY_NOTE, style=fmt.DIM), id="ns-note")
        yield Static(Text("loading namespaces…", style=fmt.DIM), id="ns-status")
        tree: Tree[str] = Tree(Text("namespaces"), id="ns-tree")
        tree.show_root = False
        yield tree
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ns-note").display = self.state.replaying
        self.action_reload()
        self.query_one(Tree).focus()

    def show_snapshot(self) -> None:
        self.show_status()
        snapshot = self.state.snapshot
        if self.state.replaying and snapshot is not None and snapshot.raw is not self._requested:
            self.action_reload()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        snapshot = self.state.snapshot
        if snapshot is None:
            self.query_one("#ns-status", Static).update(Text("no sample yet", style=fmt.DIM))
            return
        if self.namespaces is None:
            self.query_one("#ns-status", Static).update(Text("loading namespaces…", style=fmt.DIM))
        self._requested = snapshot.raw
        self._load(snapshot.raw)

    @work(thread=True, exclusive=True, exit_on_error=False, group="namespaces")
    def _load(self, sample: RawSample) -> None:
        namespaces = self.lister(sample)
        self.post_message(self.Loaded(namespaces, sample))

    def on_namespaces_screen_loaded(self, message: Loaded) -> None:
        if message.sample is not self._requested:
            return  # a later sample was asked for meanwhile
        if self.namespaces is not None and message.namespaces == self.namespaces:
            return  # the same namespaces: keep the tree (and the user's place in it)
        self.namespaces = message.namespaces
        comms = {p.pid: p.comm for p in message.sample.processes}
        self._fill(message.namespaces, comms)

    def _fill(self, namespaces: list[Namespace], comms: Mapping[int, str]) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        by_type: dict[str, list[Namespace]] = defaultdict(list)
        for ns in namespaces:
            by_type[ns.type].append(ns)
        types = [t for t in NAMESPACE_TYPES if t in by_type] + sorted(
            t for t in by_type if t not in NAMESPACE_TYPES
        )
        for ns_type in types:
            group = by_type[ns_type]
            shared = sum(1 for ns in group if len(ns.containers) > 1)
            label = Text(f"{ns_type}", style="bold")
            label.append(f"  {len(group)} namespace{'s' if len(group) != 1 else ''}")
            if shared:
                label.append(f", {shared} shared by containers", style="cyan")
            type_node = tree.root.add(label, data=ns_type, expand=True)
            for ns in sorted(group, key=lambda n: (not n.is_host, -len(n.containers), n.inode)):
                node = type_node.add(namespace_label(ns), data=f"{ns.type}:{ns.inode}")
                for pid in ns.pids[:PROCESSES_SHOWN]:
                    node.add_leaf(process_label(pid, comms.get(pid)), data=str(pid))
                if len(ns.pids) > PROCESSES_SHOWN:
                    node.add_leaf(
                        Text(f"… and {len(ns.pids) - PROCESSES_SHOWN} more", style=fmt.DIM)
                    )
        total = len(namespaces)
        self.query_one("#ns-status", Static).update(
            Text(
                f"{total} namespaces of {len(types)} types · enter expands · r reloads",
                style=fmt.DIM,
            )
        )
