"""Builders for fake host roots used by the layer tests (no tests here).

`build_docker_root` lays out what Docker 20.10 with overlay2 leaves on disk for one running
container: overlay2/<cache-id>/diff + l/<ID> symlinks, layerdb, imagedb, containers/<id>,
and /proc/<pid>/mountinfo with the container's overlay line.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctop_py.host import HostRoot
from ctop_py.layers.docker_meta import chain_ids

# Entry specs for populate(): bytes = a file with that content; the strings below = special.
DIR = "dir"
OPAQUE = "opaque"  # directory with trusted.overlay.opaque=y
WHITEOUT = "whiteout"  # char device 0:0
FIFO = "fifo"
Spec = bytes | str | tuple[str, str]  # ("link", target) = symlink
Layout = Mapping[str, Spec]


def _hex(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def populate(top: Path, layout: Layout) -> None:
    """Create entries under `top`; keys are relative paths ('a/b'), parents made as dirs."""
    top.mkdir(parents=True, exist_ok=True)
    for rel, spec in layout.items():
        path = top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, bytes):
            path.write_bytes(spec)
        elif isinstance(spec, tuple):
            os.symlink(spec[1], path)
        elif spec in (DIR, OPAQUE):
            path.mkdir(exist_ok=True)
            if spec == OPAQUE:
                os.setxattr(path, "trusted.overlay.opaque", b"y")
        elif spec == WHITEOUT:
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(0, 0))
        elif spec == FIFO:
            os.mkfifo(path)
        else:
            raise ValueError(spec)


def dir_size(top: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if not stat.S_ISDIR(st.st_mode):
                total += st.st_size
    return total


@dataclass
class FakeDocker:
    tmp: Path
    root: HostRoot
    pid: int
    container_id: str
    mount_id: str
    image_id: str
    cache_ids: list[str]  # bottom first
    links: list[str]  # bottom first
    init_link: str
    diff_ids: list[str]
    chains: list[str]

    @property
    def data(self) -> Path:
        return self.tmp / "var/lib/docker"

    def layer(self, index: int) -> Path:
        """Diff dir of image layer `index` (0 = bottom)."""
        return self.data / "overlay2" / self.cache_ids[index] / "diff"

    @property
    def upper(self) -> Path:
        return self.data / "overlay2" / self.mount_id / "diff"

    @property
    def init(self) -> Path:
        return self.data / "overlay2" / f"{self.mount_id}-init" / "diff"

    def host(self, path: Path) -> str:
        return "/" + str(path.relative_to(self.tmp))


DEFAULT_INIT: Layout = {
    "etc/hosts": b"",
    "etc/resolv.conf": b"",
    "etc/hostname": b"",
    "dev/console": b"",
    "dev/pts": DIR,
    "proc": DIR,
    "sys": DIR,
    ".dockerenv": b"",
}


def default_history(count: int) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = [{"created": "2024-01-01T00:00:00Z", "comment": "Imported"}]
    for i in range(1, count):
        history.append({"created": f"2024-01-0{i + 1}T00:00:00Z", "created_by": f"/bin/sh -c l{i}"})
    history.append(
        {
            "created": "2024-02-01T00:00:00Z",
            "created_by": "/bin/sh -c #(nop)  CMD",
            "empty_layer": True,
        }
    )
    return history


def build_docker_root(
    tmp: Path,
    layers: Sequence[Layout],
    *,
    upper: Layout | None = None,
    init: Layout | None = None,
    history: list[dict[str, Any]] | None = None,
    relative: bool = False,
    pid: int = 4242,
) -> FakeDocker:
    """A Docker data root under tmp/var/lib/docker with one container running as `pid`.

    `layers` is bottom first. `relative=True` writes the mountinfo line the way Docker does
    when the absolute form would not fit a page (paths relative to overlay2/).
    """
    data = tmp / "var/lib/docker"
    overlay2 = data / "overlay2"
    (overlay2 / "l").mkdir(parents=True)
    cache_ids, links = [], []
    for i, layout in enumerate(layers):
        cache_id = _hex(f"cache{i}")
        link = f"LINK{i:02d}" + "A" * 20
        populate(overlay2 / cache_id / "diff", layout)
        (overlay2 / cache_id / "link").write_text(link)
        os.symlink(f"../{cache_id}/diff", overlay2 / "l" / link)
        cache_ids.append(cache_id)
        links.append(link)
    mount_id = _hex("mount")
    init_link = "INIT" + "B" * 22
    populate(overlay2 / f"{mount_id}-init" / "diff", DEFAULT_INIT if init is None else init)
    os.symlink(f"../{mount_id}-init/diff", overlay2 / "l" / init_link)
    populate(overlay2 / mount_id / "diff", upper or {})
    (overlay2 / mount_id / "work").mkdir()
    (overlay2 / mount_id / "merged").mkdir()

    diff_ids = ["sha256:" + _hex(f"diff{i}") for i in range(len(layers))]
    chains = list(chain_ids(diff_ids))
    layerdb = data / "image/overlay2/layerdb"
    for i, chain in enumerate(chains):
        entry = layerdb / "sha256" / chain.removeprefix("sha256:")
        entry.mkdir(parents=True)
        (entry / "cache-id").write_text(cache_ids[i])
        (entry / "diff").write_text(diff_ids[i])
        (entry / "size").write_text(str(dir_size(overlay2 / cache_ids[i] / "diff")))
        if i:
            (entry / "parent").write_text(chains[i - 1])
    config = {
        "architecture": "amd64",
        "history": default_history(len(layers)) if history is None else history,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    raw = json.dumps(config).encode()
    image_hex = hashlib.sha256(raw).hexdigest()
    content = data / "image/overlay2/imagedb/content/sha256"
    content.mkdir(parents=True)
    (content / image_hex).write_bytes(raw)

    container_id = _hex("container")
    mounts = layerdb / "mounts" / container_id
    mounts.mkdir(parents=True)
    (mounts / "mount-id").write_text(mount_id)
    (mounts / "init-id").write_text(f"{mount_id}-init")
    (mounts / "parent").write_text(chains[-1])
    cdir = data / "containers" / container_id
    cdir.mkdir(parents=True)
    (cdir / "config.v2.json").write_text(
        json.dumps({"ID": container_id, "Image": f"sha256:{image_hex}"})
    )

    prefix = "" if relative else "/var/lib/docker/overlay2/"
    lower = ":".join(f"{prefix}l/{link}" for link in [init_link, *reversed(links)])
    line = (
        f"75 51 0:39 / / rw,relatime master:2 - overlay overlay rw,lowerdir={lower},"
        f"upperdir={prefix}{mount_id}/diff,workdir={prefix}{mount_id}/work\n"
        "76 75 0:42 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
        "77 75 0:43 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
        f"92 75 254:0 /var/lib/docker/containers/{container_id}/hosts /etc/hosts rw,relatime"
        " - ext4 /dev/vda rw\n"
        "93 75 254:0 /var/lib/docker/volumes/data/_data /data rw,relatime - ext4 /dev/vda rw\n"
        "94 75 0:50 / /run/secrets ro,relatime - tmpfs tmpfs ro\n"
    )
    proc = tmp / "proc" / str(pid)
    proc.mkdir(parents=True)
    (proc / "mountinfo").write_text(line)
    return FakeDocker(
        tmp=tmp,
        root=HostRoot.at(tmp),
        pid=pid,
        container_id=container_id,
        mount_id=mount_id,
        image_id=f"sha256:{image_hex}",
        cache_ids=cache_ids,
        links=links,
        init_link=init_link,
        diff_ids=diff_ids,
        chains=chains,
    )


def write_mountinfo(tmp: Path, pid: int, text: str) -> HostRoot:
    proc = tmp / "proc" / str(pid)
    proc.mkdir(parents=True, exist_ok=True)
    (proc / "mountinfo").write_text(text)
    return HostRoot.at(tmp)
