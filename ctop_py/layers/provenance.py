"""Which layer provides a path of the merged view, and which versions it shadows.

Overlay lookup, top layer first, at every component of the path: a whiteout ends the
lookup (the name is deleted); a non-directory ends it and is the answer; directories merge
until one is opaque. Each layer is walked with O_NOFOLLOW, so a symlink inside a layer is
reported as what it is, never followed.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ctop_py.host import HostRoot
from ctop_py.layers import fsutil
from ctop_py.layers.fsutil import FileType, Skipped
from ctop_py.layers.stack import Layer, MountStack, layer_dir
from ctop_py.mounts import fsdecode


class HitState(StrEnum):
    PROVIDES = "provides"  # the visible entry (the top one for a merged directory)
    MERGED = "merged"  # a lower directory whose entries show through in the merged directory
    SHADOWED = "shadowed"  # a version hidden by a layer above it
    WHITEOUT = "whiteout"  # a whiteout: the path is deleted from here down


@dataclass(frozen=True)
class LayerHit:
    layer: Layer
    state: HitState
    file_type: FileType
    size: int
    mode: int
    symlink_target: str | None
    opaque: bool


@dataclass(frozen=True)
class Provenance:
    path: str  # normalised container path
    exists: bool
    file_type: FileType | None
    provider: LayerHit | None
    hits: tuple[LayerHit, ...]  # every layer holding something at this path, top first
    hidden_by: str | None  # why the path is not in the view, e.g. "whiteout in upper"
    skipped: tuple[Skipped, ...] = ()  # layers that could not be read at this path

    @property
    def merged_from(self) -> tuple[LayerHit, ...]:
        return tuple(h for h in self.hits if h.state in (HitState.PROVIDES, HitState.MERGED))

    @property
    def shadowed(self) -> tuple[LayerHit, ...]:
        return tuple(h for h in self.hits if h.state is HitState.SHADOWED)


@dataclass(frozen=True)
class _Raw:
    """One layer's entry at one path level."""

    st: os.stat_result
    opaque: bool
    target: str | None


_ABSENT = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})


def _walk_layer(
    top: bytes, parts: tuple[bytes, ...], xattr_prefix: str, label: str, skipped: list[Skipped]
) -> list[_Raw | None]:
    """lstat every prefix of `parts` inside one layer; None from the first missing level on.
    Errors other than "not there" (EACCES, EIO, …) are added to `skipped`."""
    out: list[_Raw | None] = [None] * len(parts)

    def failed(exc: OSError, level: int) -> None:
        if exc.errno not in _ABSENT:
            where = fsutil.container_path(parts[:level])
            skipped.append(Skipped(f"{label}:{where}", fsutil.reason(exc)))

    try:
        fd = fsutil.open_dir(top)
    except OSError as exc:
        failed(exc, 0)
        return out
    try:
        for level, name in enumerate(parts):
            try:
                st = fsutil.lstat_at(fd, name)
            except OSError as exc:
                failed(exc, level + 1)
                break
            ftype = fsutil.file_type(st)
            target = None
            if ftype is FileType.SYMLINK:
                raw = fsutil.readlink_at(fd, name)
                target = fsdecode(raw) if raw is not None else None
            if ftype is not FileType.DIR:
                out[level] = _Raw(st, False, target)
                break
            try:
                child = fsutil.open_child_dir(fd, name)
            except OSError as exc:
                failed(exc, level + 1)
                out[level] = _Raw(st, False, None)
                break
            os.close(fd)
            fd = child
            out[level] = _Raw(st, fsutil.is_opaque_fd(fd, xattr_prefix), None)
    finally:
        os.close(fd)
    return out


def _hit(layer: Layer, raw: _Raw, state: HitState) -> LayerHit:
    return LayerHit(
        layer=layer,
        state=state,
        file_type=fsutil.file_type(raw.st),
        size=raw.st.st_size,
        mode=raw.st.st_mode,
        symlink_target=raw.target,
        opaque=raw.opaque,
    )


def _root_provenance(root: HostRoot, layers: list[Layer]) -> Provenance:
    hits: list[LayerHit] = []
    for layer in layers:
        try:
            st = os.stat(layer_dir(root, layer))
        except OSError:
            continue
        state = HitState.MERGED if hits else HitState.PROVIDES
        hits.append(_hit(layer, _Raw(st, False, None), state))
    provider = hits[0] if hits else None
    return Provenance("/", provider is not None, FileType.DIR, provider, tuple(hits), None)


def provenance(root: HostRoot, stack: MountStack, path: str) -> Provenance:
    """Where `path` (a path inside the container) comes from. Never follows symlinks: for
    '/a/b' where /a is a symlink, the answer says so in `hidden_by`."""
    return layers_provenance(root, stack.layers, stack.xattr_prefix, path)


def layers_provenance(
    root: HostRoot, stack_layers: Sequence[Layer], prefix: str, path: str
) -> Provenance:
    """provenance() over any list of layers, top first (an image's, or a stack cut at a
    layer)."""
    parts = fsutil.split_path(path)
    norm = fsutil.container_path(parts)
    layers = [layer for layer in stack_layers if layer.exists]
    if not parts:
        return _root_provenance(root, layers)
    skipped: list[Skipped] = []
    per_layer = [
        _walk_layer(layer_dir(root, layer), parts, prefix, layer.label, skipped) for layer in layers
    ]

    active = list(range(len(layers)))  # layers whose directory takes part at this level
    hidden_by: str | None = None
    states: dict[int, HitState] = {}
    cut: str | None = None  # why the directory above stopped merging lower layers
    for level in range(len(parts)):
        last = level == len(parts) - 1
        where = fsutil.container_path(parts[: level + 1])
        merged: list[int] = []
        provider: int | None = None
        next_cut: str | None = None
        for i in active:
            raw = per_layer[i][level]
            if raw is None:
                continue
            ftype = fsutil.file_type(raw.st)
            if ftype is FileType.WHITEOUT:
                if provider is None:
                    hidden_by = f"{where} is deleted (whiteout) in {layers[i].label}"
                    if last:
                        states[i] = HitState.WHITEOUT
                else:
                    next_cut = f"{where} is deleted (whiteout) in {layers[i].label}"
                break
            if provider is None:
                provider = i
            elif ftype is not FileType.DIR:
                # Below a directory only directories merge; anything else ends the merge.
                next_cut = f"{where} is a {ftype.value} in {layers[i].label}"
                break
            merged.append(i)
            if ftype is not FileType.DIR:
                break
            if raw.opaque:
                next_cut = f"{where} is opaque in {layers[i].label}"
                break
        if provider is None:
            if hidden_by is None:
                below = any(per_layer[i][level] is not None for i in range(len(layers)))
                hidden_by = f"hidden: {cut}" if below and cut else f"{where} is in no layer"
            break
        if last:
            states[provider] = HitState.PROVIDES
            for i in merged[1:]:
                states[i] = HitState.MERGED
            break
        first = per_layer[provider][level]
        assert first is not None
        if fsutil.file_type(first.st) is not FileType.DIR:
            kind = fsutil.file_type(first.st).value
            hidden_by = f"{where} is a {kind} in {layers[provider].label}"
            if first.target is not None:
                hidden_by += f" (→ {first.target}, not followed)"
            break
        active = merged
        cut = next_cut

    hits: list[LayerHit] = []
    provider_hit: LayerHit | None = None
    for i, layer in enumerate(layers):
        raw = per_layer[i][-1]
        if raw is None:
            continue
        state = states.get(i, HitState.SHADOWED)
        hit = _hit(layer, raw, state)
        hits.append(hit)
        if state is HitState.PROVIDES:
            provider_hit = hit
    return Provenance(
        path=norm,
        exists=provider_hit is not None,
        file_type=provider_hit.file_type if provider_hit else None,
        provider=provider_hit,
        hits=tuple(hits),
        hidden_by=None if provider_hit else hidden_by,
        skipped=tuple(skipped),
    )


def merged_dirs(root: HostRoot, stack: MountStack, path: str) -> tuple[Layer, ...]:
    """The layers whose directories make up a merged directory, top first (empty if the path
    is not a directory in the view)."""
    if not fsutil.split_path(path):
        return tuple(layer for layer in stack.layers if layer.exists)
    found = provenance(root, stack, path)
    if found.file_type is not FileType.DIR:
        return ()
    return tuple(hit.layer for hit in found.merged_from)
