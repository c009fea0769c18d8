"""`ctop-py layers CONTAINER`: how a running container's root filesystem is stacked."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ctop_py.commands.common import CliError, resolve_running, root_of
from ctop_py.host import Gone, NoAccess


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    layers = sub.add_parser(
        "layers",
        parents=[common],
        help="a container's overlay stack: image layers, its own changes, file provenance",
    )
    layers.add_argument("container", metavar="CONTAINER", help="name or id prefix")
    layers.add_argument("--json", action="store_true")
    layers.add_argument(
        "--changes", action="store_true", help="list every added, modified and deleted path"
    )
    layers.add_argument(
        "--path", metavar="PATH", help="which layer provides PATH, and what it shadows"
    )
    layers.set_defaults(func=cmd_layers)


def cmd_layers(args: argparse.Namespace) -> int:
    from ctop_py import layers

    root = root_of(args)
    container = resolve_running(root, args.container)
    assert container.init_pid is not None
    runtime_id = container.id if container.runtime in ("docker", "podman") else None
    try:
        stack = layers.read_stack(root, container.init_pid, runtime_id)
    except Gone:
        raise CliError(f"container {container.name} exited while being read") from None
    except NoAccess as exc:
        raise CliError(f"{exc} (reading a container's mounts needs root)") from None
    changes = found = None
    try:
        if stack.upper is not None:
            changes = layers.compute_changes(root, stack)
        if args.path:
            found = layers.provenance(root, stack, args.path)
    except Gone:
        raise CliError(f"container {container.name} exited while being read") from None
    except (NoAccess, PermissionError) as exc:
        if args.path or args.changes:
            raise CliError(f"{exc} (reading layer directories needs root)") from None
        print("note: the container layer is unreadable (needs root)", file=sys.stderr)
    if args.json:
        data: dict[str, Any] = {"container": {"id": container.id, "name": container.name}}
        data["stack"] = layers.stack_to_dict(stack)
        if changes is not None:
            data["changes"] = layers.changes_to_dict(changes)
        if found is not None:
            data["provenance"] = layers.provenance_to_dict(found)
        print(json.dumps(data, indent=2))
        return 0
    if found is not None:
        print(layers.format_provenance(found))
    elif args.changes and changes is not None:
        print(layers.format_changes(changes))
    else:
        print(layers.format_stack(stack, changes))
    return 0
