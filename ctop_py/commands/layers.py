"""`ctop-py layers CONTAINER`: how a running container's root filesystem is stacked."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ctop_py import layers
from ctop_py.commands.common import CliError, resolve_running, root_of
from ctop_py.export.json import dumps
from ctop_py.host import Gone, NoAccess
from ctop_py.model import ContainerRaw


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
        print(dumps(layers_json(container, stack, changes, found)))
        return 0
    if found is not None:
        print(layers.format_provenance(found))
    elif args.changes and changes is not None:
        print(layers.format_changes(changes))
    else:
        print(layers.format_stack(stack, changes))
    return 0


DRIVERS = {"docker": "overlay2", "podman": "overlay", "containerd": "overlayfs"}


def layers_json(
    container: ContainerRaw,
    stack: layers.MountStack,
    changes: layers.Changes | None,
    found: layers.Provenance | None,
) -> dict[str, Any]:
    """The stack as the issue's schema: lowers from the base layer (first) to the top."""

    def layer(item: layers.Layer) -> dict[str, Any]:
        data = layers.layer_to_dict(item)
        data["size_bytes"] = data.pop("size")
        return data

    upper: dict[str, Any] | None = None
    if stack.upper is not None:
        upper = layer(stack.upper)
        if changes is not None:
            upper.update(
                {
                    "size_bytes": changes.upper_size,
                    "added": changes.added,
                    "modified": changes.modified,
                    "deleted": changes.deleted,
                    "truncated": changes.truncated,
                    "changes": [
                        {
                            "path": c.path,
                            "kind": c.kind.name.lower(),
                            "type": c.file_type.value,
                            "size_bytes": c.size,
                        }
                        for c in changes.changes
                    ],
                    "skipped": [{"path": x.path, "reason": x.reason} for x in changes.skipped],
                }
            )
        else:
            upper["changes"] = None  # unreadable: not "no changes"
    data: dict[str, Any] = {
        "id": container.id,
        "name": container.name,
        "runtime": container.runtime,
        "driver": DRIVERS.get(stack.runtime, stack.root_mount.fstype),
        "image_id": stack.image_id,
        "merged": {"path": "/", "host_path": stack.merged_path},
        "upper": upper,
        "init": None if stack.init is None else layer(stack.init),
        "lowers": [layer(item) for item in sorted(stack.lowers, key=lambda x: x.position or 0)],
        "data_layers": [layer(item) for item in stack.data_layers],
        "mounts": [layers.mount_to_dict(m) for m in stack.mounts],
        "warnings": list(stack.warnings),
    }
    if found is not None:
        data["provenance"] = layers.provenance_to_dict(found)
    return data
