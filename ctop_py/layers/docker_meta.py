"""Docker's overlay2 metadata read straight from disk, so it works with the daemon stopped.

    <data-root>/image/overlay2/layerdb/sha256/<chainID>/{cache-id,diff,parent,size}
    <data-root>/image/overlay2/layerdb/mounts/<containerID>/{mount-id,init-id,parent}
    <data-root>/image/overlay2/imagedb/content/sha256/<imageID>     image config JSON
    <data-root>/containers/<containerID>/config.v2.json               field "Image"

A cache-id is the directory name under overlay2/; the chainID of layer n is
sha256(chainID(n-1) + " " + diffID(n)); history entries with empty_layer made no layer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctop_py.host import HostError, read_optional

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class HistoryEntry:
    created_by: str | None  # raw, e.g. "/bin/sh -c #(nop) COPY file:… in /app/ "
    created: str | None
    comment: str | None
    empty_layer: bool


@dataclass(frozen=True)
class ImageConfig:
    image_id: str  # "sha256:<hex>"
    diff_ids: tuple[str, ...]  # bottom first
    history: tuple[HistoryEntry, ...]

    @property
    def layer_history(self) -> tuple[HistoryEntry, ...] | None:
        """History entries that made a layer, bottom first; None when they do not line up with
        the layers (squashed or hand-made images): then no instruction can be trusted."""
        made = tuple(h for h in self.history if not h.empty_layer)
        return made if len(made) == len(self.diff_ids) else None


@dataclass(frozen=True)
class LayerMeta:
    """One image layer as layerdb knows it, with the history entry that made it if known."""

    chain_id: str
    diff_id: str | None
    cache_id: str | None
    parent: str | None
    size: int | None
    history: HistoryEntry | None


@dataclass(frozen=True)
class ContainerMeta:
    container_id: str | None
    image_id: str | None
    mount_id: str | None
    init_id: str | None
    top_chain_id: str | None  # the image's top layer: layerdb/mounts/<id>/parent
    layers: tuple[LayerMeta, ...]  # top first, as overlay lists them
    warnings: tuple[str, ...]

    def by_cache_id(self, cache_id: str) -> LayerMeta | None:
        for layer in self.layers:
            if layer.cache_id == cache_id:
                return layer
        return None


def chain_ids(diff_ids: Sequence[str]) -> tuple[str, ...]:
    """ChainIDs of a layer list (bottom first): chain[0] = diff[0]; chain[n] = sha256 of
    "chain[n-1] diff[n]"."""
    out: list[str] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            digest = hashlib.sha256(f"{out[-1]} {diff_id}".encode("ascii")).hexdigest()
            out.append("sha256:" + digest)
    return tuple(out)


def short_instruction(created_by: str | None, comment: str | None = None) -> str:
    """A history entry for display; the raw string is kept elsewhere.

    '/bin/sh -c #(nop)  ENV X=1' → 'ENV X=1'; '/bin/sh -c dd …' → 'RUN dd …';
    '|2 A=1 B=2 /bin/sh -c make' → 'RUN make'; BuildKit's 'RUN /bin/sh -c x # buildkit' → 'RUN x'.
    """
    if not created_by:
        return comment or ""
    text = created_by.strip()
    if text.endswith("# buildkit"):
        text = text[: -len("# buildkit")].rstrip()
    build_args = re.match(r"^\|\d+ .*?(/bin/sh -c .*)$", text, re.DOTALL)
    if build_args:
        text = build_args.group(1)
    if text.startswith("/bin/sh -c #(nop)"):
        text = text[len("/bin/sh -c #(nop)") :].strip()
    elif text.startswith("/bin/sh -c "):
        text = "RUN " + text[len("/bin/sh -c ") :].strip()
    elif text.startswith("RUN /bin/sh -c "):
        text = "RUN " + text[len("RUN /bin/sh -c ") :].strip()
    # Classic-builder COPY/ADD name their source by a 64-hex digest: keep 12.
    return re.sub(r"\b((?:file|dir|multi):)([0-9a-f]{12})[0-9a-f]{52}\b", r"\1\2…", text)


class DockerStore:
    """Read-only view of one Docker data root (e.g. /var/lib/docker under a HostRoot)."""

    def __init__(self, data_root: Path) -> None:
        self.data_root = data_root
        self.overlay2 = data_root / "overlay2"
        self.image_root = data_root / "image" / "overlay2"
        self.layerdb = self.image_root / "layerdb"

    def exists(self) -> bool:
        return self.layerdb.is_dir()

    def _text(self, path: Path) -> str | None:
        raw = read_optional(path)
        return None if raw is None else raw.decode("utf-8", "replace").strip()

    def container_mount(self, container_id: str) -> tuple[str | None, str | None, str | None]:
        """(mount-id, init-id, parent chainID) of a container's RW layer."""
        base = self.layerdb / "mounts" / container_id
        return (
            self._text(base / "mount-id"),
            self._text(base / "init-id"),
            self._text(base / "parent"),
        )

    def container_for_mount(self, mount_id: str) -> str | None:
        """Which container owns an overlay2 mount-id: scan layerdb/mounts/*/mount-id."""
        mounts = self.layerdb / "mounts"
        try:
            candidates = sorted(mounts.iterdir())
        except OSError:
            return None
        for candidate in candidates:
            if self._text(candidate / "mount-id") == mount_id:
                return candidate.name
        return None

    def container_image(self, container_id: str) -> str | None:
        raw = read_optional(self.data_root / "containers" / container_id / "config.v2.json")
        if raw is None:
            return None
        try:
            image = json.loads(raw).get("Image")
        except (ValueError, AttributeError):
            return None
        return image if isinstance(image, str) and _DIGEST.match(image) else None

    def layer(self, chain_id: str) -> LayerMeta | None:
        if not _DIGEST.match(chain_id):
            return None
        base = self.layerdb / "sha256" / chain_id.removeprefix("sha256:")
        cache_id = self._text(base / "cache-id")
        if cache_id is None:
            return None
        size_text = self._text(base / "size")
        return LayerMeta(
            chain_id=chain_id,
            diff_id=self._text(base / "diff"),
            cache_id=cache_id,
            parent=self._text(base / "parent"),
            size=int(size_text) if size_text and size_text.isdigit() else None,
            history=None,
        )

    def layer_chain(self, top_chain_id: str) -> tuple[LayerMeta, ...]:
        """Follow `parent` from the top layer down: cheap, no scan of the whole layerdb."""
        out: list[LayerMeta] = []
        seen: set[str] = set()
        current: str | None = top_chain_id
        while current and current not in seen:
            seen.add(current)
            layer = self.layer(current)
            if layer is None:
                break
            out.append(layer)
            current = layer.parent
        return tuple(out)

    def layers_by_cache_id(self, wanted: Iterable[str]) -> dict[str, LayerMeta]:
        """Fallback when the container's mount record is gone: scan every layerdb entry."""
        want = set(wanted)
        found: dict[str, LayerMeta] = {}
        try:
            entries = sorted((self.layerdb / "sha256").iterdir())
        except OSError:
            return found
        for entry in entries:
            if not _HEX64.match(entry.name):
                continue
            cache_id = self._text(entry / "cache-id")
            if cache_id in want:
                layer = self.layer("sha256:" + entry.name)
                if layer is not None and cache_id is not None:
                    found[cache_id] = layer
        return found

    def image_config(self, image_id: str) -> ImageConfig | None:
        if not _DIGEST.match(image_id):
            return None
        path = self.image_root / "imagedb" / "content" / "sha256" / image_id[len("sha256:") :]
        raw = read_optional(path)
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            return None
        return parse_image_config(image_id, doc)


def parse_image_config(image_id: str, doc: Any) -> ImageConfig | None:
    if not isinstance(doc, dict):
        return None
    rootfs = doc.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        diff_ids = []
    history: list[HistoryEntry] = []
    raw_history = doc.get("history")
    for item in raw_history if isinstance(raw_history, list) else []:
        if not isinstance(item, dict):
            continue
        history.append(
            HistoryEntry(
                created_by=_opt_str(item.get("created_by")),
                created=_opt_str(item.get("created")),
                comment=_opt_str(item.get("comment")),
                empty_layer=item.get("empty_layer") is True,
            )
        )
    return ImageConfig(image_id=image_id, diff_ids=tuple(diff_ids), history=tuple(history))


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def read_container_meta(
    store: DockerStore,
    *,
    container_id: str | None,
    mount_id: str | None,
    cache_ids: Sequence[str] = (),
) -> ContainerMeta:
    """Everything Docker's disk knows about a container's layers, as far as it is readable.

    `cache_ids` (the lowerdirs' directory names) are used only if the mount record is gone.
    Never raises for missing metadata: what is missing becomes a warning.
    """
    warnings: list[str] = []
    init_id: str | None = None
    top: str | None = None
    image_id: str | None = None
    try:
        if container_id is None and mount_id is not None:
            container_id = store.container_for_mount(mount_id)
        if container_id is not None:
            found_mount, init_id, top = store.container_mount(container_id)
            if found_mount is None:
                warnings.append(f"no layerdb mount record for container {container_id[:12]}")
            elif mount_id is not None and found_mount != mount_id:
                warnings.append("layerdb mount-id differs from the mounted upper directory")
            mount_id = mount_id or found_mount
            image_id = store.container_image(container_id)
        layers = store.layer_chain(top) if top else ()
        if not layers and cache_ids:
            by_cache = store.layers_by_cache_id(cache_ids)
            layers = tuple(by_cache[c] for c in cache_ids if c in by_cache)
        if not layers:
            warnings.append("image layers not found in layerdb")
        config = store.image_config(image_id) if image_id else None
    except HostError as exc:
        warnings.append(str(exc))
        return ContainerMeta(container_id, image_id, mount_id, init_id, top, (), tuple(warnings))
    if image_id and config is None:
        warnings.append(f"image config {image_id[7:19]} not found")
    return ContainerMeta(
        container_id=container_id,
        image_id=image_id,
        mount_id=mount_id,
        init_id=init_id,
        top_chain_id=top,
        layers=_attach_history(layers, config, warnings),
        warnings=tuple(warnings),
    )


def _attach_history(
    layers: tuple[LayerMeta, ...], config: ImageConfig | None, warnings: list[str]
) -> tuple[LayerMeta, ...]:
    if config is None or not layers:
        return layers
    chains = chain_ids(config.diff_ids)
    made = config.layer_history
    if made is None:
        warnings.append(
            f"image history has {sum(not h.empty_layer for h in config.history)} layer "
            f"entries for {len(config.diff_ids)} layers: instructions unknown"
        )
    index = {chain: i for i, chain in enumerate(chains)}
    out: list[LayerMeta] = []
    for layer in layers:
        i = index.get(layer.chain_id)
        if i is None:
            warnings.append(f"layer {layer.chain_id[7:19]} is not in the image's rootfs")
            out.append(layer)
            continue
        history = made[i] if made is not None else None
        diff_id = layer.diff_id or config.diff_ids[i]
        out.append(
            LayerMeta(layer.chain_id, diff_id, layer.cache_id, layer.parent, layer.size, history)
        )
    return tuple(out)
