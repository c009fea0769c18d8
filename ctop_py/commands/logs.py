"""`ctop-py logs CONTAINER [--tail N] [--follow] [--since T] [--timestamps]`: the same lines
as `docker logs` with the same options, stdout on stdout and stderr on stderr.

Text from the container is made harmless on the way out: control characters (ESC, OSC, CR,
NUL…) and invalid UTF-8 become visible escapes, tabs stay. `--raw` writes the bytes as the
engine sent them (for a pipe that wants them exact)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ctop_py import present
from ctop_py.commands.common import CliError, root_of
from ctop_py.engine import EngineError, connect
from ctop_py.logs import STDERR, LogLine, LogOptions, LogStream, parse_since


def _tail(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of lines or 'all': {text!r}") from None
    if value < 0:
        return None  # docker logs: a negative tail means all
    return value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "logs",
        parents=[common],
        help="a container's logs, as docker logs prints them (needs the Docker socket)",
        description="Print a container's logs through the Engine API: the same lines as "
        "`docker logs`, stdout on stdout and stderr on stderr. Control characters and "
        "escape sequences from the container are shown as visible escapes (--raw: as sent).",
    )
    p.add_argument("container", metavar="CONTAINER", help="name, id or id prefix")
    p.add_argument("-n", "--tail", type=_tail, default=None, metavar="N", help="the last N lines")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    p.add_argument(
        "--since",
        metavar="T",
        help="lines since T: a time (2024-05-01T10:00:00Z), a duration (10m, 1h30m) "
        "or a Unix timestamp",
    )
    p.add_argument(
        "-t", "--timestamps", action="store_true", help="the engine's timestamp before each line"
    )
    p.add_argument("--raw", action="store_true", help="write the bytes as sent, unescaped")
    p.set_defaults(func=cmd_logs)


def format_line(line: LogLine, raw: bool = False) -> str:
    text = line.text if raw else present.log_text(line.text)
    if line.cut:
        text += f" … [{line.cut} more bytes not kept]"
    if line.timestamp is not None:
        text = f"{line.timestamp} {text}"
    return text + ("\n" if line.complete else "")


def cmd_logs(args: argparse.Namespace) -> int:
    try:
        since = None if args.since is None else parse_since(args.since)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    options = LogOptions(
        tail=args.tail, follow=args.follow, since=since, timestamps=args.timestamps
    )
    try:
        client = connect(root_of(args), what="logs")
    except EngineError as exc:
        raise CliError(present.safe(str(exc))) from None
    try:
        with LogStream(client, args.container, options) as stream:
            for line in stream:
                out: TextIO = sys.stderr if line.stream == STDERR else sys.stdout
                if args.raw:
                    out.flush()
                    out.buffer.write(format_line(line, raw=True).encode("utf-8", "surrogateescape"))
                    out.buffer.flush()
                else:
                    out.write(format_line(line))
                    if args.follow:
                        out.flush()
    except EngineError as exc:
        raise CliError(present.safe(str(exc))) from None
    finally:
        client.close()
    return 0
