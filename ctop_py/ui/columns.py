"""The containers table: its columns, the cells of one row and how each column sorts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ctop_py import present
from ctop_py.diagnose import Finding
from ctop_py.model import HOST_NAMESPACE, ContainerView
from ctop_py.present import DASH
from ctop_py.ui import fmt
from ctop_py.ui.history import History

# A cell before it becomes a Text: (plain text, style). Compared tick to tick so that only
# changed cells are sent to the DataTable.
Cell = tuple[str, str]
SortValue = float | str | None

NAME_LIMIT = 28
IMAGE_LIMIT = 24
SPARK_WIDTH = 8


@dataclass(frozen=True)
class RowInput:
    view: ContainerView
    history: History
    findings: tuple[Finding, ...] = ()  # ctop_py.diagnose, most severe first

    def inputs(self) -> tuple[object, ...]:
        """Everything a cell of the row reads: equal inputs, equal cells. The view (an idle
        container's raw counters are the very objects of the previous tick, so comparing is
        cheap), the findings, the history's newest CPU points (the sparkline) and its recent
        OOM kills (the marks)."""
        history = self.history
        return (
            self.view,
            self.findings,
            history.recent_cpu(SPARK_WIDTH),
            history.oom_kills_recent(),
        )


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None  # None: sized to the content when rows are added
    right: bool
    cell: Callable[[RowInput], Cell]
    sort: Callable[[RowInput], SortValue] | None
    letter: str | None = None  # shift-letter that sorts by this column
    descending: bool = True  # natural direction: numbers largest first, text A→Z
    title: str = ""  # for help and the command palette


DIAGNOSIS_WIDTH = 44
SEVERITY_RANK = {"critical": 3.0, "warning": 2.0, "info": 1.0}


def _diagnosis(r: RowInput) -> Cell:
    """The most severe finding, marked and cut to the column; the container screen has all."""
    if not r.findings:
        return "", ""
    first = r.findings[0]
    mark = "●" if first.severity == "critical" else "▲" if first.severity == "warning" else "·"
    more = f" +{len(r.findings) - 1}" if len(r.findings) > 1 else ""
    text = f"{mark} {first.sentence}"
    room = DIAGNOSIS_WIDTH - len(more)
    if len(text) > room:
        text = text[: room - 1] + "…"
    style = fmt.DANGER if first.severity == "critical" else fmt.WARN
    return text + more, style


def _diagnosis_rank(r: RowInput) -> SortValue:
    return SEVERITY_RANK[r.findings[0].severity] + len(r.findings) / 100 if r.findings else None


def _has_cgroup(r: RowInput) -> bool:
    return r.view.raw.cgroup is not None


def _name(r: RowInput) -> Cell:
    style = ""
    if r.history.oom_kills_recent():
        style = fmt.DANGER
    elif not r.view.raw.pids:
        style = fmt.DIM
    return present.safe(r.view.name, NAME_LIMIT), style


def _image(r: RowInput) -> Cell:
    image = r.view.raw.image
    if image is None:
        return f"({r.view.raw.runtime})", fmt.DIM
    return present.safe(image, IMAGE_LIMIT), ""


def _state(r: RowInput) -> Cell:
    state = present.safe(r.view.raw.state, 10)
    ooms = r.history.oom_kills_recent()
    if ooms:
        return f"OOM×{ooms}", fmt.DANGER
    if state == "running":
        return state, ""
    if state == "paused":
        return state, fmt.WARN
    return state, fmt.DIM


def _cpu(r: RowInput) -> Cell:
    return fmt.pct(r.view.usage.cpu_percent), ""


def _cpu_of_quota(r: RowInput) -> Cell:
    value = r.view.usage.cpu_percent_of_quota
    if r.view.limits.cpu_quota_cores is None:  # a % of no limit: none (∞ read as a figure)
        return DASH, fmt.DIM if _has_cgroup(r) else ""
    style = fmt.WARN if value is not None and value >= 90 else ""
    return fmt.pct(value), style


def _throttled(r: RowInput) -> Cell:
    value = r.view.throttling.throttled_percent
    return fmt.pct(value), fmt.throttle_style(value)


def _spark(r: RowInput) -> Cell:
    quota = r.view.limits.cpu_quota_cores
    values = r.history.cpu()
    top = None if quota is None else quota * 100
    known = [v for v in values[-SPARK_WIDTH:] if v is not None]
    if top is not None and known:
        top = max(top, *known)
    style = fmt.throttle_style(r.view.throttling.throttled_percent) or "cyan"
    return fmt.spark(values, SPARK_WIDTH, top), style


def _memory(r: RowInput) -> Cell:
    u, lim = r.view.usage, r.view.limits
    used = fmt.short_size(u.memory_used_bytes)
    limit = fmt.short_limit(lim.memory_max_bytes, _has_cgroup(r))
    style = fmt.memory_style(u.memory_percent_of_limit)
    if r.history.oom_kills_recent():
        style = fmt.DANGER
    return f"{used} / {limit}", style


def _memory_percent(r: RowInput) -> Cell:
    value = r.view.usage.memory_percent_of_limit
    if r.view.limits.memory_max_bytes is None:  # a % of no limit: none (as the CLI prints)
        return DASH, fmt.DIM if _has_cgroup(r) else ""
    return fmt.pct(value), fmt.memory_style(value)


def _net(r: RowInput) -> Cell:
    u = r.view.usage
    if r.view.raw.shared_namespaces.get("net") == HOST_NAMESPACE:
        return "host net", fmt.DIM
    return f"{fmt.short_size(u.net_rx_bytes_per_s)} / {fmt.short_size(u.net_tx_bytes_per_s)}", ""


def _io(r: RowInput) -> Cell:
    u = r.view.usage
    return f"{fmt.short_size(u.io_read_bytes_per_s)} / {fmt.short_size(u.io_write_bytes_per_s)}", ""


def _pids(r: RowInput) -> Cell:
    current, limit = r.view.usage.pids_current, r.view.limits.pids_max
    style = ""
    if current is not None and limit:
        ratio = 100.0 * current / limit
        style = fmt.DANGER if ratio >= fmt.PIDS_DANGER else ""
    return f"{present.count(current)} / {present.count(limit, _has_cgroup(r))}", style


def _sum(a: float | None, b: float | None) -> float | None:
    if a is None and b is None:
        return None
    return (a or 0.0) + (b or 0.0)


COLUMNS: tuple[Column, ...] = (
    Column("name", "NAME", None, False, _name, lambda r: r.view.name.lower(), "N", False, "name"),
    Column(
        "image",
        "IMAGE",
        None,
        False,
        _image,
        lambda r: (r.view.raw.image or "").lower(),
        "I",
        False,
        "image",
    ),
    Column("state", "STATE", 10, False, _state, lambda r: r.view.raw.state, "S", False, "state"),
    Column("cpu", "CPU %", 6, True, _cpu, lambda r: r.view.usage.cpu_percent, "C", title="CPU %"),
    Column(
        "cpuq",
        "%CPU/Q",
        6,
        True,
        _cpu_of_quota,
        lambda r: r.view.usage.cpu_percent_of_quota,
        "Q",
        title="% of CPU quota",
    ),
    Column(
        "thr",
        "THR %",
        5,
        True,
        _throttled,
        lambda r: r.view.throttling.throttled_percent,
        "T",
        title="throttled % of periods",
    ),
    Column("spark", "CPU HIST", SPARK_WIDTH, False, _spark, None),
    Column(
        "mem",
        "MEM/LIMIT",
        11,
        True,
        _memory,
        lambda r: r.view.usage.memory_used_bytes,
        "M",
        title="memory used",
    ),
    Column(
        "memp",
        "%MEM/L",
        6,
        True,
        _memory_percent,
        lambda r: r.view.usage.memory_percent_of_limit,
        "L",
        title="% of memory limit",
    ),
    Column(
        "net",
        "NET RX/TX",
        11,
        True,
        _net,
        lambda r: _sum(r.view.usage.net_rx_bytes_per_s, r.view.usage.net_tx_bytes_per_s),
        "X",
        title="network rx+tx",
    ),
    Column(
        "io",
        "IO R/W",
        11,
        True,
        _io,
        lambda r: _sum(r.view.usage.io_read_bytes_per_s, r.view.usage.io_write_bytes_per_s),
        "O",
        title="block I/O read+write",
    ),
    Column(
        "pids",
        "PIDS/MAX",
        11,
        True,
        _pids,
        lambda r: None if r.view.usage.pids_current is None else float(r.view.usage.pids_current),
        "P",
        title="pids",
    ),
    Column(
        "diagnosis",
        "DIAGNOSIS",
        DIAGNOSIS_WIDTH,
        False,
        _diagnosis,
        _diagnosis_rank,
        "D",
        title="diagnosis (most severe first)",
    ),
)

BY_KEY = {c.key: c for c in COLUMNS}
SORTABLE = tuple(c for c in COLUMNS if c.sort is not None)


def cells(r: RowInput) -> tuple[Cell, ...]:
    return tuple(c.cell(r) for c in COLUMNS)


# What a row is sorted by: its value in the sort column, then its name (lowercased).
OrderKey = tuple[SortValue, str]


def order_key(r: RowInput, column: Column) -> OrderKey:
    assert column.sort is not None
    return column.sort(r), r.view.name.lower()


def order(rows: dict[str, RowInput], column: Column, reverse: bool) -> list[str]:
    """Row keys sorted by `column` (its natural direction, flipped by `reverse`); unknown values
    last in either direction; ties by name then key, so the order is stable."""
    return order_of({key: order_key(r, column) for key, r in rows.items()}, column, reverse)


def order_of(keys: dict[str, OrderKey], column: Column, reverse: bool) -> list[str]:
    """`order`, from each row's `order_key`."""
    descending = column.descending != reverse
    known: list[tuple[float | str, str, str]] = []
    unknown: list[tuple[str, str]] = []
    for key, (value, tie) in keys.items():
        if value is None:
            unknown.append((tie, key))
        else:
            known.append((value, tie, key))
    known.sort(key=lambda t: (t[1], t[2]))  # stable tie order: by name, then key
    known.sort(key=lambda t: t[0], reverse=descending)
    unknown.sort()
    return [t[2] for t in known] + [t[1] for t in unknown]


def in_order(
    first: tuple[str, OrderKey], then: tuple[str, OrderKey], column: Column, reverse: bool
) -> bool | None:
    """Whether `order` puts row `first` (its key and order key) before row `then`; None where
    a value is not a number or string that compares (NaN): only a full sort tells."""
    (key_a, (a, tie_a)), (key_b, (b, tie_b)) = first, then
    for value in (a, b):
        if value is not None and (value != value or not isinstance(value, float | int | str)):
            return None
    if a is None or b is None:
        if a is None and b is None:
            return (tie_a, key_a) < (tie_b, key_b)
        return b is None  # unknown values last
    if a == b:
        return (tie_a, key_a) < (tie_b, key_b)
    if isinstance(a, str) != isinstance(b, str):
        return None  # a str beside a number: the sort itself would fail
    descending = column.descending != reverse
    return bool(a > b) if descending else bool(a < b)  # type: ignore[operator]
