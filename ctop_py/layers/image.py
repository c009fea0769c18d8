"""The layers of a local image (or of a container's stack), base first, read from disk.

An image is found in Docker's image store without the daemon and without an export:

    <data-root>/image/overlay2/repositories.json            name:tag → image id
    <data-root>/image/overlay2/imagedb/content/sha256/<id>  config: rootfs.diff_ids, history
    <data-root>/image/overlay2/layerdb/sha256/<chain>/cache-id → <data-root>/overlay2/<cache>/diff

Nothing is written; a store that cannot be read (non-root) is one clear error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ctop_py.host import HostError, HostRoot, NoAccess, read_optional
from ctop_py.layers.docker_meta import DockerStore, chain_ids, short_instruction
from ctop_py.layers.stack import Layer, LayerRole, MountStack, host_path_of
from ctop_py.mounts import MountInfo

_HEX = re.compile(r"^[0-9a-f]{1,64}$")


class ImageNotFound(HostError):
    """No image of that name, tag or id in the store (or the name is ambiguous)."""


@dataclass(frozen=True)
class LayerChain:
    """What the explorer walks: layers base first (index 0 is the base layer).

    For an image these are its layers; for a container the image layers, then Docker's init
    layer, then the container's writable layer (the last one).
    """

    name: str  # what the user asked for (image reference or container name)
    image_id: str | None
    container_id: str | None
    layers: tuple[Layer, ...]  # base first
    xattr_prefix: str = "trusted.overlay."
    warnings: tuple[str, ...] = ()
    mounts: tuple[MountInfo, ...] = ()  # a container's other mounts (volumes, binds, tmpfs)

    def index_of(self, layer: Layer) -> int:
        return self.layers.index(layer)

    @property
    def top(self) -> int:
        return len(self.layers) - 1


def chain_of_stack(stack: MountStack, name: str) -> LayerChain:
    """A container's mount stack as a chain, base first (data-only layers left out)."""
    return LayerChain(
        name=name,
        image_id=stack.image_id,
        container_id=stack.container_id,
        layers=tuple(reversed(stack.layers)),
        xattr_prefix=stack.xattr_prefix,
        warnings=stack.warnings,
        mounts=stack.mounts,
    )


def _repositories(store: DockerStore) -> dict[str, str]:
    raw = read_optional(store.image_root / "repositories.json")
    if raw is None:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        return {}
    out: dict[str, str] = {}
    repos = doc.get("Repositories") if isinstance(doc, dict) else None
    for refs in (repos or {}).values():
        if isinstance(refs, dict):
            for ref, image_id in refs.items():
                if isinstance(ref, str) and isinstance(image_id, str):
                    out[ref] = image_id
    return out


def _image_ids(store: DockerStore) -> list[str]:
    content = store.image_root / "imagedb" / "content" / "sha256"
    try:
        return sorted("sha256:" + p.name for p in content.iterdir())
    except FileNotFoundError:
        return []
    except PermissionError as exc:
        raise NoAccess(str(content), "permission denied") from exc


def _candidates(ref: str) -> list[str]:
    """docker's short forms: 'busybox' → busybox:latest, docker.io/library/busybox:latest."""
    out = [ref]
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in ref:
        out.append(ref + ":latest")
    for name in list(out):
        if "/" not in name:
            out.append("docker.io/library/" + name)
        elif name.startswith("docker.io/library/"):
            out.append(name[len("docker.io/library/") :])
        elif name.count("/") == 1 and "." not in name.split("/")[0]:
            out.append("docker.io/" + name)
    return out


def resolve_image(store: DockerStore, ref: str) -> tuple[str, tuple[str, ...]]:
    """(image id, its tags) for a name, name:tag, full id or unique id prefix."""
    if not store.image_root.is_dir():
        try:
            store.image_root.stat()
        except PermissionError as exc:
            raise NoAccess(str(store.image_root), "permission denied") from exc
        except OSError:
            pass
        raise ImageNotFound(str(store.image_root), "no Docker overlay2 image store")
    repos = _repositories(store)
    image_id: str | None = None
    for candidate in _candidates(ref):
        if candidate in repos:
            image_id = repos[candidate]
            break
    if image_id is None:
        wanted = ref.removeprefix("sha256:")
        if _HEX.match(wanted):
            matches = [i for i in _image_ids(store) if i[7:].startswith(wanted)]
            if len(matches) > 1:
                raise ImageNotFound(ref, f"matches {len(matches)} images; be more precise")
            if matches:
                image_id = matches[0]
    if image_id is None:
        raise ImageNotFound(ref, "no such image in the local image store")
    tags = tuple(sorted(r for r, i in repos.items() if i == image_id))
    return image_id, tags


def image_chain(root: HostRoot, ref: str, data_root: Path | None = None) -> LayerChain:
    """The layers of a local image, from Docker's files only (no daemon, no export).

    Raises ImageNotFound, NoAccess (the store needs root) or HostError.
    """
    store = DockerStore(data_root or root.docker)
    image_id, _tags = resolve_image(store, ref)
    config = store.image_config(image_id)
    if config is None:
        raise ImageNotFound(ref, f"image config {image_id[7:19]} is missing or unreadable")
    history = config.layer_history
    warnings: list[str] = []
    if history is None and config.diff_ids:
        warnings.append("image history does not line up with its layers: instructions unknown")
    layers: list[Layer] = []
    for i, chain_id in enumerate(chain_ids(config.diff_ids)):
        meta = store.layer(chain_id)
        if meta is None or meta.cache_id is None:
            warnings.append(f"layer {i} ({chain_id[7:19]}) is not in layerdb")
            path = host_path_of(root, store.overlay2 / "?" / "diff")
            exists = False
            cache_id = None
            size = None
        else:
            cache_id = meta.cache_id
            diff = store.overlay2 / cache_id / "diff"
            path = host_path_of(root, diff)
            exists = diff.is_dir()
            size = meta.size
            if not exists:
                warnings.append(f"layer {i} directory {path} not found")
        entry = history[i] if history is not None else None
        layers.append(
            Layer(
                role=LayerRole.LOWER,
                position=i + 1,
                path=path,
                mount_path=path,
                read_only=True,
                exists=exists,
                layer_id=cache_id,
                chain_id=chain_id,
                diff_id=config.diff_ids[i],
                size=size,
                created_by=entry.created_by if entry else None,
                created=entry.created if entry else None,
                comment=entry.comment if entry else None,
                instruction=short_instruction(entry.created_by, entry.comment) if entry else None,
            )
        )
    return LayerChain(
        name=ref,
        image_id=image_id,
        container_id=None,
        layers=tuple(layers),
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class ImageRef:
    name: str  # a tag ("app:1"), or the short id when the image has none
    image_id: str


def list_images(root: HostRoot, data_root: Path | None = None) -> tuple[ImageRef, ...]:
    """Every local image (tags first, then untagged ids), from the store on disk; empty when
    the store is missing or unreadable."""
    store = DockerStore(data_root or root.docker)
    try:
        repos = _repositories(store)
        ids = _image_ids(store)
    except (HostError, OSError):
        return ()
    tagged = [ImageRef(ref, image_id) for ref, image_id in sorted(repos.items())]
    named = {r.image_id for r in tagged}
    untagged = [ImageRef(i[7:19], i) for i in ids if i not in named]
    return (*tagged, *untagged)
