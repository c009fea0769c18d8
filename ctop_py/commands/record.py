"""`ctop-py record FILE`: store raw samples for replay."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ctop_py.collect import Collector
from ctop_py.commands.common import CliError, number_in, root_of
from ctop_py.launch import AppOptions, Launch, Recorded
from ctop_py.model import RawSample
from ctop_py.record import Recorder, Recording, read_recording


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    rec = sub.add_parser(
        "record", parents=[common], help="record raw samples to FILE (replay with `replay`)"
    )
    rec.add_argument("file", metavar="FILE")
    rec.add_argument("--interval", type=number_in(0, 3600), default=1.0, metavar="SECONDS")
    rec.add_argument("--duration", type=number_in(0, 10**7), default=None, metavar="SECONDS")
    rec.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="record only containers with this label (e.g. com.docker.compose.project=shop)",
    )
    rec.set_defaults(func=cmd_record)

    rep = sub.add_parser(
        "replay", parents=[common], help="open the app over a recording, with a time cursor"
    )
    rep.add_argument("file", metavar="FILE")
    rep.add_argument(
        "--speed", type=number_in(0.25, 16, "times"), default=1.0, metavar="X", help="0.25 to 16"
    )
    rep.add_argument(
        "--at", metavar="TIME", help="start paused at TIME: seconds from the start, or a time"
    )
    rep.add_argument("-a", "--all", action="store_true", help="show stopped containers too")
    rep.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> Launch:
    return replay(read_recording(args.file), Path(args.file).name, args)


def replay(recording: Recording, title: str, args: argparse.Namespace) -> Launch:
    """The app over a recording (run by the CLI). `args`: speed, at, all when present."""
    if not recording.samples:
        raise CliError(f"{title}: the recording holds no complete sample")
    if recording.truncated:
        print(
            f"note: {title} ends in an incomplete sample (a recorder was killed?): "
            "replaying up to the last whole one",
            file=sys.stderr,
        )
    at = getattr(args, "at", None)
    options = AppOptions(
        show_all=bool(getattr(args, "all", False)),
        speed=float(getattr(args, "speed", None) or 1.0),
        start_at=None if at is None else str(at),
    )
    return Launch(Recorded(recording.samples, title), options)


def cmd_demo(args: argparse.Namespace) -> Launch:
    """`ctop-py --demo`: the recording that ships with the package."""
    import importlib.resources

    resource = importlib.resources.files("ctop_py").joinpath("data", "demo.rec")
    with importlib.resources.as_file(resource) as path:
        recording = read_recording(path)
    return replay(recording, "demo", args)


def _labels(items: list[str]) -> dict[str, str]:
    wanted = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--label wants KEY=VALUE, got {item!r}")
        wanted[key] = value
    return wanted


def only_labelled(sample: RawSample, wanted: dict[str, str]) -> RawSample:
    if not wanted:
        return sample
    keep = tuple(
        c for c in sample.containers if all(c.labels.get(k) == v for k, v in wanted.items())
    )
    return replace(sample, containers=keep)


def cmd_record(args: argparse.Namespace) -> int:
    wanted = _labels(args.label)
    collector = Collector(root_of(args), watch_engines=True)
    stop = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    count = 0
    deadline = None if args.duration is None else time.monotonic() + args.duration
    try:
        with Recorder(args.file) as recorder:
            next_at = time.monotonic()
            while not stop:
                recorder.append(only_labelled(collector.sample(), wanted))
                count += 1
                next_at += args.interval
                if deadline is not None and next_at > deadline + 1e-6:
                    break
                time.sleep(max(0.0, next_at - time.monotonic()))
    except KeyboardInterrupt:
        pass
    finally:
        collector.close()
    print(f"recorded {count} samples to {args.file}", file=sys.stderr)
    return 0
