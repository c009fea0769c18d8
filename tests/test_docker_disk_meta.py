"""Names from docker's on-disk container configs (dockerd down): read once, and bounded."""

from __future__ import annotations

import json
from pathlib import Path

from ctop_py.host import HostRoot
from ctop_py.runtimes.docker import DockerDiskMeta


def _config(root: Path, cid: str, name: str) -> Path:
    directory = root / "var/lib/docker/containers" / cid
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.v2.json"
    config = {"Name": f"/{name}", "Config": {"Image": "busybox"}, "State": {"Running": True}}
    path.write_text(json.dumps(config))
    return path


def test_name_read_once_and_kept(tmp_path: Path) -> None:
    cid = "a" * 64
    path = _config(tmp_path, cid, "web")
    meta = DockerDiskMeta(HostRoot.at(tmp_path))
    first = meta.get(cid)
    assert first is not None and first.name == "web" and first.state == "running"
    path.unlink()  # a second get does not read the file again
    assert meta.get(cid) is first


def test_cache_forgets_the_oldest_beyond_its_size(tmp_path: Path) -> None:
    meta = DockerDiskMeta(HostRoot.at(tmp_path))
    ids = [f"{n:064x}" for n in range(meta.CACHE_SIZE + 10)]
    paths = [_config(tmp_path, cid, f"c{n}") for n, cid in enumerate(ids)]
    for cid in ids:
        assert meta.get(cid) is not None
    # With their files gone, a get reads nothing now: the last CACHE_SIZE are kept, the
    # first ten were dropped (asked newest first: each miss is kept and drops the oldest).
    for path in paths:
        path.unlink()
    kept = [meta.get(cid) for cid in ids[10:]]
    assert [m.name if m else None for m in kept] == [f"c{n}" for n in range(10, len(ids))]
    assert [meta.get(cid) for cid in reversed(ids[:10])] == [None] * 10
