"""`ctop-py net CONTAINER`: the links inside a container's net namespace and their host peers."""

from __future__ import annotations

import argparse
import time
from typing import Any

from ctop_py import net, present
from ctop_py.commands.common import CliError, number_in, resolve_running, root_of
from ctop_py.export.json import dumps, net_to_dict
from ctop_py.host import HostError
from ctop_py.present.net import format_net


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "net",
        parents=[common],
        help="a container's network links (netlink), addresses, counters and host veth peers",
        description="Links inside a container's net namespace (entered through "
        "/proc/PID/ns/net; needs root), their addresses and counters, and each veth's peer on "
        "the host with the bridge it is attached to. Netlink always asks the kernel ctop-py "
        "runs on: with --root, that root's proc must be this kernel's.",
    )
    p.add_argument("container", metavar="CONTAINER", help="name or id prefix")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--interval",
        type=number_in(0, 3600),
        metavar="SECONDS",
        help="read twice, SECONDS apart, and show rates",
    )
    p.set_defaults(func=cmd_net)


def cmd_net(args: argparse.Namespace) -> int:
    root = root_of(args)
    container = resolve_running(root, args.container)
    try:
        reading = net.read_container_net(root, container)
        rates = None
        if args.interval is not None and reading.shared is None:
            time.sleep(args.interval)
            second = net.read_container_net(root, container)
            rates = net.rates(reading.reading, second.reading)
            reading = second
    except HostError as exc:
        raise CliError(f"{present.safe(container.name)}: {exc}") from None
    if args.json:
        data = net_to_dict(reading, rates)
        data["interval_s"] = args.interval
        print(dumps(data))
    else:
        print(format_net(reading, rates))
    return 0
