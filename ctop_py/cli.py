"""Argument parsing and subcommands. Failures are one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

from ctop_py import present
from ctop_py.collect import Collector
from ctop_py.commands import COMMAND_MODULE_OF, COMMAND_MODULES, OPTIONAL_COMMANDS
from ctop_py.commands.common import CliError, find_container, number_in, root_of
from ctop_py.derive import derive
from ctop_py.errors import CtopError
from ctop_py.export.json import core_to_json, dumps_data, snapshot_to_dict
from ctop_py.host import HostRoot
from ctop_py.model import ContainerView, Snapshot
from ctop_py.openfiles import keep_files_setting

# Imported where they are used: `snapshot --json` and `ns` need none of them (the app's options
# and the config file, the tables; see tests/test_cli_lazy.py).
if TYPE_CHECKING:
    from ctop_py.launch import AppOptions, Launch, Recorded
    from ctop_py.ui.source import SnapshotSource

EXIT_USAGE = 2


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ctop-py")
    except PackageNotFoundError:
        return "unknown (not installed)"


def apply_config(args: argparse.Namespace) -> argparse.Namespace:
    """The app's options: the command line first, then CTOP_PY_READ_ONLY, then the config file,
    then the defaults. A broken config file is one line on stderr; the app starts on defaults.
    Adds `config` (the Config), `config_path` (where "save" writes) and `read_only`."""
    from ctop_py import config as cfg

    loaded = cfg.load(getattr(args, "config", None))
    if loaded.problem:
        sys.stderr.write(f"ctop-py: {present.safe(loaded.problem)}\n")
    conf = loaded.config
    read_only = bool(getattr(args, "read_only", None)) or cfg.env_read_only() or conf.read_only
    return argparse.Namespace(
        **{
            **vars(args),
            "interval": getattr(args, "interval", None) or conf.interval,
            "all": bool(getattr(args, "all", False)) or conf.all,
            "read_only": read_only,
            "config": conf,
            "config_path": loaded.path,
        }
    )


class _Version(argparse.Action):
    """--version, whose number is looked up only when asked (importlib.metadata is slow to
    import, and every command would pay for it)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(f"ctop-py {version()}")
        parser.exit()


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns, without importing shutil (and bz2, lzma, fnmatch
    with it: 3 ms of every command) for the help formatter argparse makes for every
    add_argument: $COLUMNS, else the terminal's width, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:  # as argparse: the terminal's width less 2
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

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


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given the arguments, a parser for `snapshot` or `ns` without the
    optional subcommands' modules (nor what they import), when no argument names one."""
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
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="read this config file instead of $XDG_CONFIG_HOME/ctop-py/config.toml",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="never act on a container: no actions menu, no shell "
        "(also CTOP_PY_READ_ONLY=1, or read_only = true in the config)",
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

    if argv is None or (_needs_optional(argv) and not _app_only(argv)):
        _register_optional(sub, common, _optional_modules(argv or ()))
    return parser


# The app's own options. Given only these (`ctop-py`, `ctop-py --root /host -a`), the parser
# needs no subcommand, so none of the optional ones is imported: their modules were ~1.7 MiB
# of the app's memory (issue 16). Anything else (a command, --help, a typo, an abbreviation)
# gets them all, as before.
_APP_FLAGS = frozenset({"-a", "--all", "--demo", "--version", "--read-only"})
_APP_VALUED = frozenset({"--root", "--interval", "--config"})


def _app_only(argv: Sequence[str]) -> bool:
    value_next = False
    for arg in argv:
        if value_next:
            value_next = False
        elif arg.split("=", 1)[0] in _APP_VALUED:
            value_next = "=" not in arg
        elif arg not in _APP_FLAGS:
            return False
    return True


def _needs_optional(argv: Sequence[str]) -> bool:
    names = [a for a in argv if a in OPTIONAL_COMMANDS or a in _OWN_COMMANDS]
    return not names or names[0] not in _OWN_COMMANDS or any(a in OPTIONAL_COMMANDS for a in argv)


_OWN_COMMANDS = frozenset({"snapshot", "ns"})


_NS_TYPES = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}


def _optional_modules(argv: Sequence[str]) -> tuple[str, ...]:
    """The modules of the optional subcommands named in `argv`; all of them when it names
    none (the app, --help, a mistyped command: the parser then lists every choice). A word
    that only looks like a command (an option's value, a container's name) costs an import,
    never a parse: the modules of every command word are registered."""
    named = [a for a in argv if a in OPTIONAL_COMMANDS]
    if not named and not any(a in _OWN_COMMANDS for a in argv):
        return COMMAND_MODULES
    return tuple(dict.fromkeys(COMMAND_MODULE_OF[name] for name in named))


def _register_optional(
    sub: Any, common: argparse.ArgumentParser, modules: Sequence[str] = COMMAND_MODULES
) -> None:
    """Subcommands in ctop_py/commands register themselves."""
    import importlib

    for module in modules:
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


def _inspect_what_is_printed(collector: Collector, everyone: bool) -> None:
    """A snapshot prints one sample's lifecycles: every container it prints is inspected by
    then (not at most 20 a tick, as in the app), and no other (the exited ones, unless asked
    for)."""
    for inspector in collector.lifecycle.inspectors.values():
        inspector.per_tick, inspector.budget_s = 1 << 30, float("inf")
    if not everyone:
        collector.lifecycle.inspect_wanted = lambda c: c.active


# Long enough that no container's limits fall due between a snapshot's two samples (the
# collector spreads a container's first limit read over up to this period), short enough to
# stay a finite time.
_LIMITS_READ_ONCE_S = 1e9


def cmd_snapshot(args: argparse.Namespace) -> int:
    if getattr(args, "replay", None):
        snapshot = replay_snapshot(args.replay, getattr(args, "at", None))
    else:
        if getattr(args, "at", None):
            raise CliError("--at needs --replay FILE")
        # Each container's limits are read once, in the first sample: the app reads them
        # again every 5 s, spread over the containers, which sent a third of them through
        # the slower first-read path again in the second sample.
        collector = Collector(root_of(args), watch_engines=True, limits_s=_LIMITS_READ_ONCE_S)
        _inspect_what_is_printed(collector, everyone=bool(args.all or args.containers))
        try:
            snapshot = take_snapshot(collector, args.interval)
        finally:
            collector.close()
    views = select(snapshot, args.containers)
    if not args.all and not args.containers:
        views = [v for v in views if v.raw.active]  # running, or crash-looping
    if args.json:
        # Only the printed containers are encoded (not the exited ones left out), in the
        # snapshot's order.
        ids = {v.id for v in views}
        printed = tuple(v for v in snapshot.containers if v.id in ids)
        print(dumps_data(snapshot_to_dict(replace(snapshot, containers=printed))))
    else:
        from ctop_py.present.containers import containers_table, engine_notes

        print(containers_table(views))
        for note in (*engine_notes(snapshot), *snapshot.raw.notes):
            print(f"note: {present.safe(note)}", file=sys.stderr)
    return 0


def _unreadable_namespaces_note(root: HostRoot, pids: list[int]) -> str | None:
    """Why some processes' namespaces were not read. A process that exited between the listing
    and the read is normal churn and not mentioned; the others are told as they are: other
    users' processes need root, and as root a denial is not a question of being root."""
    denied = []
    for pid in pids:
        try:
            os.readlink(root.path(f"/proc/{pid}/ns/net"))
        except PermissionError:
            denied.append(pid)
        except OSError:
            continue  # it exited (or its ns links are otherwise gone): nothing to say
    if not denied:
        return None
    which = ", ".join(map(str, denied[:5])) + (", …" if len(denied) > 5 else "")
    count = f"{len(denied)} process{'es' if len(denied) > 1 else ''} (pid {which})"
    if os.geteuid() == 0:
        return (
            f"note: the namespaces of {count} are unreadable even as root: permission denied "
            "(a non-dumpable process, another user namespace, or a security module)"
        )
    return f"note: the namespaces of {count} are unreadable (other users' processes need root)"


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
    unread = [p.pid for p in everyone if not p.namespaces]
    note = _unreadable_namespaces_note(collector.root, unread)
    if note:
        print(note, file=sys.stderr)
    if args.type:
        namespaces = [n for n in namespaces if n.type == args.type]
    if args.json:
        print(dumps_data(core_to_json(namespaces)))
        return 0
    from ctop_py.present.namespaces import namespaces_table

    print(namespaces_table(namespaces, {p.pid: p.comm for p in everyone}))
    return 0


def cmd_app(args: argparse.Namespace) -> int | Launch:
    """`ctop-py`: the app on this host (the snapshot table when Textual is missing)."""
    import importlib.util

    args = apply_config(args)
    if importlib.util.find_spec("textual") is None:
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
    from ctop_py.launch import AppOptions
    from ctop_py.sources import LiveSource

    options = AppOptions(
        interval_s=float(args.interval or 1.0),
        show_all=bool(args.all),
        read_only=bool(args.read_only),
        prefs=args.config,
        config_path=args.config_path,
    )
    return run_app(LiveSource(root_of(args)), options)


def run_app(source: SnapshotSource | Recorded, options: AppOptions) -> int:
    """Start the app (the only place that does) and close its source when it ends."""
    from ctop_py.launch import Recorded
    from ctop_py.ui.app import make_app

    try:
        try:
            app = make_app(source, options)
        except ValueError as exc:  # no samples, or a start time it cannot read
            raise CliError(str(exc)) from None
        result = app.run()
    finally:
        if not isinstance(source, Recorded):
            source.close()
    return result if isinstance(result, int) else 0


# Commands that print once and end: their process ends without the interpreter's teardown.
_ONE_SHOT: frozenset[Callable[[argparse.Namespace], int | Launch]] = frozenset(
    {cmd_snapshot, cmd_ns}
)


def end_process(status: int) -> NoReturn:
    """Ends the process with `status` once the output is flushed, skipping the interpreter's
    teardown: freeing every object of two samples one by one (~15 ms of CPU at 100
    containers, 6 % of a `snapshot --json`). Nothing of ours needs it: the collector is
    closed, no atexit handler is ours, and no file but stdout and stderr is left open."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass  # the reader is gone: nothing left to tell it
    except OSError as exc:  # e.g. the disk of a redirect is full
        sys.stderr.write(f"ctop-py: writing the output: {present.safe(str(exc))}\n")
        status = EXIT_USAGE
    try:
        sys.stderr.flush()
    finally:
        os._exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    default = cmd_app
    if getattr(args, "demo", False):
        from ctop_py.commands.record import cmd_demo

        default = cmd_demo
    func: Callable[[argparse.Namespace], int | Launch] = getattr(args, "func", default)
    one_shot = argv is None and func in _ONE_SHOT  # the program itself, not a caller of main()
    if argv is None:
        # What a one-shot command drops is freed by reference counting; the cyclic
        # collector's passes over the samples' objects (~50 at 100 containers, 7 ms) find
        # next to nothing, and the process ends right after. Every other command (the app)
        # has it, also where __main__ turned it off for the imports.
        if one_shot:
            gc.disable()
        else:
            gc.enable()
    try:
        keep_files_setting()  # a bad CTOP_KEEP_FILES: one line now, not a traceback later
        status = func(args)
        if not isinstance(status, int):  # a Launch: the app, started here
            status = run_app(status.source, status.options)
        if one_shot:
            end_process(status)
        return status
    except CtopError as exc:  # every error of ours: one line
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
