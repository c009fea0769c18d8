"""One container in depth: tabs for overview, throttling, processes, namespaces and the
on-demand panes (layers, network, stacks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from ctop_py import present
from ctop_py.layers.explore import ExploreSource
from ctop_py.layers.image import LayerChain
from ctop_py.logs import LogOpener
from ctop_py.model import ContainerView
from ctop_py.ui import detail, fmt
from ctop_py.ui.compositor import compositor
from ctop_py.ui.history import History, container_key
from ctop_py.ui.messages import (
    ActOn,
    DetailWanted,
    OpenImageLayers,
    ShellIn,
    StackTargetPicked,
)
from ctop_py.ui.screens.containers import (
    ACTING_BINDINGS,
    REFUSING_BINDINGS,
    ActingScreen,
    why_not,
)
from ctop_py.ui.state import UiState
from ctop_py.ui.widgets.detail_pane import DetailPane, Loader
from ctop_py.ui.widgets.events_table import EventsTable, engine_note, findings_text
from ctop_py.ui.widgets.footer import Footer
from ctop_py.ui.widgets.header import HostHeader
from ctop_py.ui.widgets.layer_explorer import LayerExplorer
from ctop_py.ui.widgets.lines_view import LinesView
from ctop_py.ui.widgets.logs_view import LogsView
from ctop_py.ui.widgets.process_table import ProcessTable
from ctop_py.ui.widgets.spark import HistorySpark

TABS = (
    ("overview", "Overview"),
    ("throttling", "Throttling"),
    ("processes", "Processes"),
    ("namespaces", "Namespaces"),
    ("layers", "Layers"),
    ("network", "Network"),
    ("stacks", "Stacks"),
    ("events", "Events"),
    ("logs", "Logs"),
)
ON_DEMAND = ("layers", "network", "stacks")

PLACEHOLDERS = {
    "layers": "The layers load here: image layers base to top with the instruction that made "
    "each, Docker's init layer and the container's own; beside them the file tree of the "
    "selected layer (or the merged view up to it) with added, modified and removed marks.",
    "network": "The network loads here: interfaces inside the container's network namespace, "
    "their addresses and counters, and their veth peers on the host.",
    "stacks": "Python stacks load here when this tab is shown (py-spy, non-blocking); R reloads.",
}

# In a replay these panes would read this host, not the recorded one: they say so instead.
NOT_RECORDED = {
    "layers": "not recorded: live only. A recording stores samples of cgroup and process "
    "counters, not the container's mount stack; run ctop-py on the host to see its layers.",
    "network": "not recorded: live only. A recording stores the container's network counters "
    "(the NET column), not its interfaces, addresses or veth peers.",
    "stacks": "not recorded: live only. Python stacks are read with py-spy from running "
    "processes; a recording has none.",
}


def _latest(values: Sequence[float | None], unit: str = "%") -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "–"
    return f"now {known[-1]:.1f}{unit}  max {max(known):.1f}{unit}"


def _latest_size(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "–"
    return f"now {present.size(known[-1])}  max {present.size(max(known))}"


LOGS_UNAVAILABLE = {
    "replay": "not recorded: live only. A recording stores samples of counters, not the "
    "container's output; run ctop-py on the host to read its logs.",
    "none": "logs are read from the Docker engine, which this app was started without.",
}


def _shape(renderable: RenderableType) -> object:
    """What a table's height follows from (its rows; a Group's parts'; a Text's lines), or
    None when not known (then the screen is laid out again)."""
    if isinstance(renderable, Table):
        return ("table", renderable.row_count)
    if isinstance(renderable, Text):
        return ("text", renderable.plain.count("\n"))
    if isinstance(renderable, Group):
        parts = tuple(_shape(r) for r in renderable.renderables)
        return None if None in parts else parts
    return None


class ContainerScreen(ActingScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *ACTING_BINDINGS,
        *REFUSING_BINDINGS,
        Binding("escape", "back", "Back"),
        Binding("backspace", "back", "Back", show=False),
        Binding("left", "previous_tab", "Previous tab", show=False),
        Binding("right", "next_tab", "Next tab", show=False),
        Binding("R", "reload_pane", "Reload pane", show=False),
        Binding("t", "stacks_of_process", "Stacks of process", show=False),
        Binding("i", "image_layers", "Image layers", show=False),
        *(
            Binding(str(i), f"tab('{tab_id}')", title, show=False)
            for i, (tab_id, title) in enumerate(TABS, 1)
        ),
    ]

    def __init__(
        self,
        key: str,
        state: UiState,
        loaders: Mapping[str, Loader] | None = None,
        explore: ExploreSource | None = None,
        open_logs: LogOpener | None = None,
        log_lines: int = 5000,
    ) -> None:
        """`loaders` fill the on-demand panes (network, stacks), each in a worker; `explore`
        reads the layers for the Layers tab (the explorer); where the state says the host is
        not ours to read (a replay), the panes say so. `open_logs` opens the container's log
        stream for the Logs tab (None: no logs), which keeps `log_lines` lines."""
        super().__init__(state)
        self._compositor = compositor()  # a tick renders what it changed only
        self.open_logs = open_logs
        self.log_lines = log_lines
        self.key = key
        self.loaders: Mapping[str, Loader] = loaders or {}
        self.explore = explore
        self.view: ContainerView | None = None
        self.exited = False
        self._notice = ""
        self._process_keys: list[str] = []
        self._process_cells: dict[str, tuple[tuple[str, str], ...]] = {}
        # What _put last showed, and the rows of what _put_table last showed, per Static.
        self._shown: dict[str, tuple[str, tuple[object, ...], str]] = {}
        self._table_rows: dict[str, object] = {}
        self._table_inputs: dict[str, object] = {}
        self.intervals = detail.IntervalRows()

    def compose(self) -> ComposeResult:
        yield HostHeader()
        yield Static(id="title")
        yield Static(id="diagnosis")  # the bottleneck first (ctop_py.diagnose)
        yield Static(
            Text("container exited — showing what was last seen", style="bold"), id="exited"
        )
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="overview"), VerticalScroll():
                yield LinesView(id="ov-limits")
                yield Static(Text("history", style="bold"), classes="section")
                yield HistorySpark("CPU", id="ov-cpu")
                yield HistorySpark("throttled %", id="ov-thr")
                yield HistorySpark("memory used", id="ov-mem")
                yield LinesView(id="ov-psi", classes="section")
                yield Static(id="ov-events", classes="section")
                yield Static(id="ov-labels", classes="section")
            with TabPane("Throttling", id="throttling"), VerticalScroll():
                yield Static(id="thr-sentence")
                yield Static(id="thr-summary")
                yield HistorySpark("throttled %", id="thr-thr")
                yield HistorySpark("CPU / quota", id="thr-cpu")
                yield LinesView(id="thr-table", classes="section")
                yield Static(Text(detail.ESTIMATE_NOTE, style=fmt.DIM), classes="section")
            with TabPane("Processes", id="processes"):
                yield ProcessTable(id="procs")
            with TabPane("Namespaces", id="namespaces"), VerticalScroll():
                yield Static(id="ns-table")
            for tab_id, title in TABS:
                if tab_id not in ON_DEMAND:
                    continue
                with TabPane(title, id=tab_id):
                    if tab_id == "layers" and self.state.reads_host and self.explore:
                        yield LayerExplorer(self.explore, PLACEHOLDERS[tab_id], id="pane-layers")
                    elif self.state.reads_host:
                        yield DetailPane(
                            PLACEHOLDERS[tab_id], self.loaders.get(tab_id), id=f"pane-{tab_id}"
                        )
                    else:
                        yield DetailPane(NOT_RECORDED[tab_id], None, id=f"pane-{tab_id}")
            with TabPane("Events", id="events"):
                yield Static(id="ev-note")
                yield EventsTable(id="ev-table")
            with TabPane("Logs", id="logs"):
                unavailable = ""
                if not self.state.reads_host:
                    unavailable = LOGS_UNAVAILABLE["replay"]
                elif self.open_logs is None:
                    unavailable = LOGS_UNAVAILABLE["none"]
                opener = None if unavailable else self.open_logs
                yield LogsView(opener, self.log_lines, unavailable=unavailable, id="pane-logs")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#exited").display = False
        table = self.query_one("#procs", DataTable)
        for i, label in enumerate(detail.PROCESS_COLUMNS):
            table.add_column(
                Text(label, justify="right" if i in detail.PROCESS_RIGHT else "left"), key=str(i)
            )
        self.app.post_message(DetailWanted(self.key, True))
        self.show_snapshot()

    def on_unmount(self) -> None:
        self.app.post_message(DetailWanted(self.key, False))

    # -- rendering ---------------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active or "overview"

    def _find(self) -> ContainerView | None:
        snapshot = self.state.snapshot
        if snapshot is None:
            return None
        for view in snapshot.containers:
            if container_key(view) == self.key:
                return view
        return None

    def show_snapshot(self) -> None:
        self.show_status()
        view = self._find()
        if view is not None:
            self.view = view
        if view is None:
            notice = "container exited — it is gone from the host; showing what was last seen"
        elif not view.raw.pids and view.raw.state != "running":
            notice = f"container {present.safe(view.raw.state, 20)} — not running"
        else:
            notice = ""
        self.exited = bool(notice)
        banner = self.query_one("#exited", Static)
        if notice != self._notice:
            self._notice = notice
            banner.update(Text(notice, style="bold"))
            banner.display = bool(notice)
        if self.view is None:
            self._put("#title", Text(present.safe(self.key), style="bold"))
            return
        # Unchanged lines are not set again: each Static.update() is a layout pass of the
        # whole screen (every widget measured), whatever tab is shown.
        self._put("#title", detail.title_text(self.view, self.exited))
        findings = self.state.diagnosis.findings.get(self.view.id, ())
        self._put("#diagnosis", findings_text(findings))
        self._show_tab(self.active_tab)

    def _show_tab(self, tab: str) -> None:
        view = self.view
        if view is None:
            return
        history = self.state.histories.get(self.key)
        if tab == "overview":
            self._overview(view, history)
        elif tab == "throttling":
            self._throttling(view, history)
        elif tab == "processes":
            self._processes(view)
        elif tab == "events":
            self._events(view)
        elif tab == "namespaces":
            snapshot = self.state.snapshot
            host = snapshot.host.namespaces if snapshot else {}
            self._put_table(
                "#ns-table",
                lambda: detail.namespaces_table(view, host),
                (view.raw.namespaces, view.raw.shared_namespaces, view.raw.init_pid, host),
            )
        elif tab == "logs":
            self._logs(view)
        elif tab == "layers" and self._explorer() is not None:
            self._open_layers(view)
        else:
            self.query_one(f"#pane-{tab}", DetailPane).load(view)

    def _explorer(self) -> LayerExplorer | None:
        found = self.query("#pane-layers").filter("LayerExplorer")
        return found.first(LayerExplorer) if found else None

    def _open_layers(self, view: ContainerView, force: bool = False) -> None:
        explore, explorer = self.explore, self._explorer()
        if explore is None or explorer is None:
            return
        raw = view.raw
        pid = raw.init_pid if raw.pids else None

        def chain() -> LayerChain:
            return explore.container_chain(pid, raw.id, raw.runtime, view.name)

        explorer.open(view.id, chain, force=force)

    def _overview(self, view: ContainerView, history: History) -> None:
        inputs = (view.raw.cgroup, view.usage, view.limits)
        if self._table_inputs.get("#ov-limits") != inputs:  # an idle container's: the same
            self._table_inputs["#ov-limits"] = inputs
            self.query_one("#ov-limits", LinesView).show(detail.limits_lines(view))
        quota = view.limits.cpu_quota_cores
        cpu_top = None if quota is None else quota * 100
        self.query_one("#ov-cpu", HistorySpark).show(history.cpu(), cpu_top, _latest)
        no_quota = quota is None and view.raw.cgroup is not None
        self.query_one("#ov-thr", HistorySpark).show(
            history.throttled(),
            100.0,
            (lambda _v: "no CPU quota: never throttled") if no_quota else _latest,
            fmt.throttle_style(view.throttling.throttled_percent) or "cyan",
        )
        limit = view.limits.memory_max_bytes
        self.query_one("#ov-mem", HistorySpark).show(
            history.memory(),
            None if limit is None else float(limit),
            _latest_size,
            fmt.memory_style(view.usage.memory_percent_of_limit) or "cyan",
        )
        cgroup = view.raw.cgroup
        psi = (cgroup.psi if cgroup is not None else None, view.psi)
        if self._table_inputs.get("#ov-psi") != psi:  # it moves every tick under load
            self._table_inputs["#ov-psi"] = psi
            self.query_one("#ov-psi", LinesView).show(detail.psi_lines(view))
        self._put("#ov-events", detail.events_text(view, history))
        self._put("#ov-labels", detail.labels_text(view))

    def _events(self, view: ContainerView) -> None:
        count = self.query_one("#ev-table", EventsTable).show(self.state.diagnosis.events, view.id)
        note = Text(f"{count} events of this container, newest first", style="bold")
        life = view.raw.lifecycle
        if life is not None:
            known = [
                f"restarts {life.restart_count}" if life.restart_count is not None else "",
                f"last exit code {life.last_exit_code}" if life.last_exit_code is not None else "",
                f"OOM kills {life.oom_kills}" if life.oom_kills else "",
                f"peak seen {present.size(life.memory_peak_bytes)}"
                if life.memory_peak_bytes is not None
                else "",
            ]
            line = " · ".join(k for k in known if k)
            if line:
                note.append("\n" + line)
        snapshot = self.state.snapshot
        missing = engine_note(snapshot.raw.engine_status) if snapshot else ""
        if missing:
            note.append("\n" + missing, style=fmt.WARN)
        self._put("#ev-note", note)

    def _throttling(self, view: ContainerView, history: History) -> None:
        sentence = detail.throttle_sentence(view)
        style = fmt.throttle_style(view.throttling.throttled_percent) or "bold"
        self._put("#thr-sentence", Text(sentence, style=style))
        self._put("#thr-summary", detail.throttle_summary(view))
        self.query_one("#thr-thr", HistorySpark).show(
            history.throttled(),
            100.0,
            _latest,
            fmt.throttle_style(view.throttling.throttled_percent) or "cyan",
        )
        of_quota = [p.cpu_percent_of_quota for p in history.points]
        self.query_one("#thr-cpu", HistorySpark).show(of_quota, 100.0, _latest)
        self.query_one("#thr-table", LinesView).show(self.intervals.lines(history))

    def _put_table(self, selector: str, make: Callable[[], RenderableType], inputs: object) -> None:
        """A table made by `make` from `inputs` (compared with ==; an idle container's are the
        very same objects tick to tick): not made nor drawn again while they are unchanged,
        and measured again (a layout pass of the screen) only when its number of rows
        changed."""
        if selector in self._table_inputs and self._table_inputs[selector] == inputs:
            return
        self._table_inputs[selector] = inputs
        table = make()
        rows = _shape(table)
        layout = rows is None or self._table_rows.get(selector) != rows
        self._table_rows[selector] = rows
        self.query_one(selector, Static).update(table, layout=layout)

    def _put(self, selector: str, text: Text) -> None:
        """Show `text` in a Static, only if it changed, with a layout pass only where its
        height changed (a layout pass of the screen measures every widget in it)."""
        key = (text.plain, tuple(text.spans), str(text.style))
        old = self._shown.get(selector)
        if old == key:
            return
        self._shown[selector] = key
        lines = text.plain.count("\n")
        self.query_one(selector, Static).update(
            text, layout=old is None or old[0].count("\n") != lines
        )

    def _processes(self, view: ContainerView) -> None:
        table = self.query_one("#procs", ProcessTable)
        rows = detail.process_rows(view.processes, self.state.user_names)
        keys = [r.key for r in rows]

        def text(index: int, cell: tuple[str, str]) -> Text:
            right = index in detail.PROCESS_RIGHT
            return Text(cell[0], style=cell[1], justify="right" if right else "left", end="")

        if keys != self._process_keys:  # processes came or went: rebuild (rare)
            selected = None
            if table.row_count and 0 <= table.cursor_coordinate.row < table.row_count:
                selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            table.clear()
            for row in rows:
                table.add_row(*(text(i, c) for i, c in enumerate(row.cells)), key=row.key)
            if selected in keys:
                table.move_cursor(row=keys.index(selected), animate=False)
        else:
            for row in rows:  # a changed row is drawn again, alone
                old = self._process_cells.get(row.key)
                table.set_row_cells(
                    row.key,
                    {
                        str(i): text(i, cell)
                        for i, cell in enumerate(row.cells)
                        if old is None or old[i] != cell
                    },
                )
        self._process_keys = keys
        self._process_cells = {r.key: r.cells for r in rows}

    # -- actions -------------------------------------------------------------------------------

    def _logs(self, view: ContainerView, force: bool = False) -> None:
        pane = self.query_one("#pane-logs", LogsView)
        if pane.opener is None:
            return
        reason = why_not(view)
        if reason:
            pane.say(reason)
            return
        pane.start(view.id, force=force)

    # -- actions -------------------------------------------------------------------------------

    def action_actions_menu(self) -> None:
        if self.view is not None:
            self.post_message(ActOn(self.view))

    def action_shell(self) -> None:
        if self.view is not None:
            self.post_message(ShellIn(self.view))

    def action_refuse(self) -> None:
        if self.view is not None:
            self.post_message(ActOn(self.view))  # the app says why nothing happens

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._show_tab(self.active_tab)
        if self.active_tab == "logs":
            self.query_one("#pane-logs", LogsView).lines_log.focus()
        explorer = self._explorer()
        if self.active_tab == "layers" and explorer is not None:
            explorer.focus_tree()  # its keys (m, c, s, /, [ ]) work at once

    def action_back(self) -> None:
        self.dismiss(None)

    def action_tab(self, tab_id: str) -> None:
        self.query_one(TabbedContent).active = tab_id

    def _step_tab(self, step: int) -> None:
        ids = [t for t, _ in TABS]
        current = ids.index(self.active_tab) if self.active_tab in ids else 0
        self.action_tab(ids[(current + step) % len(ids)])

    def action_next_tab(self) -> None:
        self._step_tab(1)

    def action_previous_tab(self) -> None:
        self._step_tab(-1)

    def action_stacks_of_process(self) -> None:
        """On the Processes tab: dump the Python stacks of the selected process (py-spy)."""
        if self.active_tab != "processes" or self.view is None:
            return
        table = self.query_one("#procs", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is None:
            return
        self.app.post_message(StackTargetPicked(self.key, int(str(key).split(":", 1)[0])))

    def show_stacks(self) -> None:
        """The Stacks tab, loaded again (the app took the process `t` picked)."""
        self.action_tab("stacks")
        if self.view is not None:
            self.query_one("#pane-stacks", DetailPane).load(self.view, force=True)

    def action_image_layers(self) -> None:
        """Explore the layers of this container's image (from the image store on disk)."""
        if self.view is None or not self.state.reads_host:
            return
        explorer = self._explorer()
        chain = explorer.chain if explorer is not None else None
        ref = (chain.image_id if chain is not None else None) or self.view.raw.image
        if ref:
            self.app.post_message(OpenImageLayers(ref))
        else:
            self.notify("this container's image is not known", severity="warning")

    def action_reload_pane(self) -> None:
        tab = self.active_tab
        if self.view is not None and tab == "logs":
            self._logs(self.view, force=True)
            return
        if tab == "layers" and self.view is not None and self._explorer() is not None:
            self._open_layers(self.view, force=True)
            return
        if self.view is not None and tab in PLACEHOLDERS:
            self.query_one(f"#pane-{tab}", DetailPane).load(self.view, force=True)
