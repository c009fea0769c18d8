"""The layers explorer against images built here (tests/images/Dockerfile.explore).

Ground truth comes from outside the code under test: the layer tars of `docker save` (read
with tarfile and stacked here by hand, with dive's rules for the efficiency figures and
overlay's for the views), the Dockerfile's known sizes, `docker diff`, and `find`/`stat` run
inside a container.
"""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ctop_py.host import HostRoot
from ctop_py.layers import read_stack
from ctop_py.layers.efficiency import compute_efficiency
from ctop_py.layers.image import LayerChain, chain_of_stack, image_chain
from ctop_py.layers.tree import Mark, Node, list_tree, walk_tree
from tests.conftest import EXPLORE_IMAGE, REPO, DockerClient, RunContainer

pytestmark = pytest.mark.docker

WH = ".wh."
OPQ = ".wh..wh..opq"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctop_py", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


@dataclass(frozen=True)
class TarEntry:
    path: str  # "/data/big"
    kind: str  # file, dir, symlink, link, other
    size: int  # the tar header's size (0 for links, dirs, devices)


def _kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "dir"
    if member.isreg():
        return "file"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "link"
    return "other"


def _tar_layers(image: str, tmp: Path) -> list[list[TarEntry]]:
    """Each layer tar of `docker save`, base first, as (path, kind, size) entries."""
    target = tmp / "image.tar"
    subprocess.run(["docker", "save", "-o", str(target), image], check=True, timeout=120)
    out: list[list[TarEntry]] = []
    with tarfile.open(target) as outer:
        manifest_file = outer.extractfile("manifest.json")
        assert manifest_file is not None
        manifest = json.load(manifest_file)[0]
        for name in manifest["Layers"]:
            inner_file = outer.extractfile(name)
            assert inner_file is not None
            with tarfile.open(fileobj=inner_file) as inner:
                entries = []
                for m in inner.getmembers():
                    path = posixpath.normpath("/" + m.name)
                    if path != "/":
                        entries.append(TarEntry(path, _kind(m), m.size))
                out.append(entries)
    target.unlink()
    return out


@pytest.fixture(scope="module")
def tars(docker_client: DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _tar_layers(EXPLORE_IMAGE, tmp_path_factory.mktemp("save"))


@pytest.fixture(scope="module")
def chain(docker_client: DockerClient) -> LayerChain:
    return image_chain(HostRoot(), EXPLORE_IMAGE)


# --- dive's efficiency, by hand, from the tars --------------------------------------------


def dive_by_hand(layers: list[list[TarEntry]]) -> dict[str, Any]:
    """filetree/efficiency.go over the tars, written out plainly: the leaves of each layer,
    a whiteout of a directory sized by what the stacked tree below holds under it."""
    stacked: dict[str, TarEntry] = {}  # dive's stacked tree (ignores opaque markers)
    seen: dict[str, list[tuple[int, int]]] = {}  # path → [(layer, size)]
    layer_sizes = []
    for index, entries in enumerate(layers):
        real = [e for e in entries if posixpath.basename(e.path) != OPQ]
        parents = {posixpath.dirname(e.path) for e in real}
        for e in real:
            base = posixpath.basename(e.path)
            if base.startswith(WH):
                target = posixpath.join(posixpath.dirname(e.path), base[len(WH) :])
                below = stacked.get(target)
                size = 0
                if below is not None and below.kind == "dir":
                    size = sum(x.size for p, x in stacked.items() if p.startswith(target + "/"))
                seen.setdefault(target, []).append((index, size))
            elif e.path not in parents:  # a leaf of this layer's tree
                seen.setdefault(e.path, []).append((index, e.size))
        layer_sizes.append(sum(e.size for e in entries))
        for e in real:
            base = posixpath.basename(e.path)
            if base.startswith(WH):
                target = posixpath.join(posixpath.dirname(e.path), base[len(WH) :])
                for p in [p for p in stacked if p == target or p.startswith(target + "/")]:
                    del stacked[p]
            else:
                stacked[e.path] = e
    total = sum(s for hits in seen.values() for _, s in hits)
    smallest = sum(min(s for _, s in hits) for hits in seen.values())
    wasted = {p: hits for p, hits in seen.items() if len(hits) >= 2}
    return {
        "efficiency": smallest / total if total else 1.0,
        "wasted_bytes": sum(s for hits in wasted.values() for _, s in hits),
        "user_size_bytes": sum(layer_sizes[1:]),
        "wasted": {
            p: (sum(s for _, s in hits), [i for i, _ in hits])
            for p, hits in wasted.items()
            if sum(s for _, s in hits)
        },
        "total": total,
    }


def test_efficiency_equals_dive_by_hand(chain: LayerChain, tars: list[list[TarEntry]]) -> None:
    ours = compute_efficiency(HostRoot(), chain)
    theirs = dive_by_hand(tars)
    assert len(chain.layers) == len(tars) == 8
    assert ours.wasted_bytes == theirs["wasted_bytes"]
    assert ours.user_size_bytes == theirs["user_size_bytes"]
    assert ours.efficiency == pytest.approx(theirs["efficiency"], rel=1e-12)
    assert {w.path: (w.bytes, list(w.layers)) for w in ours.wasted} == theirs["wasted"]
    assert not ours.truncated and ours.skipped == ()

    # And from the Dockerfile alone: /data/big is 64 KiB in layer 1 and 32 KiB in layer 2;
    # /data/keep/k.txt ("hello\n") is deleted in layer 3 (a file's whiteout counts 0); the
    # whiteout of /data/old (layer 4) counts what it removes (8 KiB + "aaa\n") but the path
    # is in no other layer; the files hidden by the opaque /data/swap are not counted.
    assert {w.path: (w.bytes, w.layers) for w in ours.wasted} == {
        "/data/big": (65536 + 32768, (1, 2)),
        "/data/keep/k.txt": (6, (1, 3)),
    }
    assert ours.wasted_bytes == 65536 + 32768 + 6
    excess = (65536 + 32768 - 32768) + (6 - 0)
    assert ours.efficiency == pytest.approx((theirs["total"] - excess) / theirs["total"])
    assert theirs["total"] == sum(e.size for layer in tars for e in layer) + 8192 + 4
    many = [e for e in tars[7] if e.path.startswith("/many/")]
    assert len(many) == 2000 and ours.layer_sizes[7] == sum(e.size for e in many)


def test_json_and_ci_gates(chain: LayerChain, tars: list[list[TarEntry]]) -> None:
    theirs = dive_by_hand(tars)
    result = run_cli("layers", "--image", EXPLORE_IMAGE, "--efficiency", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["wasted_bytes"] == theirs["wasted_bytes"]
    assert data["user_size_bytes"] == theirs["user_size_bytes"]
    assert 0 <= data["efficiency"] <= 1
    assert data["efficiency"] == pytest.approx(theirs["efficiency"], rel=1e-12)
    assert data["wasted"][0] == {"path": "/data/big", "bytes": 98304, "layers": [1, 2]}

    fine = run_cli(
        "layers", "--image", EXPLORE_IMAGE, "--fail-under-efficiency", "0.5",
        "--fail-over-wasted", str(theirs["wasted_bytes"]),
    )  # fmt: skip
    assert fine.returncode == 0, fine.stderr
    low = run_cli("layers", "--image", EXPLORE_IMAGE, "--fail-under-efficiency", "0.999")
    assert low.returncode == 1
    assert low.stderr.strip().splitlines() == [
        f"ctop-py: FAIL: efficiency {theirs['efficiency']:.4f} is under 0.999"
    ]
    over = run_cli("layers", "--image", EXPLORE_IMAGE, "--fail-over-wasted", "98309")
    assert over.returncode == 1
    assert over.stderr.strip() == "ctop-py: FAIL: wasted 98310 bytes is over 98309"


# --- the trees, against the tars stacked with overlay's rules ------------------------------


def overlay_stack(layers: list[list[TarEntry]], upto: int) -> dict[str, tuple[TarEntry, int]]:
    """The merged view of layers 0..upto: path → (entry, index of the layer providing it)."""
    view: dict[str, tuple[TarEntry, int]] = {}
    for index in range(upto + 1):
        entries = layers[index]
        for e in entries:  # opaque directories first hide everything below them
            if posixpath.basename(e.path) == OPQ:
                d = posixpath.dirname(e.path)
                for p in [p for p in view if p.startswith(d + "/")]:
                    del view[p]
        for e in entries:
            base = posixpath.basename(e.path)
            if base == OPQ:
                continue
            if base.startswith(WH):
                target = posixpath.join(posixpath.dirname(e.path), base[len(WH) :])
                for p in [p for p in view if p == target or p.startswith(target + "/")]:
                    del view[p]
                continue
            old = view.get(e.path)
            if old is not None and old[0].kind == "dir" and e.kind != "dir":
                for p in [p for p in view if p.startswith(e.path + "/")]:
                    del view[p]
            view[e.path] = (e, index)
    return view


def _type(node: Node) -> str:
    return node.file_type.value


def _expected_type(e: TarEntry) -> str:
    return {"link": "file", "other": "char"}.get(e.kind, e.kind)


def _under_removed(nodes: dict[str, Node], path: str) -> bool:
    parent = nodes.get(posixpath.dirname(path))
    return parent is not None and parent.mark is Mark.REMOVED


def test_layer_trees_equal_the_tars(chain: LayerChain, tars: list[list[TarEntry]]) -> None:
    for index in range(1, len(tars)):
        below = overlay_stack(tars, index - 1)
        walk = walk_tree(HostRoot(), chain, index)
        assert walk.exists and not walk.truncated and walk.skipped == ()
        nodes = {n.path: n for n in walk.nodes}
        present = {p: n for p, n in nodes.items() if n.mark is not Mark.REMOVED}
        entries = [e for e in tars[index] if not posixpath.basename(e.path).startswith(WH)]
        assert {p: (_type(n), n.size if _type(n) == "file" else 0) for p, n in present.items()} == {
            e.path: (_expected_type(e), e.size) for e in entries
        }, index
        for e in entries:
            mark = nodes[e.path].mark
            assert (mark is Mark.ADDED) == (e.path not in below), (index, e.path, mark)
            old = below.get(e.path)
            if (
                old is not None
                and e.kind == "file"
                and (old[0].size, old[0].kind) != (e.size, "file")
            ):
                assert mark is Mark.MODIFIED, (index, e.path)
        # removed: each whiteout's target, and what an opaque directory of this layer hides
        whiteouts = {
            posixpath.join(posixpath.dirname(e.path), posixpath.basename(e.path)[len(WH) :])
            for e in tars[index]
            if posixpath.basename(e.path).startswith(WH) and posixpath.basename(e.path) != OPQ
        }
        opaque = {posixpath.dirname(e.path) for e in tars[index] if e.path.endswith(OPQ)}
        hidden = {
            p
            for p in below
            if posixpath.dirname(p) in opaque and p not in {e.path for e in entries}
        }
        removed_tops = {
            p for p, n in nodes.items() if n.mark is Mark.REMOVED and not _under_removed(nodes, p)
        }
        assert removed_tops == whiteouts | hidden, index
        for p in removed_tops:  # a removed entry shows the bytes it removes
            under = sum(e.size for q, (e, _) in below.items() if q == p or q.startswith(p + "/"))
            assert nodes[p].size == under, (index, p)


def test_known_marks(chain: LayerChain) -> None:
    """The Dockerfile's steps, as the explorer shows them."""

    def marks(index: int, under: str = "/data") -> dict[str, str]:
        walk = walk_tree(HostRoot(), chain, index, under)
        return {n.path: n.mark.value for n in walk.nodes}

    assert marks(2) == {"/data/big": "modified"}
    assert marks(3) == {"/data/keep": "modified", "/data/keep/k.txt": "removed"}
    assert marks(4) == {"/data/old": "removed", "/data/old/a.txt": "removed",
                        "/data/old/blob": "removed"}  # fmt: skip
    assert marks(5) == {"/data/old": "added", "/data/old/b.txt": "added"}
    assert marks(6) == {"/data/swap": "modified", "/data/swap/n": "added",
                        "/data/swap/s": "removed"}  # fmt: skip
    swap = list_tree(HostRoot(), chain, 6, "/data")
    assert [(n.name, n.opaque) for n in swap.entries] == [("swap", True)]
    many = list_tree(HostRoot(), chain, 7, "/many")
    assert many.total == 2000 and {n.mark for n in many.entries} == {Mark.ADDED}
    assert sum(n.size or 0 for n in many.entries) == sum(len(f"{i}\n") for i in range(2000))
    top = walk_tree(HostRoot(), chain, 7)
    assert [n.size for n in top.nodes if n.path == "/many"] == [top.size]


def test_merged_views_equal_the_stacked_tars(chain: LayerChain, tars: list[list[TarEntry]]) -> None:
    for index in range(len(tars)):
        truth = overlay_stack(tars, index)
        walk = walk_tree(HostRoot(), chain, index, merged=True)
        shown = {n.path: n for n in walk.nodes if n.mark is not Mark.REMOVED}
        assert set(shown) == set(truth), index
        for path, (entry, provider) in truth.items():
            node = shown[path]
            assert _type(node) == _expected_type(entry), path
            if entry.kind != "dir":
                assert node.layer == provider, (index, path)
            if entry.kind == "file":
                assert node.size == entry.size, path
        # what this layer removes is shown too, marked
        removed = {n.path for n in walk.nodes if n.mark is Mark.REMOVED}
        below = overlay_stack(tars, index - 1) if index else {}
        assert removed == set(below) - set(truth), index


def test_provenance_from_the_image(chain: LayerChain) -> None:
    result = run_cli("layers", "--image", EXPLORE_IMAGE, "--path", "/data/big", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["provenance"]
    paths = [layer.path for layer in chain.layers]
    assert found["provider"]["layer_path"] == paths[2]
    assert [h["layer_path"] for h in found["hits"] if h["state"] == "shadowed"] == [paths[1]]
    gone = run_cli("layers", "--image", EXPLORE_IMAGE, "--path", "/data/keep/k.txt", "--json")
    hidden = json.loads(gone.stdout)["provenance"]
    assert not hidden["exists"] and "whiteout" in hidden["hidden_by"]
    assert [h["layer_path"] for h in hidden["hits"]] == [paths[3], paths[1]]


# --- the image store: found by name and id, read only, errors in one line --------------------


def _store_state(chain: LayerChain) -> dict[str, tuple[int, int]]:
    roots = [Path(layer.path) for layer in chain.layers]
    roots.append(Path("/var/lib/docker/image/overlay2/imagedb"))
    roots.append(Path("/var/lib/docker/image/overlay2/layerdb/sha256"))
    state: dict[str, tuple[int, int]] = {}
    for top in roots:
        for here, dirs, files in os.walk(top):
            for name in [*dirs, *files, "."]:
                st = os.lstat(os.path.join(here, name))
                state[os.path.join(here, name)] = (st.st_mtime_ns, st.st_ctime_ns)
    return state


def test_image_by_id_and_read_only(chain: LayerChain, docker_client: DockerClient) -> None:
    image_id = docker_client.images.get(EXPLORE_IMAGE).id
    assert chain.image_id == image_id
    by_id = image_chain(HostRoot(), image_id[7:19])
    assert [layer.path for layer in by_id.layers] == [layer.path for layer in chain.layers]
    # layer directories: layerdb's cache-ids, as `docker inspect` names the top one
    inspect = docker_client.api.inspect_image(image_id)
    assert chain.layers[-1].path == inspect["GraphDriver"]["Data"]["UpperDir"]
    assert [layer.diff_id for layer in chain.layers] == inspect["RootFS"]["Layers"]

    before = _store_state(chain)
    for args in (["--tree", "--merged"], ["--efficiency"], ["--tree", "--layer", "4"], []):
        assert run_cli("layers", "--image", image_id[7:19], *args).returncode == 0
    assert _store_state(chain) == before


def test_bad_input_is_one_line() -> None:
    cases = {
        ("layers", "--image", "no-such-image-xyz:1"): "no such image",
        ("layers", "--image", EXPLORE_IMAGE, "--tree", "--layer", "8"): "out of range",
        ("layers", "--image", EXPLORE_IMAGE, "--tree", "--layer", "-1"): "out of range",
        ("layers", "--image", EXPLORE_IMAGE, "--tree", "--under", "/data/big"): "not a dir",
        ("layers",): "give a CONTAINER or --image",
    }
    for args, words in cases.items():
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr, args
        assert "Traceback" not in result.stderr


def test_unreadable_store_as_nobody() -> None:
    from tests.test_least_privilege import as_nobody

    for args in (["--efficiency"], ["--tree"], []):
        result = as_nobody("layers", "--image", EXPLORE_IMAGE, *args)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == (
            "ctop-py: /var/lib/docker/image/overlay2 is unreadable: "
            "reading the image store needs root"
        )


# --- a running container ---------------------------------------------------------------------


@pytest.fixture
def container(run_container: RunContainer) -> Iterator[Any]:
    ctr = run_container(EXPLORE_IMAGE, ["sleep", "3600"])
    code, out = ctr.exec_run(
        [
            "sh",
            "-c",
            "dd if=/dev/zero of=/data/big bs=1024 count=16 2>/dev/null && rm /many/f1 "
            "&& rm -rf /data/old && echo x > /new && mkdir -p /srv/a && echo yy > /srv/a/b",
        ]
    )
    assert code == 0, out
    yield ctr


def test_running_container(container: Any, docker_client: DockerClient) -> None:
    stack = read_stack(HostRoot(), container.attrs["State"]["Pid"], container.id)
    chain = chain_of_stack(stack, container.name)
    image = image_chain(HostRoot(), EXPLORE_IMAGE)
    # base → image layers → init → container layer
    assert [layer.path for layer in chain.layers[:8]] == [layer.path for layer in image.layers]
    assert chain.layers[8].role.value == "init" and chain.layers[9].role.value == "upper"

    # the container layer's tree is `docker diff` (a deleted directory shows what it held)
    walk = walk_tree(HostRoot(), chain, chain.top)
    nodes = {n.path: n for n in walk.nodes}
    kinds = {Mark.MODIFIED: 0, Mark.ADDED: 1, Mark.REMOVED: 2}
    ours = {
        (p, kinds[n.mark])
        for p, n in nodes.items()
        if n.mark in kinds and not _under_removed(nodes, p)
    }
    theirs = {(d["Path"], d["Kind"]) for d in docker_client.api.diff(container.id)}
    assert ours == theirs
    assert nodes["/data/old"].size == len("bbbb\n") and nodes["/data/big"].size == 16384

    # efficiency counts the container layer too: /data/big in layers 1, 2 and 9
    eff = compute_efficiency(HostRoot(), chain)
    wasted = {w.path: (w.bytes, w.layers) for w in eff.wasted}
    assert wasted["/data/big"] == (65536 + 32768 + 16384, (1, 2, 9))
    assert wasted["/many/f1"] == (2, (7, 9))  # "1\n", then a whiteout of a file (0)
    image_eff = compute_efficiency(HostRoot(), image)
    assert eff.user_size_bytes == image_eff.user_size_bytes + 16384 + 2 + 3  # big, x, yy

    # the merged view at the top is what the container sees
    find = "find /data /many /srv /new -exec stat -c '%n|%s|%F' {} +"
    code, out = container.exec_run(["sh", "-c", find])
    assert code == 0
    seen = {}
    for line in out.decode().splitlines():
        name, size, kind = line.split("|")
        seen[name] = (int(size) if kind.startswith("regular") else 0, kind.split()[0])
    merged: dict[str, tuple[int, str]] = {}
    for under in ("/data", "/many", "/srv"):
        listing = walk_tree(HostRoot(), chain, chain.top, under, merged=True)
        merged[under] = (0, "directory")
        for n in listing.nodes:
            if n.mark is not Mark.REMOVED:
                kind = {"file": "regular", "dir": "directory"}[n.file_type.value]
                merged[n.path] = ((n.size or 0) if kind == "regular" else 0, kind)
    merged["/new"] = (2, "regular")
    assert merged == seen

    result = run_cli("layers", container.name, "--tree", "--layer", "9", "--json")
    assert result.returncode == 0, result.stderr
    assert {n["path"] for n in json.loads(result.stdout)["tree"]["nodes"]} == set(nodes)
    out_of_range = run_cli("layers", container.name, "--tree", "--layer", "10")
    assert out_of_range.returncode == 2
    assert "layer 10 is out of range" in out_of_range.stderr


def test_container_layers_as_nobody(container: Any) -> None:
    from tests.test_least_privilege import as_nobody

    for args in (["--tree"], ["--efficiency"], ["--tree", "--merged", "--layer", "3"]):
        result = as_nobody("layers", container.id[:12], *args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].endswith("needs root"), result.stderr
