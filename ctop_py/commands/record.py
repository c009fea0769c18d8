"""`ctop-py record FILE`: store raw samples for replay."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from dataclasses import replace
from typing import Any

from ctop_py.collect import Collector
from ctop_py.commands.common import CliError, root_of
from ctop_py.model import RawSample
from ctop_py.record import Recorder


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0: {text}")
    return value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    rec = sub.add_parser(
        "record", parents=[common], help="record raw samples to FILE (replay with `replay`)"
    )
    rec.add_argument("file", metavar="FILE")
    rec.add_argument("--interval", type=_seconds, default=1.0, metavar="SECONDS")
    rec.add_argument("--duration", type=_seconds, default=None, metavar="SECONDS")
    rec.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="record only containers with this label (e.g. com.docker.compose.project=shop)",
    )
    rec.set_defaults(func=cmd_record)


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
    collector = Collector(root_of(args))
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
