"""The floor of a Textual list: the smallest app that shows what the containers list shows.

A two-line header, a DataTable of ROWS rows in the list's 14 columns (its widths), and nothing
else: once a second it puts new text in the header and in CHANGES cells of the table (the cells
the live list changes a tick at 32 idle containers and a spinner: ~4-5, counted by
`ContainerTable.cell_updates`), with DataTable.update_cell, and reads nothing. Run in a detached
200x50 tmux as the app is by `make bench`; its whole-process CPU is read from /proc/<pid>/stat
over the same windows as the floor loop of `benchmarks.screens` (8 cgroup files a container).

    python -m benchmarks.textual_floor [--rows 10,32] [--changes 4] [--seconds 30] [--rounds 3]
        [--quiet-driver] [--lines]

`--lines`: the least a Textual table can do instead of a DataTable: a widget of the Line API
keeping one Strip a row, a changed row's line made again and repainted, nothing else.
`--quiet-driver`: with ctop-py's terminal driver (`ctop_py.ui.driver`), whose input thread
sleeps while no key comes; without it, Textual's own.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.util import loadavg, proc_cpu_s

REPO = Path(__file__).resolve().parent.parent
WIDTHS = (26, 16, 10, 6, 6, 5, 10, 11, 6, 11, 11, 11, 40)  # name … diagnosis, as on screen


def serve(rows: int, changes: int, quiet: bool, lines: bool, reads: str | None = None) -> None:
    """The app itself (run inside tmux). `reads`: a JSON file of `benchmarks.list_floor`'s
    reads, read each second before the table is updated (the list's own floor)."""
    from rich.segment import Segment
    from textual.app import App, ComposeResult
    from textual.geometry import Region
    from textual.strip import Strip
    from textual.widget import Widget
    from textual.widgets import DataTable, Static

    class Lines(Widget):
        """The least a table can do: one cached Strip a row, a changed row's line repainted."""

        def __init__(self) -> None:
            super().__init__()
            self.cells = [[f"r{r}c{c}" for c in range(len(WIDTHS))] for r in range(rows)]
            self.strips: dict[int, Strip] = {}

        def add_column(self, *a: Any, **kw: Any) -> None:
            pass

        def add_row(self, *a: Any, **kw: Any) -> None:
            pass

        def update_cell(self, row: str, column: str, value: str) -> None:
            r = int(row)
            self.cells[r][int(column)] = value
            self.strips.pop(r, None)
            self.refresh(Region(0, r, self.size.width, 1))

        def render_line(self, y: int) -> Strip:
            if y >= rows:
                return Strip.blank(self.size.width)
            strip = self.strips.get(y)
            if strip is None:
                text = " ".join(v[:w].ljust(w) for v, w in zip(self.cells[y], WIDTHS, strict=True))
                strip = Strip([Segment(text)]).adjust_cell_length(self.size.width)
                self.strips[y] = strip
            return strip

    class Floor(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("", id="header")
            yield Lines() if lines else DataTable(cursor_type="row")

        def get_driver_class(self) -> Any:
            if quiet:
                from ctop_py.ui.driver import QuietLinuxDriver

                return QuietLinuxDriver
            return super().get_driver_class()

        def on_mount(self) -> None:
            self.query_one("#header", Static).styles.height = 2
            table: Any = self.query_one(Lines if lines else DataTable)
            for i, width in enumerate(WIDTHS):
                table.add_column(f"COL{i}", width=width, key=str(i))
            for r in range(rows):
                table.add_row(*(f"r{r}c{c}" for c in range(len(WIDTHS))), key=str(r))
            self.tick = 0
            self.reader: Any = None
            if reads is not None:
                import json

                from benchmarks.list_floor import Reader

                self.reader = Reader(json.loads(Path(reads).read_text()))
            self.set_interval(1.0, self.step)

        def step(self) -> None:
            if self.reader is not None:
                self.reader.read()
            self.tick += 1
            t = self.tick
            header = self.query_one("#header", Static)
            header.update(f"host CPU {t % 97}.{t % 7} %\nitself: CPU {t % 13}.{t % 3} %")
            table: Any = self.query_one(Lines if lines else DataTable)
            for n in range(changes):  # the spinner's row's changing cells, and one more row's
                row, column = (0, 3 + n) if n < 4 else (1 + n % max(1, rows - 1), 3)
                table.update_cell(str(row), str(column), f"{(t * (n + 3)) % 100}.{n}")

    Floor().run()


def measure(
    rows: int, changes: int, seconds: float, rounds: int, quiet: bool, lines: bool
) -> dict[str, Any]:
    session = f"ctop-floor-{uuid.uuid4().hex[:8]}"
    pidfile = Path(f"/tmp/{session}.pid")
    cmd = [sys.executable, "-m", "benchmarks.textual_floor", "--serve", str(rows)]
    cmd += ["--changes", str(changes)] + (["--quiet-driver"] if quiet else [])
    cmd += ["--lines"] if lines else []
    shell = f"cd {shlex.quote(str(REPO))} && echo $$ > {pidfile} && exec env "
    shell += "TERM=xterm-256color " + " ".join(shlex.quote(c) for c in cmd)
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", shell],
        check=True,
        timeout=30,
    )
    try:
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            time.sleep(0.1)
        pid = int(pidfile.read_text())
        time.sleep(5)  # imported, mounted, first frames drawn
        windows = []
        for _ in range(rounds):
            c0, t0 = proc_cpu_s(pid), time.monotonic()
            time.sleep(seconds)
            c1, t1 = proc_cpu_s(pid), time.monotonic()
            assert c0 is not None and c1 is not None, "the floor app exited"
            windows.append(100 * (c1 - c0) / (t1 - t0))
        return {
            "rows": rows,
            "changes": changes,
            "driver": "ctop-py's" if quiet else "Textual's",
            "table": "a Strip a row (Line API)" if lines else "DataTable.update_cell",
            "cpu_percent": [round(w, 3) for w in windows],
            "median": round(statistics.median(windows), 3),
            "loadavg": loadavg(),
        }
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
        pidfile.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.textual_floor")
    p.add_argument("--serve", type=int, metavar="ROWS", help=argparse.SUPPRESS)
    p.add_argument("--rows", default="10,32")
    p.add_argument("--changes", type=int, default=4)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quiet-driver", action="store_true")
    p.add_argument("--lines", action="store_true", help="a Strip a row instead of a DataTable")
    p.add_argument("--reads", help=argparse.SUPPRESS)  # benchmarks.list_floor's
    args = p.parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.changes, args.quiet_driver, args.lines, args.reads)
        return 0
    if shutil.which("tmux") is None:
        print("textual_floor: tmux is required", file=sys.stderr)
        return 2
    for rows in (int(x) for x in args.rows.split(",")):
        result = measure(
            rows, args.changes, args.seconds, args.rounds, args.quiet_driver, args.lines
        )
        print(result, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
