"""`ctop-py events [--since 10m] [--follow] [--json]`: the host's event timeline, one line (or
one JSON object) per event: the engines' events merged with the kernel counters' changes."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import datetime
from typing import Any

from ctop_py import present
from ctop_py.collect import Collector
from ctop_py.commands.common import CliError, find_container, note_engines_down, number_in, root_of
from ctop_py.events import Event, EventLog, format_numbers, from_engine
from ctop_py.export.json import core_to_json
from ctop_py.runtimes.engine_events import read_past_events

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def parse_since(text: str, now: float | None = None) -> float:
    """ "10m", "90s", "2h", "1d", "300" (seconds ago) or an ISO time -> epoch seconds."""
    now = time.time() if now is None else now
    match = _DURATION.match(text.strip())
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2) or "s"]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (a duration such as 90s, 10m, 2h, 1d, or an ISO time)"
        ) from None


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "events",
        parents=[common],
        help="the host's events: engine events merged with kernel counter changes",
        description="Engine events (oom, die, start, restart, …; the engine's buffered past "
        "first) merged with what the kernel counters show between samples: oom-kill, "
        "pids-max, memory-high, memory-max, throttle-start/-end, cgroup re-created. "
        "Kernel events still come with the engine down.",
    )
    p.add_argument(
        "--since", type=parse_since, default=None, metavar="WHEN",
        help="engine events since WHEN: 90s, 10m, 2h, 1d or an ISO time (default 10m)",
    )  # fmt: skip
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument(
        "--interval", type=number_in(0, 3600), default=1.0, metavar="SECONDS",
        help="time between the kernel counter samples (default 1)",
    )  # fmt: skip
    p.add_argument("--container", metavar="CONTAINER", help="only this container (name or id)")
    p.set_defaults(func=cmd_events)


def _line(event: Event) -> str:
    stamp = datetime.fromtimestamp(event.time).isoformat(timespec="milliseconds")
    numbers = format_numbers(event.numbers)
    return f"{stamp} {event.source:6} {event.kind:16} {present.safe(event.container, 40)}" + (
        f" {present.safe(numbers, 200)}" if numbers else ""
    )


def _print(event: Event, as_json: bool) -> None:
    text = json.dumps(core_to_json(event), separators=(",", ":")) if as_json else _line(event)
    print(text, flush=True)


def cmd_events(args: argparse.Namespace) -> int:
    since = args.since if args.since is not None else time.time() - 600
    collector = Collector(root_of(args), watch_engines=args.follow, events_since=since)
    log = EventLog()
    wanted: str | None = None
    try:
        first = collector.sample()
        if args.container:
            wanted = find_container(first.containers, args.container).id
        shown = 0

        def emit(events: list[Event]) -> None:
            nonlocal shown
            for event in events:
                if event.time >= since and (wanted is None or event.container_id == wanted):
                    _print(event, args.json)
                    shown += 1

        if not args.follow:
            past = []
            for engine in collector.engines:
                try:
                    past += read_past_events(engine.runtime, engine.base_url, since)
                except Exception:  # the engine is down: kernel events only
                    continue
            died: set[str] = set()
            names = {c.id: c.name for c in first.containers}
            emit([e for e in (from_engine(x, died, names) for x in past) if e is not None])
        note_engines_down(first.engine_status, "its events are missing; kernel events only")
        emit(log.observe(first))
        while True:
            time.sleep(args.interval)
            emit(log.observe(collector.sample()))
            if not args.follow:
                break
        if shown == 0 and not args.json:
            print("no events", file=sys.stderr)
    except KeyboardInterrupt:
        return 0
    finally:
        collector.close()
    return 0


__all__ = ["CliError", "cmd_events", "parse_since"]
