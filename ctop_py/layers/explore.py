"""What the app's layer explorer asks of the host, in one object (its methods run in worker
threads): the chain of a container or an image, one directory, a walk, provenance, the
efficiency. Errors a user can act on come back as ExploreError with one line to show."""

from __future__ import annotations

import os

from ctop_py import present
from ctop_py.host import Gone, HostError, HostRoot, NoAccess
from ctop_py.layers import fsutil
from ctop_py.layers.efficiency import Efficiency, compute_efficiency
from ctop_py.layers.image import (
    ImageNotFound,
    ImageRef,
    LayerChain,
    chain_of_stack,
    image_chain,
    list_images,
)
from ctop_py.layers.provenance import Provenance, layers_provenance
from ctop_py.layers.stack import layer_dir, read_stack
from ctop_py.layers.tree import (
    DEFAULT_LIST_MAX,
    DEFAULT_WALK_MAX,
    Progress,
    TreeListing,
    TreeWalk,
    list_tree,
    walk_tree,
)


class ExploreError(Exception):
    """One line for the user (already escaped)."""


class ExploreSource:
    def __init__(self, root: HostRoot) -> None:
        self.root = root

    def container_chain(
        self, pid: int | None, container_id: str | None, runtime: str, name: str
    ) -> LayerChain:
        if pid is None:
            raise ExploreError("the container is not running: it has no mounts to show")
        runtime_id = container_id if runtime in ("docker", "podman") else None
        try:
            stack = read_stack(self.root, pid, runtime_id)
        except Gone:
            raise ExploreError("the container exited while its mounts were read") from None
        except NoAccess as exc:
            raise ExploreError(
                f"{present.safe(str(exc))}: reading a container's mounts needs root"
            ) from None
        if not stack.layers:
            raise ExploreError(present.safe(stack.warnings[0]) if stack.warnings else "no layers")
        chain = chain_of_stack(stack, name)
        self._readable(chain)
        return chain

    def _readable(self, chain: LayerChain) -> None:
        """One clear line instead of a tree of "permission denied" (a non-root user)."""
        for layer in chain.layers:
            try:
                os.close(fsutil.open_dir(layer_dir(self.root, layer)))
            except PermissionError:
                raise ExploreError(
                    f"{present.safe(layer.path)} is unreadable: reading layers needs root"
                ) from None
            except OSError:
                continue  # gone or missing: the listings say so

    def image_chain(self, ref: str) -> LayerChain:
        try:
            chain = image_chain(self.root, ref)
            self._readable(chain)
            return chain
        except ImageNotFound as exc:
            raise ExploreError(f"{present.safe(ref)}: {present.safe(exc.reason)}") from None
        except (NoAccess, PermissionError):
            raise ExploreError("the image store is unreadable: it needs root") from None
        except HostError as exc:
            raise ExploreError(present.safe(str(exc))) from None

    def images(self) -> tuple[ImageRef, ...]:
        return list_images(self.root)

    def listing(
        self, chain: LayerChain, layer: int, path: str, merged: bool, limit: int = DEFAULT_LIST_MAX
    ) -> TreeListing:
        return list_tree(self.root, chain, layer, path, merged=merged, max_entries=limit)

    def walk(
        self,
        chain: LayerChain,
        layer: int,
        merged: bool,
        progress: Progress | None = None,
        limit: int = DEFAULT_WALK_MAX,
    ) -> TreeWalk:
        return walk_tree(
            self.root, chain, layer, merged=merged, max_entries=limit, progress=progress
        )

    def provenance(self, chain: LayerChain, layer: int, path: str) -> tuple[Provenance, Provenance]:
        """The path as of layer `layer` (layers 0..layer), and in the whole chain."""
        upto = tuple(reversed(chain.layers[: layer + 1]))
        whole = tuple(reversed(chain.layers))
        return (
            layers_provenance(self.root, upto, chain.xattr_prefix, path),
            layers_provenance(self.root, whole, chain.xattr_prefix, path),
        )

    def efficiency(self, chain: LayerChain, progress: Progress | None = None) -> Efficiency:
        return compute_efficiency(self.root, chain, progress=progress)
