"""What starting the app takes, as plain data: its options and what it shows.

`ctop_py.cli` is the one place that starts the app (`make_app(source, options)` in
`ctop_py.ui.app`); a subcommand that opens the app (`replay`, `--demo`) returns a `Launch`
for the CLI to run, so `commands/` never imports the UI."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from ctop_py.model import RawSample

Clock = Callable[[], float]


@dataclass(frozen=True)
class AppOptions:
    """How the app starts (the CLI's options, typed). `speed`, `start_at` and `paused` only
    mean something in a replay: how fast it plays (0.25–16, the nearest step), where it starts
    (seconds from the start, a clock time or an ISO time; then paused there)."""

    interval_s: float = 1.0
    show_all: bool = False
    autostart: bool = True  # False: no timer; tests call `collect()` for each step
    speed: float = 1.0
    start_at: str | None = None
    paused: bool = False


@dataclass(frozen=True)
class Recorded:
    """A recording to replay: `ctop-py replay FILE`, `ctop-py --demo`, tests, screenshots."""

    samples: Sequence[RawSample]
    title: str
    clock: Clock = time.monotonic
    tz: tzinfo | None = None


@dataclass(frozen=True)
class Launch:
    """A subcommand's request that the CLI start the app over `source`."""

    source: Recorded
    options: AppOptions
