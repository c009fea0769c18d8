"""Argument parsing and subcommands. Failures are one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NoReturn

from ctop_py import present
from ctop_py.collect import Collector
from ctop_py.commands import COMMAND_MODULES
from ctop_py.commands.common import CliError, find_container, number_in, root_of
from ctop_py.derive import derive
from ctop_py.export.json import snapshot_to_dict
from ctop_py.host import HostError
from ctop_py.model import ContainerView, Snapshot

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"ctop-py: {message} (see ctop-py --help)\n")
        raise SystemExit(EXIT_USAGE)


def _common() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--root",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="read the host's /proc, /sys and /var/lib/* under DIR (e.g. /host)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common: Any = _common()
    parser = _Parser(
        prog="ctop-py",
        description="See a container host's namespaces, cgroups, throttling and layers.",
        parents=[common],
    )
    parser.add_argument(
        "--interval", type=number_in(0, 3600), default=None, metavar="SECONDS",
        help="refresh interval of the app (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "-a", "--all", action="store_true", help="the app starts showing stopped containers too"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="replay the recording of real containers that ships with ctop-py",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    snap = sub.add_parser(
        "snapshot", parents=[common], help="sample twice and print every container once"
    )
    snap.add_argument("containers", nargs="*", metavar="CONTAINER", help="name or id prefix")
    snap.add_argument("--interval", type=number_in(0, 3600), default=1.0, metavar="SECONDS")
    snap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    snap.add_argument("-a", "--all", action="store_true", help="include stopped containers")
    snap.add_argument("--replay", metavar="FILE", help="read a recording instead of the host")
    snap.add_argument(
        "--at",
        metavar="TIME",
        help="with --replay: seconds from the start (e.g. 12.5), or an ISO time; default: last",
    )
    snap.set_defaults(func=cmd_snapshot)

    ns = sub.add_parser("ns", parents=[common], help="every namespace on the host")
    ns.add_argument("--json", action="store_true")
    ns.add_argument("--type", choices=sorted(_NS_TYPES), help="only this namespace type")
    ns.set_defaults(func=cmd_ns)

    _register_optional(sub, common)
    return parser


_NS_TYPES = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}


def _register_optional(sub: Any, common: argparse.ArgumentParser) -> None:
    """Subcommands in ctop_py/commands register themselves."""
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub, common)


def take_snapshot(collector: Collector, interval: float) -> Snapshot:
    first = collector.sample()
    time.sleep(interval)
    second = collector.sample()
    # Notes are said once per collector: keep the first sample's too.
    second = replace(second, notes=tuple(sorted({*first.notes, *second.notes})))
    return derive(first, second)


def replay_snapshot(path: str, at: str | None) -> Snapshot:
    from ctop_py.record import read_recording
    from ctop_py.sources import parse_time, snapshot_at

    recording = read_recording(path)
    if not recording.samples:
        raise CliError(f"{path}: the recording holds no complete sample")
    try:
        when = None if at is None else parse_time(at, recording.samples[0].time)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return snapshot_at(recording.samples, when)


def select(snapshot: Snapshot, refs: Sequence[str]) -> list[ContainerView]:
    """Containers matching each ref: exact name, exact id, or a unique id/name prefix."""
    if not refs:
        return list(snapshot.containers)
    chosen: list[ContainerView] = []
    for ref in refs:
        view = find_container(snapshot.containers, ref)
        if view not in chosen:
            chosen.append(view)
    return chosen


def cmd_snapshot(args: argparse.Namespace) -> int:
    if getattr(args, "replay", None):
        snapshot = replay_snapshot(args.replay, getattr(args, "at", None))
    else:
        if getattr(args, "at", None):
            raise CliError("--at needs --replay FILE")
        collector = Collector(root_of(args))
        try:
            snapshot = take_snapshot(collector, args.interval)
        finally:
            collector.close()
    views = select(snapshot, args.containers)
    if not args.all and not args.containers:
        views = [v for v in views if v.raw.active]  # running, or crash-looping
    if args.json:
        data = snapshot_to_dict(snapshot)
        ids = {v.id for v in views}
        data["containers"] = [c for c in data["containers"] if c["id"] in ids]
        print(json.dumps(data, indent=2))
    else:
        print(format_table(views))
        for note in (*engine_notes(snapshot), *snapshot.raw.notes):
            print(f"note: {present.safe(note)}", file=sys.stderr)
    return 0


def engine_notes(snapshot: Snapshot) -> list[str]:
    return [
        f"{runtime} engine {status}: its containers show with ids, not names"
        for runtime, status in snapshot.raw.engine_status.items()
        if status != "ok"
    ]


def format_table(views: Sequence[ContainerView]) -> str:
    headers = [
        "NAME", "RUNTIME", "ID", "STATE", "CPU%", "%CPU/Q", "THR%",
        "MEM", "LIMIT", "%MEM/L", "PIDS", "NET RX/TX", "IO R/W",
    ]  # fmt: skip
    rows = []
    for v in views:
        u, lim = v.usage, v.limits
        has_cgroup = v.raw.cgroup is not None
        rows.append(
            [
                present.safe(v.name, 40),
                v.raw.runtime,
                present.short_id(v.id),
                present.safe(v.raw.state, 12),
                present.percent(u.cpu_percent),
                present.percent(u.cpu_percent_of_quota) if lim.cpu_quota_us else "–",
                present.percent(v.throttling.throttled_percent),
                present.size(u.memory_used_bytes),
                present.size(lim.memory_max_bytes, limit_meaning_none=has_cgroup),
                present.percent(u.memory_percent_of_limit),
                f"{present.count(u.pids_current)}/"
                f"{present.count(lim.pids_max, limit_meaning_none=has_cgroup)}",
                f"{present.rate(u.net_rx_bytes_per_s)} {present.rate(u.net_tx_bytes_per_s)}",
                f"{present.rate(u.io_read_bytes_per_s)} {present.rate(u.io_write_bytes_per_s)}",
            ]
        )
    return present.table(headers, rows, right=set(range(4, 11)))


def cmd_ns(args: argparse.Namespace) -> int:
    from ctop_py.nsfs import list_namespaces

    collector = Collector(root_of(args))
    try:
        sample = collector.sample(detail=())
        everyone = collector.process_reader.read_all()
    finally:
        collector.close()
    namespaces = list_namespaces(
        collector.root, everyone, sample.containers, dict(sample.host.namespaces)
    )
    unreadable = sum(1 for p in everyone if not p.namespaces)
    if unreadable:
        print(
            f"note: the namespaces of {unreadable} processes are unreadable "
            "(other users' processes need root)",
            file=sys.stderr,
        )
    if args.type:
        namespaces = [n for n in namespaces if n.type == args.type]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "type": n.type,
                        "inode": n.inode,
                        "owner_userns": n.owner_userns,
                        "is_host": n.is_host,
                        "pids": list(n.pids),
                        "containers": list(n.containers),
                    }
                    for n in namespaces
                ],
                indent=2,
            )
        )
        return 0
    comms = {p.pid: p.comm for p in everyone}
    rows = []
    for n in namespaces:
        first = n.pids[0]
        rows.append(
            [
                n.type,
                str(n.inode),
                "host" if n.is_host else "",
                str(len(n.pids)),
                f"{first} {present.safe(comms.get(first, ''), 24)}",
                present.safe(", ".join(n.containers), 60),
                present.count(n.owner_userns),
            ]
        )
    print(
        present.table(
            ["TYPE", "INODE", "HOST", "NPROCS", "FIRST PID", "CONTAINERS", "OWNER USERNS"],
            rows,
            right={1, 3},
        )
    )
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    import importlib

    try:
        app = importlib.import_module("ctop_py.ui.app")
    except ImportError:
        return cmd_snapshot(
            argparse.Namespace(
                **{
                    **vars(args),
                    "containers": [],
                    "interval": args.interval or 1.0,
                    "json": False,
                    "replay": None,
                }
            )
        )
    status: int = app.run_app(root_of(args), args)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    default = cmd_app
    if getattr(args, "demo", False):
        from ctop_py.commands.record import cmd_demo

        default = cmd_demo
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", default)
    try:
        return func(args)
    except (CliError, HostError) as exc:  # RecordingError is a HostError
        sys.stderr.write(f"ctop-py: {present.safe(str(exc))}\n")
        return EXIT_USAGE
    except PermissionError as exc:  # a read we did not expect to be denied: say which
        sys.stderr.write(f"ctop-py: {present.safe(str(exc))} (needs root?)\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
