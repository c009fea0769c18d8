"""Replaying a recording in the app: a cursor over the samples, a play clock and speeds.

`ReplayPlayer` is the app's source in replay mode. The UI thread moves the cursor (step, jump,
pause, speed; all cheap) and the collect worker turns the wanted position into a `Frame`: the
Snapshot derived from the sample and the one before it (`ReplaySource` does that), plus what
the histories need so that the sparklines show the recording's past, not the order the user
moved in: the samples skipped while playing fast, or, after a move backwards or a jump, the
histories rebuilt (in the worker) from the last HISTORY_LENGTH samples up to the cursor.

Playing shows sample i at the offset of its wall time from the sample where playing started,
divided by the speed. Gaps longer than MAX_WAIT_S (a recording appended to days later, a
suspended host) are played as MAX_WAIT_S. The clock is injected: tests and screenshots step a
`ManualClock` instead of sleeping.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ctop_py.derive import derive
from ctop_py.model import RawSample, Snapshot
from ctop_py.sources import ReplaySource, TimeError, parse_time
from ctop_py.ui.history import HISTORY_LENGTH, Histories

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
MAX_WAIT_S = 10.0  # the longest pause between two samples while playing (recording seconds)
CONTEXT = 120  # samples before a jump's target given for the timeline and the diagnosis
FEED_AHEAD = 32  # a move forward by at most this many samples feeds them; farther rebuilds
TICK_S = 0.1  # how often the app asks whether the next sample is due (no worker unless it is)

Clock = Callable[[], float]


class ManualClock:
    """A clock that moves only when told to (tests, screenshots)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Frame:
    """What the worker hands the UI thread for one collection: the Snapshot, and for a move of
    a replay's cursor its position and what the histories need."""

    index: int | None  # the sample's position in a replay; None live
    snapshot: Snapshot
    backlog: tuple[Snapshot, ...] = ()  # skipped samples, oldest first: feed them first
    histories: Histories | None = None  # rebuilt: replaces the app's (keeping its pins)
    # With rebuilt histories: the samples before this one (oldest first, up to CONTEXT), so
    # that the timeline and the diagnosis start again with the recent past, not from nothing.
    context: tuple[RawSample, ...] = ()


@dataclass(frozen=True)
class ReplayStatus:
    """The header's replay line."""

    title: str
    time: float  # the sample's wall time
    offset_s: float  # from the first sample
    total_s: float
    index: int  # 0-based
    count: int
    speed: float
    playing: bool
    tz: tzinfo | None

    @property
    def at_end(self) -> bool:
        return self.index >= self.count - 1

    def clock_text(self) -> str:
        return datetime.fromtimestamp(self.time, self.tz).strftime("%H:%M:%S")

    def position_text(self) -> str:
        return (
            f"+{_seconds(self.offset_s)} s of {_seconds(self.total_s)} s "
            f"({self.index + 1}/{self.count})"
        )

    def state_text(self) -> str:
        if self.playing:
            return "▶ playing"
        return "end of recording" if self.at_end else "PAUSED"


def speed_text(speed: float) -> str:
    return f"{speed:g}×"


def _nearest_speed(speed: float) -> float:
    return min(SPEEDS, key=lambda s: abs(s - speed))


def _seconds(value: float) -> str:
    """Whole seconds; one decimal below ten seconds when it is not whole."""
    rounded = round(value, 1)
    if abs(rounded) >= 10 or rounded == int(rounded):
        return f"{round(value):d}"
    return f"{rounded:.1f}"


class ReplayPlayer:
    """A recording as the app's source: `next_frame()` (worker thread) delivers the position
    the UI thread asked for (`step`, `jump_to`, `play` at the end) or the one due while playing.

    `index` is the sample last delivered; `None` before the first frame. All state is guarded
    by one lock: the UI thread and the worker thread both touch it.
    """

    def __init__(
        self,
        samples: Sequence[RawSample],
        *,
        title: str,
        clock: Clock = time.monotonic,
        speed: float = 1.0,
        playing: bool = True,
        tz: tzinfo | None = None,
        history_length: int = HISTORY_LENGTH,
    ) -> None:
        self.recording = ReplaySource(samples)  # raises ValueError on no samples
        self.samples = self.recording.samples
        self.title = title
        self.clock = clock
        self.tz = tz
        self.history_length = history_length
        self.speed = _nearest_speed(speed)
        self.playing = playing and len(self.samples) > 1
        self.index: int | None = None
        self._target: int | None = 0  # the position asked for, not delivered yet
        self._lock = threading.Lock()
        # Playing position of each sample: recording seconds, gaps capped, never backwards.
        play_at = [0.0]
        for before, after in zip(self.samples, self.samples[1:], strict=False):
            gap = after.time - before.time
            play_at.append(play_at[-1] + min(MAX_WAIT_S, max(0.0, gap)))
        self._play_at = play_at
        self._anchor_clock = clock()
        self._anchor_at = 0.0

    # -- the SnapshotSource protocol -----------------------------------------------------------

    def next(self) -> Snapshot | None:
        frame = self.next_frame()
        return None if frame is None else frame.snapshot

    def want_detail(self, ids: frozenset[str]) -> bool:
        return False  # recorded: nothing more to read

    def close(self) -> None:
        pass

    # -- the UI thread ---------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return len(self.samples)

    @property
    def last(self) -> int:
        return len(self.samples) - 1

    @property
    def pending(self) -> bool:
        """A move was asked for and not delivered yet, or the next sample is due."""
        with self._lock:
            return self._wanted() != self.index

    def status(self, index: int | None = None) -> ReplayStatus:
        with self._lock:
            shown = self.index if index is None else index
            playing = self.playing
        shown = 0 if shown is None else shown
        sample = self.samples[shown]
        return ReplayStatus(
            title=self.title,
            time=sample.time,
            offset_s=sample.time - self.recording.start,
            total_s=self.recording.end - self.recording.start,
            index=shown,
            count=self.count,
            speed=self.speed,
            playing=playing,
            tz=self.tz,
        )

    def play(self) -> None:
        """Play from the sample shown; from the first one when the end is shown."""
        with self._lock:
            if self.last == 0:
                return
            base = self._base()
            if base >= self.last:
                base = self._target = 0
            self._anchor(base)
            self.playing = True

    def pause(self) -> None:
        with self._lock:
            if self.playing:
                due = max(self._due(), self.index or 0)
                if due != self.index:
                    self._target = due  # what was due is still shown, then it stays
                self.playing = False

    def step(self, by: int) -> None:
        """One sample (or `by`) forward or back; pauses."""
        with self._lock:
            self.playing = False
            self._target = max(0, min(self.last, self._base() + by))

    def jump_to(self, index: int) -> None:
        """Show sample `index`; playing goes on from there when it was playing."""
        with self._lock:
            self._target = max(0, min(self.last, index))
            if self.playing:
                self._anchor(self._target)

    def index_near(self, when: float) -> int:
        """The sample nearest to the wall time `when` (the earlier one on a tie)."""
        times = [s.time for s in self.samples]
        after = bisect.bisect_left(times, when)
        if after <= 0:
            return 0
        if after >= len(times):
            return len(times) - 1
        before = after - 1
        return before if when - times[before] <= times[after] - when else after

    def set_speed(self, speed: float) -> None:
        """The nearest of SPEEDS; playing goes on from the sample due now."""
        with self._lock:
            if self.playing:
                self._anchor(max(self._due(), self.index or 0))
            self.speed = _nearest_speed(speed)

    def faster(self) -> None:
        self.set_speed(SPEEDS[min(len(SPEEDS) - 1, SPEEDS.index(self.speed) + 1)])

    def slower(self) -> None:
        self.set_speed(SPEEDS[max(0, SPEEDS.index(self.speed) - 1)])

    # -- the worker thread -------------------------------------------------------------------

    def next_frame(self, pinned: frozenset[str] = frozenset()) -> Frame | None:
        """The Snapshot at the wanted position and what the histories need; None when the
        position shown is still the wanted one. `pinned`: history keys kept when their
        container is gone (the container on screen), as the app's Histories keeps them."""
        with self._lock:
            wanted = self._wanted()
            shown = self.index
            if wanted == shown:
                return None
        frame = self._frame(shown, wanted, pinned)
        with self._lock:
            if shown is None and self.playing:
                self._anchor(wanted)  # the clock starts with the first sample on screen
            self.index = wanted
            if self._target == wanted:
                self._target = None
            if self.playing and wanted >= self.last:
                self.playing = False
        return frame

    def snapshot_at(self, index: int) -> Snapshot:
        return derive(self.samples[index - 1] if index > 0 else None, self.samples[index])

    def _frame(self, shown: int | None, wanted: int, pinned: frozenset[str]) -> Frame:
        if shown is not None and shown < wanted <= shown + FEED_AHEAD:
            backlog = tuple(self.snapshot_at(i) for i in range(shown + 1, wanted))
            return Frame(wanted, self.snapshot_at(wanted), backlog=backlog)
        histories = Histories(self.history_length)
        histories.pinned.update(pinned)
        for i in range(max(0, wanted - self.history_length + 1), wanted):
            histories.feed(self.snapshot_at(i))
        context = tuple(self.samples[max(0, wanted - CONTEXT) : wanted])
        return Frame(wanted, self.snapshot_at(wanted), histories=histories, context=context)

    # -- under the lock ----------------------------------------------------------------------

    def _base(self) -> int:
        if self._target is not None:
            return self._target
        return 0 if self.index is None else self.index

    def _anchor(self, index: int) -> None:
        self._anchor_clock = self.clock()
        self._anchor_at = self._play_at[index]

    def _due(self) -> int:
        """The sample due now while playing."""
        position = self._anchor_at + (self.clock() - self._anchor_clock) * self.speed
        return max(0, bisect.bisect_right(self._play_at, position + 1e-9) - 1)

    def _wanted(self) -> int:
        if self._target is not None:
            return self._target
        if self.playing:
            return max(self._due(), self.index or 0)
        return 0 if self.index is None else self.index


# ---------------------------------------------------------------------------------------------
# The jump dialog's grammar.

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


def parse_jump(text: str, start: float, tz: tzinfo | None = None) -> float:
    """A time in a recording, as wall-clock epoch seconds: seconds from the start ("30",
    "+12.5"), a clock time on the recording's first day ("18:00:30", local unless `tz`), or an
    ISO time ("2026-11-29T18:00:30"). Raises TimeError saying why not."""
    text = text.strip()
    if not text:
        raise TimeError("type seconds from the start (30), a clock time (18:00:30) or an ISO time")
    match = _CLOCK.match(text)
    if match:
        hour, minute, second = (int(g) if g else 0 for g in match.groups())
        if hour > 23 or minute > 59 or second > 59:
            raise TimeError(f"not a clock time: {text!r}")
        first = datetime.fromtimestamp(start, tz)
        moment = first.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if moment.timestamp() < start - 12 * 3600:  # a recording that runs past midnight
            moment += timedelta(days=1)
        return moment.timestamp()
    when = parse_time(text, start)
    if not math.isfinite(when):
        raise TimeError(f"not a time: {text!r} (seconds from the start, or an ISO time)")
    return when
