"""`ctop-py diagnose [CONTAINER…] [--window S] [--json]`: one sentence per container naming
its bottleneck, with the evidence (see ctop_py.diagnose and ctop_py.thresholds)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ctop_py import present
from ctop_py.collect import Collector
from ctop_py.commands.common import find_container, note_engines_down, number_in, root_of
from ctop_py.diagnose import Finding, diagnose
from ctop_py.events import EventLog
from ctop_py.export.json import core_to_json, dumps_data
from ctop_py.model import ContainerRaw, RawSample
from ctop_py.thresholds import Thresholds


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "diagnose",
        parents=[common],
        help="name each container's bottleneck in one sentence, with the evidence",
        description="Samples the host for --window seconds and reads the engine's recent "
        "events, then names per container: cpu-throttled, oom-killed, crash-loop, "
        "pids-limit, memory-high, memory-pressure, io-pressure, cpu-pressure. Healthy "
        "containers have no finding.",
    )
    p.add_argument("containers", nargs="*", metavar="CONTAINER", help="name or id prefix")
    p.add_argument(
        "--window", type=number_in(1, 3600), default=5.0, metavar="S",
        help="seconds of samples the rates are measured over (default 5)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print JSON instead of lines")
    p.set_defaults(func=cmd_diagnose)


def configured_thresholds(args: argparse.Namespace) -> Thresholds:
    """The thresholds of the config file's [diagnose] table (--config, else the XDG place), as
    the app uses them; a broken file is one line on stderr and the defaults."""
    from ctop_py import config as cfg

    loaded = cfg.load(getattr(args, "config", None))
    if loaded.problem:
        print(f"ctop-py: {present.safe(loaded.problem)}", file=sys.stderr)
    return cfg.thresholds(loaded.config)


def cmd_diagnose(args: argparse.Namespace) -> int:
    thresholds = configured_thresholds(args)
    started = time.time()
    collector = Collector(
        root_of(args), watch_engines=True, events_since=started - thresholds.lookback_s
    )
    log = EventLog()
    samples: list[RawSample] = []
    try:
        first = collector.sample()
        # A bad name fails now, not after the window.
        wanted = [find_container(first.containers, ref).id for ref in args.containers]
        samples.append(first)
        log.observe(first)
        steps = max(1, round(args.window))
        pause = args.window / steps
        for _ in range(steps):
            time.sleep(pause)
            sample = collector.sample()
            samples.append(sample)
            log.observe(sample)
    finally:
        collector.close()
    last = samples[-1]
    findings = diagnose(samples, list(log.events), thresholds)
    if wanted:
        chosen = [c for cid in wanted for c in last.containers if c.id == cid]
    else:
        chosen = [c for c in last.containers if c.active]
    if args.json:
        print(dumps_data(core_to_json(diagnosis_json(last.time, args.window, chosen, findings))))
        return 0
    for c in chosen:
        found = findings.get(c.id, [])
        name = present.safe(c.name, 40)
        if not found:
            print(f"{name} ({present.safe(c.state, 12)}): no finding")
        for f in found:
            print(f"{name} ({present.safe(c.state, 12)}): {f.severity}: {f.sentence}")
    note_engines_down(
        last.engine_status, "restarts and exit codes are unknown; kernel counters only"
    )
    return 0


def diagnosis_json(
    when: float,
    window_s: float,
    containers: list[ContainerRaw],
    findings: dict[str, list[Finding]],
) -> dict[str, Any]:
    return {
        "time": when,
        "window_s": window_s,
        "containers": [
            {
                "id": c.id,
                "name": c.name,
                "state": c.state,
                "findings": findings.get(c.id, []),
            }
            for c in containers
        ],
    }
