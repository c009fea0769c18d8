"""`ctop-py layers (CONTAINER | --image IMAGE)`: how a root filesystem is stacked, its file
trees, and dive's efficiency and wasted space."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ctop_py import layers, present
from ctop_py.commands.common import CliError, number_in, resolve_running, root_of
from ctop_py.export.json import dumps, to_json
from ctop_py.host import Gone, HostRoot, NoAccess
from ctop_py.layers import fsutil
from ctop_py.layers.efficiency import Efficiency, compute_efficiency
from ctop_py.layers.image import ImageNotFound, LayerChain, chain_of_stack, image_chain
from ctop_py.layers.stack import layer_dir
from ctop_py.layers.tree import walk_tree
from ctop_py.model import ContainerRaw
from ctop_py.present import layerstack, layertree


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    layers = sub.add_parser(
        "layers",
        parents=[common],
        help="a container's or an image's layers: stack, changes, file tree, efficiency",
    )
    layers.add_argument(
        "container", metavar="CONTAINER", nargs="?", help="name or id prefix (or --image)"
    )
    layers.add_argument(
        "--image", metavar="IMAGE", help="a local image (name, name:tag or id), read from disk"
    )
    layers.add_argument("--json", action="store_true")
    layers.add_argument(
        "--changes", action="store_true", help="list every added, modified and deleted path"
    )
    layers.add_argument(
        "--path", metavar="PATH", help="which layer provides PATH, and what it shadows"
    )
    layers.add_argument(
        "--tree", action="store_true", help="the file tree of a layer (--layer N, --merged)"
    )
    layers.add_argument(
        "--layer", type=int, metavar="N", help="layer index, 0 = base (default: the top one)"
    )
    layers.add_argument(
        "--merged", action="store_true", help="--tree shows the merged view up to the layer"
    )
    layers.add_argument(
        "--under", metavar="DIR", default="/", help="--tree shows only this directory"
    )
    layers.add_argument(
        "--efficiency", action="store_true", help="dive's efficiency score and wasted bytes"
    )
    layers.add_argument(
        "--fail-under-efficiency", type=number_in(0, 1, "(a fraction)"), metavar="X",
        help="exit 1 when the efficiency is below X (0..1)",
    )  # fmt: skip
    layers.add_argument(
        "--fail-over-wasted", type=_bytes_arg, metavar="BYTES",
        help="exit 1 when more than BYTES are wasted",
    )  # fmt: skip
    layers.set_defaults(func=cmd_layers)


def cmd_layers(args: argparse.Namespace) -> int:
    if args.image and args.container:
        raise CliError("give a CONTAINER or --image IMAGE, not both")
    if not args.image and not args.container:
        raise CliError("give a CONTAINER or --image IMAGE")
    explore = args.tree or args.efficiency or _gates(args)
    if args.image:
        return cmd_image(args)
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
    if explore:
        return explore_chain(args, chain_of_stack(stack, container.name))
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
        print(layerstack.format_provenance(found))
    elif args.changes and changes is not None:
        print(layerstack.format_changes(changes))
    else:
        print(layerstack.format_stack(stack, changes))
    return 0


def _bytes_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of bytes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more bytes: {text}")
    return value


def _gates(args: argparse.Namespace) -> bool:
    return args.fail_under_efficiency is not None or args.fail_over_wasted is not None


def cmd_image(args: argparse.Namespace) -> int:
    root = root_of(args)
    if args.changes:
        raise CliError("--changes is for a running container; an image has no container layer")
    try:
        chain = image_chain(root, args.image)
    except ImageNotFound as exc:
        raise CliError(f"{present.safe(args.image)}: {exc.reason}") from None
    except (NoAccess, PermissionError) as exc:
        where = getattr(exc, "path", None) or getattr(exc, "filename", None) or "the image store"
        raise CliError(f"{where} is unreadable: reading the image store needs root") from None
    if args.tree or args.efficiency or _gates(args):
        return explore_chain(args, chain)
    if args.path:
        found = chain_provenance(root, chain, args.path)
        if args.json:
            doc = {**to_json(chain), "provenance": to_json(found)}
            print(dumps(doc))
        else:
            print(layerstack.format_provenance(found))
        return 0
    if args.json:
        print(dumps(chain))
    else:
        print(layertree.format_chain(chain))
    return 0


def explore_chain(args: argparse.Namespace, chain: LayerChain) -> int:
    """--tree, --efficiency and the CI gates over a chain of layers (image or container)."""
    root = root_of(args)
    index = chain.top if args.layer is None else args.layer
    if not 0 <= index <= chain.top:
        raise CliError(f"layer {args.layer} is out of range: {present.safe(chain.name)} "
                       f"has layers 0 to {chain.top}")  # fmt: skip
    for layer in chain.layers:
        try:
            os.close(fsutil.open_dir(layer_dir(root, layer)))
        except PermissionError:
            raise CliError(
                f"{layer.path} is unreadable: reading layer directories needs root"
            ) from None
        except OSError:
            pass  # gone: the walks report it as skipped
    data: dict[str, Any] = {}
    text: list[str] = []
    if args.tree:
        walk = walk_tree(root, chain, index, args.under, merged=args.merged)
        if not walk.exists:
            raise CliError(f"{present.safe(walk.path)} is not a directory in layer {index}")
        data["tree"] = to_json(walk)
        text.append(layertree.format_tree(walk, chain))
    eff = None
    if args.efficiency or _gates(args):
        eff = compute_efficiency(root, chain)
        data.update(to_json(eff))
        text.append(layertree.format_efficiency(eff, chain))
    if args.json:
        data["layers"] = to_json(chain)["layers"]
        print(dumps(data))
    else:
        print("\n\n".join(text))
    if eff is not None:
        failed = gate_failures(eff, args.fail_under_efficiency, args.fail_over_wasted)
        if failed:
            print(f"ctop-py: FAIL: {'; '.join(failed)}", file=sys.stderr)
            return 1
    return 0


def gate_failures(eff: Efficiency, under: float | None, over: int | None) -> list[str]:
    """dive's CI rules: lowestEfficiency and highestWastedBytes."""
    failed = []
    if under is not None and eff.efficiency < under:
        failed.append(f"efficiency {eff.efficiency:.4f} is under {under:g}")
    if over is not None and eff.wasted_bytes > over:
        failed.append(f"wasted {eff.wasted_bytes} bytes is over {int(over)}")
    return failed


def chain_provenance(root: HostRoot, chain: LayerChain, path: str) -> layers.Provenance:
    return layers.layers_provenance(root, tuple(reversed(chain.layers)), chain.xattr_prefix, path)


DRIVERS = {"docker": "overlay2", "podman": "overlay", "containerd": "overlayfs"}


def layers_json(
    container: ContainerRaw,
    stack: layers.MountStack,
    changes: layers.Changes | None,
    found: layers.Provenance | None,
) -> dict[str, Any]:
    """The stack as the issue's schema: lowers from the base layer (first) to the top."""

    def layer(item: layers.Layer) -> dict[str, Any]:
        data: dict[str, Any] = to_json(item)
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
                    "skipped": to_json(changes.skipped),
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
        "mounts": to_json(stack.mounts),
        "warnings": list(stack.warnings),
    }
    if found is not None:
        data["provenance"] = to_json(found)
    return data
