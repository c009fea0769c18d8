"""`ctop-py stacks CONTAINER [--pid PID]`: Python thread stacks of a container's processes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ctop_py import present, stacks
from ctop_py.commands.common import CliError, number_in, root_of, sample_and_find
from ctop_py.export.json import dumps, to_json
from ctop_py.model import ContainerRaw, Process
from ctop_py.present.stacks import results_text


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "stacks",
        parents=[common],
        help="Python thread stacks of a container's processes (py-spy; needs root)",
        description="Dump the Python thread stacks of a container's Python processes with "
        "py-spy (needs root or CAP_SYS_PTRACE). By default py-spy does not pause the target "
        "(--nonblocking); --blocking pauses it while reading, for consistent stacks.",
    )
    p.add_argument("container", metavar="CONTAINER", help="name or id prefix")
    p.add_argument(
        "--pid",
        type=int,
        help="only this process: its host pid, or its pid inside the container",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--blocking", action="store_true", help="pause the target while reading")
    p.add_argument(
        "--record",
        type=number_in(1, 600, whole=True),
        metavar="SECONDS",
        help="sample for SECONDS instead and show the hottest functions",
    )
    p.add_argument("--rate", type=int, default=100, metavar="HZ", help="samples per second")
    p.add_argument(
        "--gil", action="store_true", help="with --record: only samples of the GIL holder"
    )
    p.set_defaults(func=cmd_stacks)


def _pick(container: ContainerRaw, processes: list[Process], pid: int) -> Process:
    for p in processes:
        if p.pid == pid:
            return p
    inside = [p for p in processes if len(p.nspid) > 1 and p.nspid[-1] == pid]
    if len(inside) == 1:
        return inside[0]
    raise CliError(f"pid {pid} is not a process of container {present.safe(container.name)}")


def cmd_stacks(args: argparse.Namespace) -> int:
    root = root_of(args)
    sample, container = sample_and_find(root, args.container)
    try:
        py_spy = stacks.find_py_spy()
        processes = stacks.container_processes(root, container, sample.processes)
        if args.pid is not None:
            targets = [_pick(container, processes, args.pid)]
        else:
            targets = stacks.python_processes(root, processes)
            if not targets:
                raise stacks.NotPython(
                    f"no Python process in container {present.safe(container.name)}"
                )
    except stacks.StackError as exc:
        raise CliError(present.safe(str(exc))) from None
    results: list[tuple[Process, Any]] = []
    for target in targets:
        try:
            if args.record:
                outcome: Any = stacks.record(
                    target.pid, args.record, rate_hz=args.rate, root=root,
                    blocking=args.blocking, gil_only=args.gil, py_spy=py_spy,
                )  # fmt: skip
            else:
                outcome = stacks.dump(target.pid, root=root, blocking=args.blocking, py_spy=py_spy)
        except stacks.StackError as exc:
            outcome = exc
        results.append((target, outcome))
    failures = [r for _, r in results if isinstance(r, stacks.StackError)]
    if len(failures) == len(results):
        raise CliError(present.safe(str(failures[0])))
    if args.json:
        print(dumps(_to_json(container, results)))
    else:
        print(results_text(results))
        for failure in failures:
            sys.stderr.write(f"ctop-py: {present.safe(str(failure))}\n")
    return 0


def _to_json(container: ContainerRaw, results: list[tuple[Process, Any]]) -> dict[str, Any]:
    processes = []
    for p, r in results:
        if isinstance(r, stacks.StackError):
            entry: dict[str, Any] = {
                "pid": p.pid,
                "comm": p.comm,
                "error": {"kind": r.kind, "message": r.message},
            }
        elif isinstance(r, stacks.Profile):
            entry = {"comm": p.comm, "cmdline": list(p.cmdline), **to_json(r)}
        else:
            entry = to_json(r)
        processes.append(entry)
    return {"container": {"id": container.id, "name": container.name}, "processes": processes}
