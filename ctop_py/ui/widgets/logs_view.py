"""The Logs tab: a container's last lines, following live.

A thread reads the engine's stream into a bounded inbox; a timer on the UI thread moves what
arrived into a bounded `LogBuffer` and onto the screen, a batch at a time. Memory is bounded
twice: the inbox and the buffer keep at most `max_lines` lines each (a line at most 1 MiB,
and only the first DISPLAY_CHARS characters of one are drawn).

Keys (while the tab has focus): f pauses/resumes following, / searches (only the lines that
match are shown, the matches highlighted), T shows the engine's timestamps, o cycles
stdout+stderr / stdout / stderr. stderr lines carry a red bar. Text from the container is
shown literally: never markup, control characters and escape sequences as visible escapes.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Input, Static

from ctop_py import present
from ctop_py.logs import (
    STDERR,
    STDOUT,
    Lines,
    LogBuffer,
    LogLine,
    LogOpener,
    LogOptions,
    LogSource,
)
from ctop_py.ui import fmt

DRAIN_S = 0.2
TAIL = 1000  # lines asked for when the tab opens
DISPLAY_CHARS = 4000  # of one line; the rest is counted, `ctop-py logs` prints it all
STREAMS = ("both", STDOUT, STDERR)


class LogLines(ScrollView, can_focus=True):
    """The lines on screen, drawn lazily: only the rows in view are rendered (a Line API
    widget), so a flood of lines costs a list append each, not a render each."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "First line", show=False),
        Binding("end", "scroll_end", "Last line", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
    ]

    def __init__(self, render: Callable[[LogLine], Text], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.render_row = render
        self.rows: list[LogLine] = []
        self._width = 0
        self._cache: dict[int, Strip] = {}

    def set_rows(self, rows: list[LogLine], follow: bool) -> None:
        self.rows = rows
        self._cache.clear()
        self._width = max((self._cells(r) for r in rows[-2000:]), default=0)
        self.virtual_size = Size(self._width, len(rows))
        self.refresh()
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def add_rows(self, rows: list[LogLine], limit: int, follow: bool) -> None:
        if not rows:
            return
        at_end = self.is_vertical_scroll_end
        self.rows.extend(rows)
        if len(self.rows) > limit:
            del self.rows[: len(self.rows) - limit]
            self._cache.clear()
        self._width = max([self._width, *(self._cells(r) for r in rows[-2000:])])
        self.virtual_size = Size(self._width, len(self.rows))
        if follow and at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    @staticmethod
    def _cells(row: LogLine) -> int:
        return min(len(row.text), DISPLAY_CHARS) + 48

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        style = self.rich_style
        width = self.size.width
        if index >= len(self.rows):
            return Strip.blank(width, style)
        strip = self._cache.get(index)
        if strip is None:
            text = self.render_row(self.rows[index])
            strip = Strip(text.render(self.app.console), text.cell_len)
            if len(self._cache) > 4 * max(self.size.height, 10):
                self._cache.clear()
            self._cache[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)

    def plain_lines(self) -> list[str]:
        """The rows as text, as they are drawn (tests)."""
        return [self.render_row(row).plain for row in self.rows]


class _End:
    """Put in the inbox when the stream ends; `reason` is None for a normal end."""

    def __init__(self, reason: str | None) -> None:
        self.reason = reason


class _Opened:
    """Put in the inbox when the stream is open (a quiet container sends nothing else), with
    what the engine said about the log: its driver, and whether it is a TTY's one stream."""

    def __init__(self, source: LogSource | None) -> None:
        self.source = source


class LogsView(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_follow", "Follow / pause"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("T", "toggle_timestamps", "Timestamps"),
        Binding("o", "cycle_streams", "stdout / stderr"),
        Binding("escape", "clear_search", "Clear search", show=False),
    ]
    DEFAULT_CSS = """
    LogsView { height: 1fr; }
    LogsView > #logs-status { height: 1; background: $boost; padding: 0 1; }
    LogsView > #logs-search { height: 3; display: none; }
    LogsView > LogLines { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(
        self,
        opener: LogOpener | None,
        max_lines: int = 5000,
        *,
        unavailable: str = "",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.opener = opener
        self.unavailable = unavailable
        self.max_lines = max_lines
        self.buffer = LogBuffer(max_lines=max_lines)
        self._inbox: deque[LogLine | _End | _Opened] = deque(maxlen=max_lines + 2)
        self._lock = threading.Lock()
        self._stream: Lines | None = None
        self._generation = 0  # the reader that may fill the inbox (stop() moves it on)
        self._timer: Timer | None = None
        self.loaded_for: str | None = None
        self.following = True
        self.timestamps = False
        self.streams = "both"
        self.search = ""
        self.ended: str | None = None  # why the stream ended ("" when it simply ended)
        self.waiting = 0  # lines that arrived while paused
        self._frozen: list[LogLine] | None = None  # what the paused view shows
        self.source: LogSource | None = None  # the driver, once the stream is open

    def compose(self) -> ComposeResult:
        yield Static(id="logs-status")
        yield Input(placeholder="search the log — enter keeps it, esc clears", id="logs-search")
        yield LogLines(self.line_text, id="logs-lines")

    def on_mount(self) -> None:
        message = self.unavailable or "the log loads here when this tab is shown"
        self.query_one("#logs-status", Static).update(Text(message, style=fmt.DIM))

    @property
    def lines_log(self) -> LogLines:
        return self.query_one("#logs-lines", LogLines)

    # -- the stream -------------------------------------------------------------------------

    def start(self, ref: str, force: bool = False) -> None:
        """Show the logs of container `ref` (once per container unless forced)."""
        if self.opener is None or (self.loaded_for == ref and not force):
            return
        self.stop()
        self.loaded_for = ref
        self.buffer = LogBuffer(max_lines=self.max_lines)
        self._inbox.clear()
        self.ended = None
        self.waiting = 0
        self.source = None
        self._frozen = None if self.following else []
        self.lines_log.set_rows([], follow=True)
        self._status("connecting…")
        # A plain daemon thread, not a Textual worker: following never completes, and the
        # app's workers.wait_for_complete() (tests, the explorer) must not wait for it.
        threading.Thread(
            target=self._read,
            args=(self.opener, ref, self._generation),
            name="ctop-py logs",
            daemon=True,
        ).start()
        if self._timer is None:
            self._timer = self.set_interval(DRAIN_S, self.drain)

    def stop(self) -> None:
        """End the reader: its stream is closed, and what it still reads is not kept."""
        with self._lock:
            self._generation += 1
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def on_unmount(self) -> None:
        self.stop()

    def _read(self, opener: LogOpener, ref: str, generation: int) -> None:
        """The reader thread: the stream into the inbox, then why it ended. A reader whose
        generation is not the view's any more (stopped, or started again) puts nothing in."""

        def current() -> bool:
            return generation == self._generation

        try:
            stream = opener(ref, LogOptions(tail=TAIL, follow=True, timestamps=True))
        except Exception as exc:  # EngineError: one line; anything else said the same way
            if current():
                self._inbox.append(_End(str(exc)))
            return
        with self._lock:
            stale = not current()
            if not stale:
                self._stream = stream
        if stale:  # stopped while it was opening
            stream.close()
            return
        source = getattr(stream, "source", None)
        self._inbox.append(_Opened(source if isinstance(source, LogSource) else None))
        reason: str | None = None
        try:
            for line in stream:
                if not current():
                    break
                self._inbox.append(line)
        except Exception as exc:
            reason = str(exc)
        finally:
            with self._lock:
                if self._stream is stream:
                    self._stream = None
            stream.close()
        if current():
            self._inbox.append(_End(reason))

    def drain(self) -> None:
        """Move what arrived onto the screen (UI thread, every DRAIN_S)."""
        if not self._inbox:
            return
        fresh: list[LogLine] = []
        while self._inbox:
            item = self._inbox.popleft()
            if isinstance(item, _Opened):
                self.source = item.source
            elif isinstance(item, _End):
                self.ended = item.reason or ""
            elif isinstance(item, LogLine):
                fresh.append(item)
        self.buffer.extend(fresh)
        if self.following:
            shown = [line for line in fresh[-self.max_lines :] if self._visible(line)]
            self.lines_log.add_rows(shown, self.max_lines, follow=True)
        else:
            self.waiting += len(fresh)
        self._show_status()

    # -- rendering ----------------------------------------------------------------------------

    def _visible(self, line: LogLine) -> bool:
        if self.streams != "both" and line.stream != self.streams:
            return False
        return not self.search or self.search.lower() in line.text.lower()

    def line_text(self, line: LogLine) -> Text:
        text = Text(no_wrap=True, end="")
        if line.stream == STDERR:
            text.append("▌", style="red")
        else:
            text.append(" ")
        if self.timestamps and line.timestamp:
            text.append(line.timestamp, style=fmt.DIM)
            text.append(" ")
        body = line.text
        hidden = max(0, len(body) - DISPLAY_CHARS)
        text.append(present.log_text(body[:DISPLAY_CHARS] if hidden else body))
        if self.search:
            text.highlight_regex(
                re.compile(re.escape(present.log_text(self.search)), re.IGNORECASE),
                style="reverse",
            )
        if hidden or line.cut:
            more = hidden + line.cut
            text.append(f" … {more:,} more characters (ctop-py logs prints them)", style=fmt.DIM)
        return text

    def redraw(self) -> None:
        source = self.buffer.lines if self._frozen is None else self._frozen
        rows = [line for line in source if self._visible(line)]
        self.lines_log.set_rows(rows, follow=self.following)
        self._show_status()

    def say(self, message: str) -> None:
        """Why there is no log to show here."""
        self._status(message)

    def _status(self, message: str, style: str = fmt.DIM) -> None:
        self.query_one("#logs-status", Static).update(Text(message, style=style))

    def _show_status(self) -> None:
        parts = [
            "following" if self.following else f"paused ({self.waiting:,} new lines: f resumes)",
            f"{len(self.buffer):,} lines kept (max {self.max_lines:,})",
        ]
        if self.buffer.dropped:
            parts.append(f"{self.buffer.dropped:,} older let go")
        parts.append(
            {"both": "stdout + stderr", STDOUT: "stdout only", STDERR: "stderr only"}[self.streams]
        )
        if self.source is not None:
            parts.append(f"{present.safe(self.source.driver, 20)} driver")
            if self.source.tty:
                parts.append("a TTY: stdout and stderr are one stream")
        if self.search:
            count = sum(1 for line in self.buffer.lines if self._visible(line))
            parts.append(f"search {present.safe(self.search, 30)!r}: {count:,} lines")
        style = fmt.DIM
        if self.ended is not None:
            if self.ended:
                parts.append(f"stopped: {present.safe(self.ended, 300)}")
                style = fmt.DANGER
            else:
                parts.append("end of log (the container is not running; R reconnects)")
        self._status(" · ".join(parts), style)

    # -- keys ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":  # without a search, esc goes back (the screen's binding)
            return bool(self.search) or self.query_one("#logs-search", Input).display
        return True

    def action_toggle_follow(self) -> None:
        """Pause: the view keeps what it shows (lines go on arriving into the buffer);
        resume: the view catches up."""
        self.following = not self.following
        if self.following:
            self.waiting = 0
            self._frozen = None
            self.redraw()
        else:
            self._frozen = list(self.buffer.lines)
        self._show_status()

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self.redraw()

    def action_cycle_streams(self) -> None:
        self.streams = STREAMS[(STREAMS.index(self.streams) + 1) % len(STREAMS)]
        self.redraw()

    def action_search(self) -> None:
        field = self.query_one("#logs-search", Input)
        field.display = True
        field.value = self.search
        field.focus()

    def action_clear_search(self) -> None:
        field = self.query_one("#logs-search", Input)
        field.value = ""
        field.display = False
        self.search = ""
        self.lines_log.focus()
        self.redraw()

    @on(Input.Changed, "#logs-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.search = event.value
        self.redraw()

    @on(Input.Submitted, "#logs-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#logs-search", Input).display = False
        self.lines_log.focus()
