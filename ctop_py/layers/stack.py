"""A container's root filesystem as a stack: merged view, upper (rw), init, image lowers.

The stack is read from the container process's mountinfo (what the kernel really mounted) and
then, where a runtime's metadata is on disk, annotated with image-layer facts. Docker's
metadata is read from files only, so this works with the daemon stopped.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from ctop_py.host import HostRoot, Malformed
from ctop_py.layers import fsutil
from ctop_py.layers.docker_meta import ContainerMeta, DockerStore, read_container_meta
from ctop_py.layers.docker_meta import short_instruction as _short
from ctop_py.mounts import (
    MountInfo,
    OverlayOptions,
    mountinfo_path,
    parse_overlay_options,
    read_mountinfo,
    root_mount,
)

_DOCKER_LAYER = re.compile(r"^(?P<data>.*)/overlay2/(?P<id>[^/]+)/diff$")
_PODMAN_LAYER = re.compile(r"^(?P<data>.*)/overlay/(?P<id>[^/]+)/diff$")
_CONTAINERD_LAYER = re.compile(r"^(?P<data>.*)/snapshots/(?P<id>\d+)/fs$")
# Bounds for listing the init layer (normally a dozen entries) so a huge one cannot stall us.
_INIT_CONTENTS_MAX = 64
_INIT_VISIT_MAX = 1024


class LayerRole(StrEnum):
    UPPER = "upper"  # the container's writable layer
    INIT = "init"  # Docker's per-container layer: /etc/hosts, /etc/resolv.conf mountpoints, …
    LOWER = "lower"  # an image layer
    DATA = "data"  # a data-only lower layer (reachable only through metacopy redirects)


@dataclass(frozen=True)
class Layer:
    role: LayerRole
    position: int | None  # lower N: 1 is the bottom (base) layer; None for upper/init/data
    path: str  # host path of the layer directory, `l/` links and relative paths resolved
    mount_path: str  # the path exactly as the overlay mount lists it
    read_only: bool
    exists: bool
    layer_id: str | None = None  # Docker cache-id, Podman layer id, containerd snapshot N
    chain_id: str | None = None
    diff_id: str | None = None
    size: int | None = None  # bytes, from layerdb (image layers) or a walk (init)
    created_by: str | None = None  # raw history string
    created: str | None = None
    comment: str | None = None
    instruction: str | None = None  # for display; None when it cannot be known
    contents: tuple[str, ...] = ()  # init layer: the paths it provides

    @property
    def label(self) -> str:
        if self.role is LayerRole.LOWER:
            return f"lower {self.position}"
        return self.role.value


@dataclass(frozen=True)
class MountStack:
    pid: int
    container_id: str | None
    runtime: str  # docker, podman, containerd, unknown
    image_id: str | None
    root_mount: MountInfo
    overlay: OverlayOptions | None  # None when / is not an overlay
    merged_path: str | None  # host path of the merged directory, when known
    upper: Layer | None
    init: Layer | None
    lowers: tuple[Layer, ...]  # image layers, top first (mount order); init excluded
    data_layers: tuple[Layer, ...]
    mounts: tuple[MountInfo, ...]  # every other mount the container sees
    warnings: tuple[str, ...]

    @property
    def below_upper(self) -> tuple[Layer, ...]:
        """The read-only layers in overlay lookup order (top first): init, then image layers."""
        return ((self.init,) if self.init else ()) + self.lowers

    @property
    def layers(self) -> tuple[Layer, ...]:
        """All layers of the merged view, top first."""
        return ((self.upper,) if self.upper else ()) + self.below_upper

    @property
    def xattr_prefix(self) -> str:
        return self.overlay.xattr_prefix if self.overlay else "trusted.overlay."


def host_path_of(root: HostRoot, path: Path) -> str:
    """A HostRoot-mapped Path back to the host-absolute string the kernel would print."""
    try:
        rel = str(path.relative_to(root.root))
    except ValueError:
        return str(path)
    return "/" if rel == "." else "/" + rel


def relative_bases(root: HostRoot) -> tuple[str, ...]:
    """Where runtimes chdir before mounting with relative lowerdirs (long layer lists)."""
    return (
        host_path_of(root, root.docker / "overlay2"),
        host_path_of(root, root.containers_storage / "overlay"),
        host_path_of(root, root.containerd / "io.containerd.snapshotter.v1.overlayfs/snapshots"),
    )


def resolve_layer_path(
    root: HostRoot, mount_path: str, bases: tuple[str, ...] | None = None
) -> tuple[str, bool]:
    """(host path, exists) of one overlay layer path as printed in mountinfo.

    Relative paths are tried against each runtime base; Docker/Podman `…/l/<ID>` symlinks are
    read (never followed blindly) and their `../<id>/diff` target joined lexically.
    """
    candidates = [mount_path]
    if not mount_path.startswith("/"):
        candidates = [posixpath.join(base, mount_path) for base in bases or relative_bases(root)]
    resolved: list[str] = []
    for candidate in candidates:
        host = posixpath.normpath(candidate)
        if posixpath.basename(posixpath.dirname(host)) == "l":
            try:
                target = os.readlink(root.path(host))
            except OSError:
                target = None
            if target is not None:
                # Absolute targets are host paths too: map them into the root, never follow.
                host = posixpath.normpath(posixpath.join(posixpath.dirname(host), target))
        if os.path.isdir(root.path(host)):
            return host, True
        resolved.append(host)
    return resolved[0], False


def _layer_id(path: str) -> tuple[str, str | None, str | None]:
    """(runtime, data root, layer id) from a resolved layer path."""
    for runtime, pattern in (
        ("docker", _DOCKER_LAYER),
        ("containerd", _CONTAINERD_LAYER),
        ("podman", _PODMAN_LAYER),
    ):
        match = pattern.match(path)
        if match:
            return runtime, match.group("data"), match.group("id")
    return "unknown", None, None


def _init_contents(root: HostRoot, host_path: str) -> tuple[tuple[str, ...], int | None]:
    """Leaf paths of a small layer (files, links, empty dirs) and the bytes of its files."""
    top = root.path(host_path)
    out: list[str] = []
    total = 0
    visited = 0
    pending: list[tuple[bytes, ...]] = [()]
    # Directories are reopened from the top (O_NOFOLLOW at each step) rather than kept open.
    while pending and visited < _INIT_VISIT_MAX:
        parts = pending.pop()
        try:
            fd = fsutil.open_dir_nofollow(top, parts)
        except OSError:
            if not parts:
                return (), None
            continue
        try:
            entries = fsutil.scan(fd)
        except OSError:
            entries = []
        finally:
            os.close(fd)
        if not entries and parts:
            out.append(fsutil.container_path(parts))
        for name, st in entries:
            visited += 1
            ftype = fsutil.file_type(st)
            if ftype is fsutil.FileType.DIR:
                pending.append((*parts, name))
            else:
                out.append(fsutil.container_path((*parts, name)))
                total += st.st_size if ftype is fsutil.FileType.FILE else 0
    return tuple(sorted(out)[:_INIT_CONTENTS_MAX]), total


def read_stack(root: HostRoot, pid: int, container_id: str | None) -> MountStack:
    """The mount stack of the process `pid` (a host pid in `root`'s /proc).

    `container_id` (Docker) helps find image metadata; without it the container is found from
    the upper directory's mount-id. Raises host.Gone when the process vanished or is a zombie
    (mountinfo gives EINVAL), NoAccess without privileges, Malformed for an unreadable file.
    """
    mounts = read_mountinfo(root, pid)
    mount = root_mount(mounts)
    if mount is None:
        raise Malformed(mountinfo_path(root, pid), "no mount at /")
    others = tuple(m for m in mounts if m is not mount)
    if mount.fstype != "overlay":
        return MountStack(
            pid=pid,
            container_id=container_id,
            runtime="unknown",
            image_id=None,
            root_mount=mount,
            overlay=None,
            merged_path=None,
            upper=None,
            init=None,
            lowers=(),
            data_layers=(),
            mounts=others,
            warnings=(f"the root filesystem is {mount.fstype}, not overlay: no layers",),
        )
    options = parse_overlay_options(mount.super_options)
    bases = relative_bases(root)
    warnings: list[str] = []

    def make(role: LayerRole, mount_path: str, read_only: bool) -> Layer:
        host, exists = resolve_layer_path(root, mount_path, bases)
        if not exists:
            warnings.append(f"{role.value} layer {mount_path} not found on disk (or not readable)")
        _, _, layer_id = _layer_id(host)
        return Layer(role, None, host, mount_path, read_only, exists, layer_id=layer_id)

    upper = make(LayerRole.UPPER, options.upperdir, False) if options.upperdir else None
    lower_layers = [make(LayerRole.LOWER, p, True) for p in options.lowerdirs]
    data_layers = tuple(make(LayerRole.DATA, p, True) for p in options.datadirs)

    init: Layer | None = None
    if lower_layers and lower_layers[0].layer_id and lower_layers[0].layer_id.endswith("-init"):
        first = lower_layers.pop(0)
        contents, size = _init_contents(root, first.path)
        init = replace(
            first,
            role=LayerRole.INIT,
            instruction="container init layer",
            contents=contents,
            size=size,
        )
    count = len(lower_layers)
    lowers = [replace(layer, position=count - i) for i, layer in enumerate(lower_layers)]

    probe = upper or init or (lowers[0] if lowers else None)
    runtime, data_root, _ = _layer_id(probe.path) if probe else ("unknown", None, None)
    image_id: str | None = None
    if runtime == "docker" and data_root is not None:
        store = DockerStore(root.path(data_root))
        try:
            has_metadata = store.exists()
        except PermissionError:
            has_metadata = False
            warnings.append(f"{data_root} is unreadable: image layer metadata needs root")
        if has_metadata:
            meta = read_container_meta(
                store,
                container_id=container_id,
                mount_id=upper.layer_id if upper else None,
                cache_ids=[layer.layer_id for layer in lowers if layer.layer_id],
            )
            container_id = meta.container_id
            image_id = meta.image_id
            warnings.extend(meta.warnings)
            lowers = [_annotate(layer, meta) for layer in lowers]
        elif not warnings or "needs root" not in warnings[-1]:
            warnings.append(f"no Docker layer metadata under {data_root}/image/overlay2")
    merged_path: str | None = None
    if upper is not None and upper.path.endswith("/diff"):
        candidate = upper.path[: -len("/diff")] + "/merged"
        if os.path.isdir(root.path(candidate)):
            merged_path = candidate
    return MountStack(
        pid=pid,
        container_id=container_id,
        runtime=runtime,
        image_id=image_id,
        root_mount=mount,
        overlay=options,
        merged_path=merged_path,
        upper=upper,
        init=init,
        lowers=tuple(lowers),
        data_layers=data_layers,
        mounts=others,
        warnings=tuple(warnings),
    )


def _annotate(layer: Layer, meta: ContainerMeta) -> Layer:
    found = meta.by_cache_id(layer.layer_id) if layer.layer_id else None
    if found is None:
        return layer
    history = found.history
    return replace(
        layer,
        chain_id=found.chain_id,
        diff_id=found.diff_id,
        size=found.size,
        created_by=history.created_by if history else None,
        created=history.created if history else None,
        comment=history.comment if history else None,
        instruction=_short(history.created_by, history.comment) if history else None,
    )


def layer_dir(root: HostRoot, layer: Layer) -> bytes:
    """The layer's directory as a bytes path under the HostRoot, for fs calls."""
    return os.fsencode(root.path(layer.path))
