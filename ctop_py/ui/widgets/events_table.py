"""The events timeline as a table, newest first (the host's, or one container's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

from ctop_py import present
from ctop_py.diagnose import Finding
from ctop_py.events import Event, format_numbers
from ctop_py.model import EngineStatus
from ctop_py.ui import fmt

COLUMNS = ("TIME", "SOURCE", "KIND", "CONTAINER", "NUMBERS")
ROWS = 300  # rows on screen at most: the table is rebuilt when a new event comes
DANGER_KINDS = frozenset({"oom-kill", "pids-max", "memory-max", "destroy"})
WARN_KINDS = frozenset({"restart", "throttle-start", "memory-high", "kill", "stop"})


def kind_style(event: Event) -> str:
    if event.kind == "die":
        return fmt.DANGER if event.numbers.get("exit_code") not in (0, None) else fmt.WARN
    if event.kind in DANGER_KINDS:
        return fmt.DANGER
    if event.kind in WARN_KINDS:
        return fmt.WARN
    return ""


def event_cells(event: Event) -> tuple[Text, ...]:
    stamp = datetime.fromtimestamp(event.time).strftime("%H:%M:%S.%f")[:-3]
    return (
        Text(stamp, end=""),
        Text(event.source, style=fmt.DIM if event.source == "kernel" else "", end=""),
        Text(event.kind, style=kind_style(event), end=""),
        Text(present.safe(event.container, 32), end=""),
        Text(present.safe(format_numbers(event.numbers), 120), end=""),
    )


def findings_text(findings: Sequence[Finding]) -> Text:
    """The container screen's first lines: each finding, most severe first."""
    if not findings:
        return Text("no finding: nothing limits this container now", style=fmt.DIM)
    text = Text()
    for i, f in enumerate(findings):
        if i:
            text.append("\n")
        style = fmt.DANGER if f.severity == "critical" else fmt.WARN
        mark = "●" if f.severity == "critical" else "▲" if f.severity == "warning" else "·"
        text.append(f"{mark} {f.severity}: ", style=style)
        text.append(present.safe(f.sentence, 300))
    return text


def engine_note(engine_status: Mapping[str, EngineStatus]) -> str:
    down = [f"{r} engine {s.to_text()}" for r, s in engine_status.items() if not s.ok]
    if not down:
        return ""
    return "; ".join(present.safe(d, 120) for d in down) + ": its events are missing (kernel only)"


class EventsTable(DataTable[Text]):
    """Events newest first; rebuilt only when the events shown changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._shown: tuple[int, Event | None] = (0, None)

    def on_mount(self) -> None:
        for label in COLUMNS:
            self.add_column(label, key=label.lower())

    def show(self, events: Sequence[Event], container_id: str | None = None) -> int:
        """Show `events` (newest first), only `container_id`'s when given; returns how many."""
        if container_id is not None:
            events = [e for e in events if e.container_id == container_id]
        events = events[:ROWS]
        marker = (len(events), events[0] if events else None)
        if marker == self._shown:
            return len(events)
        self._shown = marker
        self.clear()
        for i, event in enumerate(events):
            self.add_row(*event_cells(event), key=str(i))
        return len(events)
