"""The host line at the top: cgroup mode, CPUs, memory, containers, engines, our own cost.

In a replay it says so first (REPLAY and the recording's title, in reverse video) and its
second line is the cursor: the sample's wall time, its position, the speed, playing or not."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ctop_py import present
from ctop_py.model import Snapshot
from ctop_py.ui import fmt
from ctop_py.ui.replay import ReplayStatus, speed_text
from ctop_py.ui.source import SelfStats

REPLAY_STYLE = "bold reverse magenta"


def header_text(
    snapshot: Snapshot | None,
    own: SelfStats | None,
    interval_s: float,
    paused: bool,
    replay: ReplayStatus | None = None,
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append("ctop-py ", style="bold")
    if replay is not None:
        text.append(f" REPLAY {present.safe(replay.title, 60)} ", style=REPLAY_STYLE)
        text.append(" ")
        if snapshot is not None:
            text.append("recorded on ", style=fmt.DIM)
    if snapshot is None:
        text.append("waiting for the first sample…", style=fmt.DIM)
    else:
        host = snapshot.host
        running = sum(1 for c in snapshot.containers if c.raw.pids)
        text.append(present.safe(host.hostname, 40), style="bold cyan")
        text.append(f"  cgroup v{host.cgroup_version} ({present.safe(host.cgroup_mode)})")
        text.append(f" · {host.cpus} CPUs · {present.size(host.memory_bytes)}")
        text.append(f" · host CPU {present.percent(snapshot.host_cpu_percent)}")
        text.append(f" · {running} running / {len(snapshot.containers)} containers")
        for runtime, status in sorted(snapshot.raw.engine_status.items()):
            text.append(" · ")
            if status.ok:
                text.append(f"{present.safe(runtime)}: ok", style="green")
            else:
                problem = present.safe(status.to_text(), 48)
                text.append(f"{present.safe(runtime)}: {problem}", style=fmt.WARN)
    text.append("\n")
    if replay is not None:
        _replay_line(text, replay)
        text.append(" · ", style=fmt.DIM)
    text.append("ctop-py itself: ", style=fmt.DIM)
    if own is None:
        text.append("–")
    else:
        text.append(f"CPU {present.percent(own.cpu_percent)} · RSS {present.size(own.rss_bytes)}")
    if replay is None:
        text.append(f" · every {interval_s:g} s", style=fmt.DIM)
        if paused:
            text.append("  PAUSED", style="bold reverse yellow")
    if snapshot is not None and snapshot.raw.notes:
        text.append(f" · {len(snapshot.raw.notes)} note(s): ", style=fmt.DIM)
        text.append(present.safe(snapshot.raw.notes[0], 80), style=fmt.DIM)
    return text


def _replay_line(text: Text, replay: ReplayStatus) -> None:
    text.append(replay.clock_text(), style="bold")
    text.append(f"  {replay.position_text()}  ")
    text.append(speed_text(replay.speed), style="bold")
    text.append("  ")
    if replay.playing:
        text.append(replay.state_text(), style="bold green")
    else:
        text.append(f" {replay.state_text()} ", style="bold reverse yellow")


class HostHeader(Static):
    DEFAULT_CSS = """
    HostHeader {
        height: 2;
        padding: 0 1;
        background: $panel;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text(""), id=id)
        self._plain = ""

    def show(
        self,
        snapshot: Snapshot | None,
        own: SelfStats | None,
        interval_s: float,
        paused: bool,
        replay: ReplayStatus | None = None,
    ) -> None:
        text = header_text(snapshot, own, interval_s, paused, replay)
        if text.plain != self._plain:  # styles follow from the text: compare it only
            self._plain = text.plain
            self.update(text, layout=False)
