"""What the container screen shows, as Rich renderables built from a ContainerView and its
History. Pure functions: no I/O, no widgets; untrusted strings go through present.safe()."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ctop_py import present
from ctop_py.model import (
    HOST_NAMESPACE,
    NAMESPACE_TYPES,
    ContainerView,
    Limits,
    ProcessUsage,
)
from ctop_py.present import DASH, NO_LIMIT
from ctop_py.ui import fmt
from ctop_py.ui.history import History, Point

# ---------------------------------------------------------------------------------------------
# Throttling, in words.


def _cpus(value: float) -> str:
    return f"{value:.1f}" if value >= 0.95 else f"{value:.2f}"


def throttle_sentence(view: ContainerView) -> str:
    """A plain answer to "is it throttled, and how much CPU would it need?"."""
    if view.raw.cgroup is None:
        return "no cgroup of its own: CPU quota and throttling are not known"
    quota = view.limits.cpu_quota_cores
    if quota is None:
        return "no CPU quota: never throttled"
    t, u = view.throttling, view.usage
    used = None if u.cpu_percent is None else u.cpu_percent / 100
    quota_s = f"{quota:.2f}"
    if t.throttled_percent is None or used is None:
        return f"CPU quota {quota_s}: throttling is known after two samples"
    if t.periods_in_window == 0:
        return f"did not run in the last interval (CPU quota {quota_s})"
    if t.throttled_percent == 0:
        return f"not throttled: it used {used:.2f} of its {quota_s} CPU quota"
    said = (
        f"throttled in {t.throttled_percent:.0f} % of periods; "
        f"it used {used:.2f} of its {quota_s} CPU quota"
    )
    if t.throttled_seconds_per_s is None:
        return (
            f"{said} — it needs at least {used:.2f} CPU; "
            "demand above the quota cannot be measured while throttled"
        )
    demand = used + t.throttled_seconds_per_s
    if demand <= quota * 1.05:
        return f"{said} — short bursts hit the quota; on average it fits within it"
    return f"{said} — it would need ~{_cpus(demand)} CPU to run unthrottled"


ESTIMATE_NOTE = (
    "The estimate adds the time its runnable threads waited while throttled (throttled time per "
    "second) to the CPU it used; it is a lower bound: more threads waiting on the same CPU do "
    "not add throttled time."
)


# ---------------------------------------------------------------------------------------------
# Overview.


def _lim_size(value: int | None) -> str:
    return present.size(value, limit_meaning_none=True)


Line = tuple[tuple[str, str], ...]  # runs of (text, style): one line of a LinesView
Cell = tuple[str, str]  # (text, style)
LIMITS_HEADERS = ("RESOURCE", "USAGE", "LIMIT", "OF LIMIT")
LIMITS_RIGHT = (False, True, True, True)
NO_CGROUP_LIMITS = (
    "no cgroup of its own (a stopped container or a namespace sandbox):",
    "limits and cgroup usage are not known",
)


def limits_rows(view: ContainerView) -> list[tuple[Cell, Cell, Cell, Cell]]:
    """The limits table's rows: resource, usage, limit, share of the limit (a cgroup's)."""
    assert view.raw.cgroup is not None
    lim: Limits = view.limits
    u = view.usage
    mem = view.raw.cgroup.memory
    quota = lim.cpu_quota_cores
    cpu_use = DASH if u.cpu_percent is None else f"{u.cpu_percent / 100:.2f} CPU"
    if quota is None:
        cpu_limit = (f"{NO_LIMIT} no quota", fmt.DIM)
    else:
        cpu_limit = (f"{quota:.2f} CPU ({lim.cpu_quota_us} µs / {lim.cpu_period_us} µs)", "")
    of_quota = u.cpu_percent_of_quota
    rows: list[tuple[Cell, Cell, Cell, Cell]] = [
        (
            ("CPU", ""),
            (cpu_use, ""),
            cpu_limit,
            (present.percent(of_quota), fmt.WARN if (of_quota or 0) >= 90 else ""),
        )
    ]
    if lim.cpu_weight is not None:
        rows.append((("CPU weight", ""), ("", ""), (str(lim.cpu_weight), ""), ("", "")))
    if lim.cpu_shares is not None:
        rows.append((("CPU shares", ""), ("", ""), (str(lim.cpu_shares), ""), ("", "")))
    cpuset = f"cpus {present.safe(lim.cpuset_cpus)}" if lim.cpuset_cpus else f"{NO_LIMIT} all CPUs"
    if lim.cpuset_mems:
        cpuset += f", mems {present.safe(lim.cpuset_mems)}"
    rows.append((("cpuset", ""), ("", ""), (cpuset, ""), ("", "")))
    mem_style = fmt.memory_style(u.memory_percent_of_limit)
    rows.append(
        (
            ("memory (used)", ""),
            (present.size(u.memory_used_bytes), mem_style),
            (_lim_size(lim.memory_max_bytes), ""),
            (present.percent(u.memory_percent_of_limit), mem_style),
        )
    )
    rows.append(
        (
            ("  current (with cache)", fmt.DIM),
            (present.size(mem.current_bytes), ""),
            (f"high {_lim_size(lim.memory_high_bytes)}", ""),
            ("", ""),
        )
    )
    if lim.memory_low_bytes is not None:
        rows.append(
            (
                ("  protected (low)", fmt.DIM),
                ("", ""),
                (present.size(lim.memory_low_bytes), ""),
                ("", ""),
            )
        )
    rows.append((("  peak", fmt.DIM), (present.size(mem.peak_bytes), ""), ("", ""), ("", "")))
    rows.append(
        (
            ("swap", ""),
            (present.size(mem.swap_current_bytes), ""),
            (_lim_size(lim.swap_max_bytes), ""),
            ("", ""),
        )
    )
    pids_pct = None
    if u.pids_current is not None and lim.pids_max:
        pids_pct = 100.0 * u.pids_current / lim.pids_max
    rows.append(
        (
            ("pids", ""),
            (present.count(u.pids_current), ""),
            (present.count(lim.pids_max, limit_meaning_none=True), ""),
            (present.percent(pids_pct), fmt.DANGER if (pids_pct or 0) >= fmt.PIDS_DANGER else ""),
        )
    )
    return rows


def table_lines(
    headers: Sequence[str],
    right: Sequence[bool],
    rows: Sequence[Sequence[Cell]],
    padding: int = 2,
) -> list[Line]:
    """Rows laid out as rich's Table(box=None, padding=(0, padding), show_edge=False,
    header_style="bold") draws them where they fit (`padding` spaces either side of every
    cell, a cell's style over its padding to the column's width), as lines for a LinesView:
    a rich Table is measured again, every column of every row, each time it is drawn."""
    widths = [cell_len(h) for h in headers]
    for row in rows:
        widths = [max(w, cell_len(text)) for w, (text, _) in zip(widths, row, strict=True)]

    def fit(text: str, width: int, to_right: bool) -> str:
        pad = " " * (width - cell_len(text))
        return pad + text if to_right else text + pad

    gap = " " * padding
    head = "".join(
        f"{gap}{fit(h, w, r)}{gap}" for h, w, r in zip(headers, widths, right, strict=True)
    )
    lines: list[Line] = [((head, "bold"),)]
    for row in rows:
        runs: list[tuple[str, str]] = []
        for (text, style), width, to_right in zip(row, widths, right, strict=True):
            for part, part_style in ((gap, ""), (fit(text, width, to_right), style), (gap, "")):
                if runs and runs[-1][1] == part_style:
                    runs[-1] = (runs[-1][0] + part, part_style)
                else:
                    runs.append((part, part_style))
        lines.append(tuple(runs))
    return lines


def limits_lines(view: ContainerView) -> list[Line]:
    """The Overview's limits next to usage: where the cgroup is, then the table."""
    cgroup = view.raw.cgroup
    if cgroup is None:
        return [((line, fmt.DIM),) for line in NO_CGROUP_LIMITS]
    path = present.safe(cgroup.path, 200)
    where: Line = ((f"cgroup v{cgroup.version} ", "bold"), (path, f"bold {fmt.DIM}"))
    table = table_lines(LIMITS_HEADERS, LIMITS_RIGHT, limits_rows(view))
    return [where, (("", ""),), *table]


PSI_HEADERS = ("PRESSURE", "some 10s", "60s", "300s", "ours", "full 10s", "60s", "300s", "ours")
PSI_RIGHT = (False, *(True,) * 8)


def psi_rows(view: ContainerView) -> list[list[Cell]]:
    """The cgroup's pressure per resource: the kernel's averages and ours, some and full."""
    cgroup = view.raw.cgroup
    rows: list[list[Cell]] = []
    for resource in ("cpu", "memory", "io"):
        psi = cgroup.psi.get(resource) if cgroup is not None else None
        if psi is None:
            continue
        rates = view.psi.get(resource)
        cells: list[Cell] = [(resource, "")]
        for line, ours in (
            (psi.some, rates.some_percent if rates else None),
            (psi.full, rates.full_percent if rates else None),
        ):
            if line is None:
                cells += [(DASH, "")] * 3
            else:
                cells += [
                    (f"{v:.1f}", _psi_style(v)) for v in (line.avg10, line.avg60, line.avg300)
                ]
            cells.append((present.percent(ours), _psi_style(ours)))
        rows.append(cells)
    return rows


def psi_lines(view: ContainerView) -> list[Line]:
    """The Overview's pressure table, as rich's Table(padding=(0, 1)) draws it."""
    cgroup = view.raw.cgroup
    if cgroup is None or not cgroup.psi:
        return [(("pressure (PSI): not available", fmt.DIM),)]
    return table_lines(PSI_HEADERS, PSI_RIGHT, psi_rows(view), padding=1)


def _psi_style(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 25:
        return fmt.DANGER
    return fmt.WARN if value >= 5 else ""


def events_text(view: ContainerView, history: History) -> Text:
    cgroup = view.raw.cgroup
    text = Text("memory.events  ", style="bold")
    if cgroup is None or not cgroup.memory.events:
        text.append(DASH)
        return text
    for i, (name, value) in enumerate(sorted(cgroup.memory.events.items())):
        if i:
            text.append(" · ")
        danger = name in ("oom", "oom_kill") and value > 0
        text.append(f"{present.safe(name)} {value}", style=fmt.DANGER if danger else "")
    recent = history.oom_kills_recent()
    if recent:
        text.append(f"  ({recent} OOM kill(s) in the last 5 min)", style=fmt.DANGER)
    return text


def labels_text(view: ContainerView, limit: int = 12) -> Text:
    text = Text("labels  ", style="bold")
    labels = sorted(view.raw.labels.items())
    if not labels:
        text.append(DASH)
        return text
    for i, (key, value) in enumerate(labels[:limit]):
        text.append("\n  " if i else "")
        text.append(present.safe(key, 60), style="cyan")
        text.append("=")
        text.append(present.safe(value, 100))
    if len(labels) > limit:
        text.append(f"\n  … and {len(labels) - limit} more", style=fmt.DIM)
    return text


def title_text(view: ContainerView, exited: bool) -> Text:
    raw = view.raw
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(present.safe(raw.name, 60), style="bold")
    text.append(f"  {present.safe(raw.image, 80) if raw.image else '(' + raw.runtime + ')'}")
    text.append(f"  {raw.runtime} {present.short_id(present.safe(raw.id))}", style=fmt.DIM)
    state = present.safe(raw.state, 20)
    text.append(f"  {state}", style=fmt.DANGER if exited else "green")
    if raw.init_pid is not None:
        text.append(f"  init pid {raw.init_pid}", style=fmt.DIM)
    return text


# ---------------------------------------------------------------------------------------------
# Throttling tab.


def throttle_summary(view: ContainerView) -> Text:
    t, lim = view.throttling, view.limits
    text = Text()
    if lim.cpu_quota_cores is not None and lim.cpu_period_us:
        text.append(
            f"quota {lim.cpu_quota_cores:.2f} CPU: {lim.cpu_quota_us} µs of CPU time per "
            f"{lim.cpu_period_us / 1000:g} ms period\n"
        )
    text.append("since the cgroup was created: ")
    if t.nr_periods is None:
        text.append(DASH)
    else:
        text.append(
            f"{present.count(t.nr_throttled)} of {t.nr_periods} periods throttled, "
            f"{fmt.seconds(t.throttled_seconds)} throttled in total"
        )
    text.append("\nlast interval: ")
    if t.periods_in_window is None:
        text.append(DASH)
    else:
        text.append(
            f"{t.periods_in_window} periods, {present.percent(t.throttled_percent)} throttled"
        )
        if t.throttled_seconds_per_s is not None:
            text.append(f", {t.throttled_seconds_per_s:.2f} s throttled per second")
    return text


INTERVAL_HEADERS = (
    "AGE",
    "PERIODS",
    "THROTTLED",
    "THR %",
    "CPU USED",
    "QUOTA",
    "OF QUOTA",
    "THR s/s",
)


IntervalLine = Line


class IntervalRows:
    """The recent intervals, newest first, as right-aligned columns two spaces apart, one line
    of runs per interval (for a LinesView).

    A point's cells (all but its age) are worked out once, when it is new, and kept while it is
    shown: each tick makes one row, not 60. The throttled periods of an interval are its
    point's cumulative count less the point's before it, so a row is kept for that pair."""

    def __init__(self, rows: int = 60) -> None:
        self.rows = rows
        # id(point) -> (point, the point before it, its cells but the age, its THR % style);
        # the points are held here, so their ids are not reused while they are keys.
        self._made: dict[int, tuple[Point, Point | None, tuple[str, ...], str]] = {}
        self.rows_made = 0  # cumulative count of rows whose cells were worked out (tests)

    def lines(self, history: History) -> list[IntervalLine]:
        points = history.points
        shown = min(self.rows, len(points))
        first = len(points) - shown
        cells: list[tuple[str, ...]] = []
        styles: list[str] = []
        made: dict[int, tuple[Point, Point | None, tuple[str, ...], str]] = {}
        now = points[-1].time if points else 0.0
        for i in range(len(points) - 1, first - 1, -1):
            point = points[i]
            before = points[i - 1] if i > 0 else None
            known = self._made.get(id(point))
            if known is None or known[0] is not point or known[1] is not before:
                self.rows_made += 1
                known = (point, before, _interval_cells(point, before), _throttle_style(point))
            made[id(point)] = known
            age = "now" if point.time == now else f"-{now - point.time:.0f} s"
            cells.append((age, *known[2]))
            styles.append(known[3])
        self._made = made
        widths = [len(h) for h in INTERVAL_HEADERS]
        for row in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        header = "  ".join(h.rjust(w) for h, w in zip(INTERVAL_HEADERS, widths, strict=True))
        lines: list[IntervalLine] = [
            (("recent intervals, newest first", "bold"),),
            ((header, "bold"),),
        ]
        for row, style in zip(cells, styles, strict=True):
            head = "  ".join(c.rjust(w) for c, w in zip(row[:3], widths, strict=False)) + "  "
            thr = row[3].rjust(widths[3])
            tail = "  " + "  ".join(c.rjust(w) for c, w in zip(row[4:], widths[4:], strict=True))
            if style:
                lines.append(((head, ""), (thr, style), (tail, "")))
            else:
                lines.append(((head + thr + tail, ""),))
        return lines


def _throttle_style(point: Point) -> str:
    return fmt.throttle_style(point.throttled_percent) or ""


def _interval_cells(point: Point, before: Point | None) -> tuple[str, ...]:
    """An interval's cells after AGE (see INTERVAL_HEADERS)."""
    now, then = point.nr_throttled, None if before is None else before.nr_throttled
    throttled = None if now is None or then is None or now < then else now - then
    used = None if point.cpu_percent is None else point.cpu_percent / 100
    return (
        present.count(point.periods),
        present.count(throttled),
        fmt.pct(point.throttled_percent),
        fmt.cores(used),
        NO_LIMIT if point.quota_cores is None else f"{point.quota_cores:.2f}",
        fmt.pct(point.cpu_percent_of_quota),
        DASH if point.throttled_seconds_per_s is None else f"{point.throttled_seconds_per_s:.2f}",
    )


# ---------------------------------------------------------------------------------------------
# Processes tab.


@dataclass(frozen=True)
class ProcessRow:
    key: str
    cells: tuple[tuple[str, str], ...]  # (text, style) per column


PROCESS_COLUMNS = ("PID", "CT PID", "USER", "S", "CPU %", "RSS", "THR", "COMMAND")
PROCESS_RIGHT = {0, 1, 4, 5, 6}


def process_rows(processes: tuple[ProcessUsage, ...], names: Mapping[int, str]) -> list[ProcessRow]:
    """The container's processes as a tree by ppid, depth first, with box-drawing prefixes."""
    by_pid = {p.process.pid: p for p in processes}
    children: dict[int, list[ProcessUsage]] = {}
    roots = []
    for p in sorted(processes, key=lambda p: p.process.pid):
        if p.process.ppid in by_pid and p.process.ppid != p.process.pid:
            children.setdefault(p.process.ppid, []).append(p)
        else:
            roots.append(p)
    rows: list[ProcessRow] = []
    seen: set[int] = set()

    def visit(p: ProcessUsage, prefix: str, last: bool, depth: int) -> None:
        if p.process.pid in seen:  # a cycle cannot happen in procfs, but never loop forever
            return
        seen.add(p.process.pid)
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        rows.append(_process_row(p, prefix + branch, names))
        kids = children.get(p.process.pid, [])
        for i, kid in enumerate(kids):
            extension = "" if depth == 0 else ("   " if last else "│  ")
            visit(kid, prefix + extension, i == len(kids) - 1, depth + 1)

    for root in roots:
        visit(root, "", True, 0)
    return rows


def _process_row(p: ProcessUsage, tree: str, names: Mapping[int, str]) -> ProcessRow:
    proc = p.process
    uid = proc.uid
    user = DASH if uid is None else present.safe(names.get(uid, str(uid)), 16)
    command = " ".join(proc.cmdline) if proc.cmdline else f"[{proc.comm}]"
    return ProcessRow(
        key=f"{proc.pid}:{proc.start_ticks}",
        cells=(
            (str(proc.pid), ""),
            (str(proc.pid_in_container), ""),
            (user, "yellow" if uid == 0 else ""),
            (present.safe(proc.state, 2), ""),
            (fmt.pct(p.cpu_percent), ""),
            (fmt.short_size(proc.rss_bytes), ""),
            (str(proc.threads), ""),
            (tree + present.safe(command, 240), ""),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Namespaces tab.


def namespaces_table(view: ContainerView, host: Mapping[str, int]) -> RenderableType:
    raw = view.raw
    if not raw.namespaces:
        return Text("namespaces: not known (no running process)", style=fmt.DIM)
    table = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold")
    table.add_column("TYPE")
    table.add_column("INODE", justify="right")
    table.add_column("ISOLATION")
    for ns_type in NAMESPACE_TYPES:
        inode = raw.namespaces.get(ns_type)
        if inode is None:
            table.add_row(
                ns_type, DASH, Text("unknown (unreadable or not supported)", style=fmt.DIM)
            )
            continue
        shared = raw.shared_namespaces.get(ns_type)
        if shared == HOST_NAMESPACE or (shared is None and host.get(ns_type) == inode):
            cell = Text("the host's: not isolated", style=fmt.WARN)
        elif shared is not None:
            # JOINED: the owner's, which it joined; OWNER: the others joined it
            others = ", ".join(present.safe(n, 40) for n in shared.containers)
            cell = Text(f"shared with {others}", style="cyan")
        else:
            cell = Text("private", style="green")
        table.add_row(ns_type, str(inode), cell)
    return Group(
        table,
        Text(""),
        Text(
            "private: only this container's processes are in it · the host's: it sees what "
            "the host sees (no user namespace remapping is common and expected)",
            style=fmt.DIM,
        ),
    )
