"""Names from docker's on-disk container configs (dockerd down): read once, and bounded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ctop_py.collect import Collector
from ctop_py.demo.host import HOST_NS
from ctop_py.host import HostRoot
from ctop_py.runtimes.docker import DockerDiskMeta
from tests.fakeroot import FakeHost, v2_files


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


def test_cache_keeps_every_live_container_and_forgets_the_gone(tmp_path: Path) -> None:
    """More containers than the old fixed bound (1,024, first in first out): asked for in
    turn every tick, each was read again every tick. Now every live one is read once; the
    collector's `retain` drops the gone ones."""
    meta = DockerDiskMeta(HostRoot.at(tmp_path))
    ids = [f"{n:064x}" for n in range(1100)]
    paths = [_config(tmp_path, cid, f"c{n}") for n, cid in enumerate(ids)]
    first = [meta.get(cid) for cid in ids]
    for path in paths:
        path.unlink()
    # A second and a third tick, with the files gone: every name still known, none read.
    expected = [f"c{n}" for n in range(len(ids))]
    for _ in range(2):
        assert [m.name if m else None for m in map(meta.get, ids)] == expected
    assert all(meta.get(cid) is m for cid, m in zip(ids, first, strict=True))
    meta.retain(set(ids[10:]))  # the first ten are gone
    assert len(meta) == len(ids) - 10
    assert [meta.get(cid) for cid in ids[:10]] == [None] * 10  # read again: no file now
    assert meta.get(ids[10]) is first[10]


def test_collector_forgets_the_names_of_gone_containers(tmp_path: Path) -> None:
    """Through the collector (no engine): a name is read from disk once while its container
    lives, and read again once the container went and came back."""
    host = FakeHost(tmp_path)
    a, b = "a" * 64, "b" * 64
    for pid, cid in ((100, a), (200, b)):
        path = f"/system.slice/docker-{cid}.scope"
        host.write_cgroup(path, v2_files())
        host.add_process(pid, "sleep", cgroup_path=path, namespaces=HOST_NS)
    a_config, b_config = _config(tmp_path, a, "alpha"), _config(tmp_path, b, "beta")
    collector = Collector(host.root, engines=[], rescan_s=0.0)

    def names() -> dict[str, str]:
        return {c.id: c.name for c in collector.sample().containers}

    try:
        assert names() == {a: "alpha", b: "beta"}
        a_config.unlink()
        b_config.unlink()
        assert names() == {a: "alpha", b: "beta"}  # read once: the files are not read again
        shutil.rmtree(host.cgroup_dir(f"/system.slice/docker-{b}.scope"))
        shutil.rmtree(tmp_path / "proc/200")
        assert names() == {a: "alpha"}
        _config(tmp_path, b, "beta-again")  # the same id back, another name on disk
        host.write_cgroup(f"/system.slice/docker-{b}.scope", v2_files())
        host.add_process(200, "sleep", cgroup_path=f"/system.slice/docker-{b}.scope",
                         namespaces=HOST_NS)  # fmt: skip
        assert names() == {a: "alpha", b: "beta-again"}
    finally:
        collector.close()
