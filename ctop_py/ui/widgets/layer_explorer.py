"""The layers explorer: the layer list (base to top, the container's own layer last) beside the
file tree of the selected layer, or of the merged view up to it, with dive's marks.

Everything that reads the host runs in worker threads (`ExploreSource`): the chain, one
directory per expanded node (lazy), a bounded walk for directory sizes, filtering and
sort-by-size, the provenance of the highlighted path, the efficiency. The UI thread only
builds tree nodes from their results. Names are untrusted: labels are `Text`, escaped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import Worker, WorkerState

from ctop_py import present
from ctop_py.layers.efficiency import Efficiency
from ctop_py.layers.explore import ExploreError, ExploreSource
from ctop_py.layers.fsutil import FileType
from ctop_py.layers.image import LayerChain
from ctop_py.layers.tree import Mark, TreeListing, TreeWalk
from ctop_py.layers.tree import Node as FileNode
from ctop_py.present.layertree import (
    efficiency_summary,
    layer_name,
    mounts_text,
    node_label,
    provenance_line,
    short_id,
)
from ctop_py.ui import fmt

ChainRequest = Callable[[], LayerChain]

MARK_STYLES = {
    Mark.ADDED: "green",
    Mark.MODIFIED: "yellow",
    Mark.REMOVED: "red",
    Mark.UNCHANGED: "",
}
FILTER_SHOWN_MAX = 2000
LISTING_SHOWN_MAX = 1000  # entries of one directory put in the tree (then "… N more")
WALK_YIELD_S = 0.002  # the size walk gives way to listings and the UI every 512 entries
KEYS_HINT = (
    "m merged/layer · c changes only · s sort by size · / filter · enter/space fold · [ ] layer"
)


def node_text(node: FileNode, size: int | None) -> Text:
    style = MARK_STYLES[node.mark]
    shown = "…" if size is None else present.size(size)
    return Text.assemble(
        (node.mark.symbol + " ", style or fmt.DIM),
        (shown.rjust(10), fmt.DIM),
        "  ",
        (node_label(node), style),
    )


class LayerExplorer(Widget):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "toggle_merged", "Merged/layer"),
        Binding("c", "toggle_changes", "Changes only"),
        Binding("s", "toggle_sort", "Sort by size"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("left_square_bracket", "step_layer(-1)", "Layer below", show=False),
        Binding("right_square_bracket", "step_layer(1)", "Layer above", show=False),
    ]
    DEFAULT_CSS = """
    LayerExplorer { height: 1fr; }
    LayerExplorer #lx-body { height: 1fr; }
    LayerExplorer #lx-left { width: 40%; height: 1fr; }
    LayerExplorer #lx-layers { height: 1fr; }
    LayerExplorer #lx-mounts { height: auto; max-height: 8; }
    LayerExplorer #lx-right { width: 1fr; height: 1fr; }
    LayerExplorer #lx-files { height: 1fr; }
    LayerExplorer #lx-filter { display: none; }
    LayerExplorer #lx-filter.shown { display: block; }
    LayerExplorer Static { padding: 0 1; }
    """

    def __init__(
        self,
        source: ExploreSource | None,
        placeholder: str,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        self.placeholder = placeholder
        self.chain: LayerChain | None = None
        self.loaded_for: str | None = None
        self.selected = 0
        self.merged = False
        self.changes_only = False
        self.by_size = False
        self.filter_text = ""
        self.efficiency: Efficiency | None = None
        self.walk: TreeWalk | None = None  # of the current view, when finished
        self._generation = 0  # of the tree view: listings and walks of an older one are dropped
        self._chain_token = 0
        self._prov_token = 0
        self._listings: dict[str, TreeListing] = {}
        self._tree_nodes: dict[str, TreeNode[FileNode | None]] = {}
        self._expanded: set[str] = set()
        self._sizes: dict[str, int] = {}

    # -- composition ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text(self.placeholder, style=fmt.DIM), id="lx-head")
        with Horizontal(id="lx-body"):
            with Vertical(id="lx-left"):
                yield DataTable[Text](id="lx-layers", cursor_type="row", zebra_stripes=True)
                yield Static(id="lx-mounts")
            with Vertical(id="lx-right"):
                yield Input(placeholder="filter by path, Enter to apply, Esc to clear",
                            id="lx-filter")  # fmt: skip
                tree: Tree[FileNode | None] = Tree(Text("/"), id="lx-files")
                tree.show_root = False
                yield tree
                yield Static(id="lx-prov")
        yield Static(id="lx-eff")

    def on_mount(self) -> None:
        table = self.query_one("#lx-layers", DataTable)
        for label in ("#", "size", "id", "made by"):
            table.add_column(Text(label, justify="right" if label == "size" else "left"))

    def focus_tree(self) -> None:
        self.query_one("#lx-files", Tree).focus()

    # -- loading -------------------------------------------------------------------------------

    def open(self, key: str, request: ChainRequest, force: bool = False) -> None:
        """Load the chain (once per `key`, e.g. a container id, unless forced)."""
        if self.source is None or (self.loaded_for == key and not force):
            return
        self.loaded_for = key
        self._head(Text("loading the layers…", style=fmt.DIM))
        self._chain_token += 1
        token = self._chain_token

        def load() -> tuple[int, LayerChain]:
            return token, request()

        # Not exclusive: a result that is no longer wanted is dropped by its token (a
        # cancelled worker would make `workers.wait_for_complete()` raise for everyone).
        self.run_worker(load, thread=True, group="lx-chain", name="chain",
                        exit_on_error=False)  # fmt: skip

    def show_chain(self, chain: LayerChain) -> None:
        self.chain = chain
        self.selected = chain.top
        self.efficiency = None
        table = self.query_one("#lx-layers", DataTable)
        table.clear()
        for i, layer in enumerate(chain.layers):
            size = "" if layer.size is None else present.size(layer.size)
            table.add_row(
                Text(str(i)),
                Text(size, justify="right"),
                Text(short_id(layer), style=fmt.DIM),
                Text(present.safe(layer_name(layer), 80)),
                key=str(i),
            )
        table.move_cursor(row=self.selected, animate=False)
        mounts = mounts_text(chain)
        self.query_one("#lx-mounts", Static).update(
            Text("mounts over the layers\n", style="bold") + Text(mounts) if mounts else Text("")
        )
        self.query_one("#lx-eff", Static).update(Text("efficiency: computing…", style=fmt.DIM))
        source = self.source
        assert source is not None
        token = self._chain_token

        def efficiency() -> tuple[int, Efficiency]:
            return token, source.efficiency(chain)

        self.run_worker(efficiency, thread=True, group="lx-eff", name="efficiency",
                        exit_on_error=False)  # fmt: skip
        self.reset_view()

    def reset_view(self, keep: bool = False) -> None:
        """Start the tree of the selected layer/view again: its root directory at once, then a
        walk for sizes (and the filter)."""
        if self.chain is None or self.source is None:
            return
        self._generation += 1
        self.walk = None
        if not keep:
            self._listings.clear()
            self._expanded.clear()
            self._sizes.clear()
        self._render_head()
        self._rebuild()
        self._list("/")
        source, chain, layer, merged = self.source, self.chain, self.selected, self.merged
        generation = self._generation

        def walk() -> tuple[int, TreeWalk]:
            def still(_seen: int, _where: str) -> bool:
                time.sleep(WALK_YIELD_S)  # let the listings and the UI thread run
                return generation == self._generation

            return generation, source.walk(chain, layer, merged, progress=still)

        self.run_worker(walk, thread=True, group="lx-walk", name="walk",
                        exit_on_error=False)  # fmt: skip

    def _list(self, path: str) -> None:
        source, chain = self.source, self.chain
        if source is None or chain is None:
            return
        layer, merged, generation = self.selected, self.merged, self._generation

        def listing() -> tuple[int, TreeListing]:
            return generation, source.listing(chain, layer, path, merged, LISTING_SHOWN_MAX)

        self.run_worker(listing, thread=True, group="lx-list", name="listing",
                        exit_on_error=False)  # fmt: skip

    # -- the tree ------------------------------------------------------------------------------

    def _arrange(self, nodes: Iterable[FileNode]) -> list[FileNode]:
        shown = [n for n in nodes if not self.changes_only or n.mark is not Mark.UNCHANGED]
        if self.by_size:
            shown.sort(key=lambda n: -(self._size_of(n) or 0))
        return shown

    def _size_of(self, node: FileNode) -> int | None:
        if node.file_type is FileType.DIR:
            return self._sizes.get(node.path)
        return node.size

    def _fill(self, parent: TreeNode[FileNode | None], listing: TreeListing) -> None:
        parent.remove_children()
        for node in self._arrange(listing.entries):
            label = node_text(node, self._size_of(node))
            if node.file_type is FileType.DIR and node.has_children:
                child = parent.add(label, data=node, allow_expand=True)
            else:
                child = parent.add_leaf(label, data=node)
            self._tree_nodes[node.path] = child
            if node.path in self._expanded and node.path in self._listings:
                self._fill(child, self._listings[node.path])
                child.expand()
            elif node.path in self._expanded:
                self._list(node.path)
        if listing.truncated:
            more = listing.total - len(listing.entries)
            parent.add_leaf(Text(f"… {more} more (a listing shows at most "
                                 f"{len(listing.entries)})", style=fmt.DIM))  # fmt: skip
        if not listing.entries and parent.is_root:
            what = "nothing here" if listing.exists else "not a directory in this view"
            parent.add_leaf(Text(what, style=fmt.DIM))

    def _rebuild(self) -> None:
        tree = self.query_one("#lx-files", Tree)
        tree.clear()
        self._tree_nodes = {}
        if self.filter_text and self.walk is not None:
            self._fill_filtered(tree.root, self.walk)
        elif self.filter_text:
            tree.root.add_leaf(Text("filtering once the layer is walked…", style=fmt.DIM))
        elif "/" in self._listings:
            self._fill(tree.root, self._listings["/"])

    def _fill_filtered(self, root: TreeNode[FileNode | None], walk: TreeWalk) -> None:
        needle = self.filter_text.lower()
        wanted: set[str] = set()
        matches = 0
        for node in walk.nodes:
            if self.changes_only and node.mark is Mark.UNCHANGED:
                continue
            if needle in node.path.lower():
                matches += 1
                if matches > FILTER_SHOWN_MAX:
                    break
                path = node.path
                while path not in ("/", "") and path not in wanted:
                    wanted.add(path)
                    path = path.rsplit("/", 1)[0] or "/"
        children: dict[str, list[FileNode]] = {}
        for node in walk.nodes:
            if node.path in wanted:
                parent = node.path.rsplit("/", 1)[0] or "/"
                children.setdefault(parent, []).append(node)

        def add(parent: TreeNode[FileNode | None], path: str) -> None:
            for node in self._arrange(children.get(path, ())):
                label = node_text(node, self._size_of(node))
                if node.path in children:
                    child = parent.add(label, data=node, expand=True)
                    add(child, node.path)
                else:
                    child = parent.add_leaf(label, data=node)
                self._tree_nodes[node.path] = child

        add(root, "/")
        if not children:
            root.add_leaf(Text(f"no path matches {present.safe(self.filter_text)!r}",
                               style=fmt.DIM))  # fmt: skip
        elif matches > FILTER_SHOWN_MAX:
            root.add_leaf(Text(f"… more than {FILTER_SHOWN_MAX} matches", style=fmt.DIM))

    def _relabel(self) -> None:
        for tnode in self._tree_nodes.values():
            if tnode.data is not None:
                tnode.set_label(node_text(tnode.data, self._size_of(tnode.data)))

    # -- worker results ------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group not in ("lx-chain", "lx-list", "lx-walk", "lx-eff", "lx-prov"):
            return
        event.stop()
        if event.state == WorkerState.ERROR:
            error = worker.error
            text = str(error) if isinstance(error, ExploreError) else present.safe(str(error), 300)
            if worker.group == "lx-chain":
                self._head(Text(text, style=fmt.DANGER))
            elif worker.group == "lx-eff":
                self.query_one("#lx-eff", Static).update(Text(f"efficiency: {text}"))
            elif worker.group == "lx-prov":
                self.query_one("#lx-prov", Static).update(Text(text, style=fmt.DANGER))
            return
        if event.state != WorkerState.SUCCESS:
            return
        result = worker.result
        if not isinstance(result, tuple) or len(result) != 2:
            return
        token, value = result
        if worker.group == "lx-chain" and isinstance(value, LayerChain):
            if token == self._chain_token:
                self.show_chain(value)
        elif worker.group == "lx-eff" and isinstance(value, Efficiency):
            if token == self._chain_token:
                self.efficiency = value
                self.query_one("#lx-eff", Static).update(Text(efficiency_summary(value)))
        elif worker.group == "lx-list" and isinstance(value, TreeListing):
            if token == self._generation:
                self._got_listing(value)
        elif worker.group == "lx-walk" and isinstance(value, TreeWalk):
            if token == self._generation:
                self._got_walk(value)
        elif worker.group == "lx-prov" and isinstance(value, str) and token == self._prov_token:
            self.query_one("#lx-prov", Static).update(Text(value))

    def _got_listing(self, listing: TreeListing) -> None:
        self._listings[listing.path] = listing
        if self.filter_text:
            return
        tree = self.query_one("#lx-files", Tree)
        if listing.path == "/":
            self._rebuild()
            return
        tnode = self._tree_nodes.get(listing.path)
        if tnode is not None:
            self._fill(tnode, listing)
            if listing.path in self._expanded:
                tnode.expand()
        del tree

    def _got_walk(self, walk: TreeWalk) -> None:
        self.walk = walk
        self._sizes = {n.path: n.size for n in walk.nodes if n.size is not None}
        self._render_head()
        if self.filter_text or self.by_size:
            self._rebuild()
        else:
            self._relabel()

    # -- events --------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#lx-layers")
    def _layer_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.chain is None or event.row_key.value is None:
            return
        index = int(event.row_key.value)
        if index != self.selected:
            self.selected = index
            self.reset_view()

    @on(Tree.NodeExpanded, "#lx-files")
    def _expanded_node(self, event: Tree.NodeExpanded[FileNode | None]) -> None:
        node = event.node.data
        if node is None or self.filter_text:
            return
        self._expanded.add(node.path)
        if node.path in self._listings:
            if not event.node.children:
                self._fill(event.node, self._listings[node.path])
        else:
            event.node.add_leaf(Text("loading…", style=fmt.DIM))
            self._list(node.path)

    @on(Tree.NodeCollapsed, "#lx-files")
    def _collapsed_node(self, event: Tree.NodeCollapsed[FileNode | None]) -> None:
        if event.node.data is not None:
            self._expanded.discard(event.node.data.path)

    @on(Tree.NodeHighlighted, "#lx-files")
    def _highlighted(self, event: Tree.NodeHighlighted[FileNode | None]) -> None:
        node = event.node.data
        source, chain = self.source, self.chain
        if node is None or source is None or chain is None:
            return
        layer = self.selected
        self._prov_token += 1
        token = self._prov_token

        def where() -> tuple[int, str]:
            upto, whole = source.provenance(chain, layer, node.path)
            return token, provenance_line(chain, layer, upto, whole)

        self.run_worker(where, thread=True, group="lx-prov", name="provenance",
                        exit_on_error=False)  # fmt: skip

    @on(Input.Submitted, "#lx-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.filter_text = event.value.strip()
        box = self.query_one("#lx-filter", Input)
        if not self.filter_text:
            box.remove_class("shown")
        self._render_head()
        self._rebuild()
        self.query_one("#lx-files", Tree).focus()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", None)
        box = self.query_one("#lx-filter", Input)
        if key == "escape" and box.has_focus:
            box.value = ""
            box.remove_class("shown")
            self.filter_text = ""
            self._render_head()
            self._rebuild()
            self.query_one("#lx-files", Tree).focus()
            stop = getattr(event, "stop", None)
            if callable(stop):
                stop()

    # -- actions -------------------------------------------------------------------------------

    def action_toggle_merged(self) -> None:
        self.merged = not self.merged
        self.reset_view()

    def action_toggle_changes(self) -> None:
        self.changes_only = not self.changes_only
        self._render_head()
        self._rebuild()

    def action_toggle_sort(self) -> None:
        self.by_size = not self.by_size
        self._render_head()
        self._rebuild()

    def action_filter(self) -> None:
        box = self.query_one("#lx-filter", Input)
        box.add_class("shown")
        box.value = self.filter_text
        box.focus()

    def action_step_layer(self, step: int) -> None:
        if self.chain is None:
            return
        index = min(max(self.selected + step, 0), self.chain.top)
        self.query_one("#lx-layers", DataTable).move_cursor(row=index, animate=False)

    # -- text ----------------------------------------------------------------------------------

    def _head(self, text: Text) -> None:
        self.query_one("#lx-head", Static).update(text)

    def _render_head(self) -> None:
        chain = self.chain
        if chain is None:
            return
        layer = chain.layers[self.selected]
        view = "merged view up to layer" if self.merged else "layer"
        parts: list[str] = [
            f"{present.safe(chain.name, 60)} · {view} {self.selected} of 0–{chain.top}: "
            f"{present.safe(layer_name(layer), 60)}"
        ]
        modes: Sequence[str] = [
            m
            for m, on_ in (
                ("changes only", self.changes_only),
                ("by size", self.by_size),
                (f"filter {present.safe(self.filter_text, 40)!r}", bool(self.filter_text)),
            )
            if on_
        ]
        if modes:
            parts.append(", ".join(modes))
        if self.walk is None:
            parts.append("sizes: walking…")
        else:
            counts = self.walk.counts()
            parts.append(
                f"{self.walk.files} files, {present.size(self.walk.size)}; "
                f"+{counts[Mark.ADDED]} ~{counts[Mark.MODIFIED]} -{counts[Mark.REMOVED]}"
                + (" (walk bounded: truncated)" if self.walk.truncated else "")
            )
        text = Text(" · ".join(parts), style="bold")
        text.append("\n" + KEYS_HINT, style=fmt.DIM)
        for warning in chain.warnings[:2]:
            text.append("\nwarning: " + present.safe(warning, 200), style=fmt.WARN)
        self._head(text)
