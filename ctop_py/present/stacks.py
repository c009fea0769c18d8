"""Python stacks (py-spy dumps and profiles) as plain text: `ctop-py stacks` and the app's
Stacks tab."""

from __future__ import annotations

from collections.abc import Sequence

from ctop_py import present, stacks
from ctop_py.model import Process


def results_text(results: Sequence[tuple[Process, object]]) -> str:
    """`ctop-py stacks`: each process, then its threads (or its hottest functions)."""
    out = []
    for p, r in results:
        if isinstance(r, stacks.StackError):
            continue
        inside = f" (pid {p.nspid[-1]} in the container)" if len(p.nspid) > 1 else ""
        cmd = " ".join(p.cmdline) or p.comm
        out.append(f"Process {p.pid}{inside}: {present.safe(cmd, 100)}")
        if isinstance(r, stacks.Profile):
            out.append(profile_text(r))
        else:
            assert isinstance(r, stacks.ProcessStacks)
            out.extend(dump_text(r))
        out.append("")
    return "\n".join(out).rstrip()


def frame_text(f: stacks.Frame) -> str:
    where = f.short_filename or f.filename
    line = f":{f.line}" if f.line else ""
    return f"{present.safe(f.name, 80)} ({present.safe(where, 120)}{line})"


def dump_text(s: stacks.ProcessStacks) -> list[str]:
    lines = []
    for t in s.threads:
        tid = t.os_thread_id if t.os_thread_id is not None else hex(t.thread_id)
        name = f' "{present.safe(t.name, 60)}"' if t.name else ""
        state = "active" if t.active else "idle"
        gil = ", holds the GIL" if t.owns_gil else ""
        lines.append(f"  Thread {tid}{name} ({state}{gil})")
        lines.extend(f"    {frame_text(f)}" for f in t.frames)
    return lines


def profile_text(pr: stacks.Profile) -> str:
    rows = [
        [
            present.percent(100 * h.self_samples / pr.samples if pr.samples else None),
            present.percent(100 * h.total_samples / pr.samples if pr.samples else None),
            str(h.self_samples),
            str(h.total_samples),
            present.safe(h.name, 60),
            present.safe(h.filename or "", 80),
        ]
        for h in pr.hottest
    ]
    table = present.table(
        ["OWN%", "TOTAL%", "OWN", "TOTAL", "FUNCTION", "FILE"], rows, right={0, 1, 2, 3}
    )
    head = f"  {pr.samples} samples over {pr.duration_s:g} s at {pr.rate_hz} Hz"
    return head + "\n" + "\n".join("  " + line for line in table.splitlines())


def outcomes_text(outcomes: Sequence[stacks.StackOutcome], picked: bool) -> str:
    """The app's Stacks tab: every Python process of a container (or the one `t` picked)."""
    lines: list[str] = []
    if not picked:
        lines += ["all Python processes (t on the Processes tab picks one)", ""]
    for outcome in outcomes:
        who = f"pid {outcome.pid} ({present.safe(outcome.comm or 'python')})"
        if outcome.error is not None:
            lines.append(f"{who}: {present.safe(str(outcome.error))}")
        elif outcome.stacks is not None:
            lines.append(who)
            lines.extend(dump_text(outcome.stacks))
        lines.append("")
    return "\n".join(lines).rstrip() or "no Python process answered"
