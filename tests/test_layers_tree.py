"""The explorer on layer directories built in tmp_path (root: real whiteouts, trusted xattrs).

Expected figures are written out from the layouts below (dive's rules, by hand).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ctop_py.host import HostRoot
from ctop_py.layers.efficiency import compute_efficiency
from ctop_py.layers.image import ImageNotFound, LayerChain, image_chain
from ctop_py.layers.stack import Layer, LayerRole
from ctop_py.layers.tree import LayerOutOfRange, Mark, list_tree, walk_tree
from ctop_py.present.layertree import format_tree
from tests.test_layers_support import DIR, OPAQUE, WHITEOUT, Layout, build_docker_root, populate


def chain_of(tmp: Path, layouts: list[Layout]) -> LayerChain:
    layers = []
    for i, layout in enumerate(layouts):
        populate(tmp / f"l{i}", layout)
        path = str(tmp / f"l{i}")
        layers.append(Layer(LayerRole.LOWER, i + 1, path, path, True, True))
    return LayerChain(name="test", image_id=None, container_id=None, layers=tuple(layers))


def test_hard_links_count_once_like_a_tar(tmp_path: Path) -> None:
    chain = chain_of(tmp_path, [{"a/x": b"x" * 100}, {"a/y": b"y" * 10}])
    os.link(tmp_path / "l1/a/y", tmp_path / "l1/a/z")
    os.link(tmp_path / "l1/a/y", tmp_path / "l1/b")
    eff = compute_efficiency(HostRoot(), chain)
    # tar order: a/y (the file, 10 bytes), a/z and b (links, 0 bytes)
    assert eff.layer_sizes == (100, 10)
    assert eff.user_size_bytes == 10 and eff.wasted_bytes == 0 and eff.efficiency == 1.0
    assert eff.paths == 4


def test_whiteouts_and_opaque_directories(tmp_path: Path) -> None:
    chain = chain_of(
        tmp_path,
        [
            {"d/a": b"a" * 1000, "d/s/b": b"b" * 200, "f": b"f" * 50, "o/old": b"o" * 70},
            {"d": WHITEOUT, "f": WHITEOUT, "o": OPAQUE, "o/new": b"n" * 5},
            {"f": b"g" * 7, "e": DIR},
            {"e": DIR},
        ],
    )
    eff = compute_efficiency(HostRoot(), chain)
    # /d: whiteout of a directory counts what it removes (1000 + 200), once → no waste.
    # /f: 50 (layer 0) + 0 (whiteout of a file, layer 1) + 7 (layer 2): 57, smallest 0.
    # /o/old: only in layer 0 (the opaque marker is not a path); /e: empty in layers 2 and 3.
    assert {w.path: (w.bytes, w.layers) for w in eff.wasted} == {"/f": (57, (0, 1, 2))}
    assert eff.wasted_bytes == 57  # /e occurs twice too, with 0 bytes
    total = 1000 + 200 + 50 + 70 + 1200 + 0 + 5 + 7
    assert eff.efficiency == pytest.approx((total - 57) / total)
    assert eff.layer_sizes == (1320, 5, 7, 0) and eff.user_size_bytes == 12

    layer1 = walk_tree(HostRoot(), chain, 1)
    marks = {n.path: (n.mark, n.size) for n in layer1.nodes}
    assert marks == {
        "/d": (Mark.REMOVED, 1200),
        "/d/a": (Mark.REMOVED, 1000),
        "/d/s": (Mark.REMOVED, 200),
        "/d/s/b": (Mark.REMOVED, 200),
        "/f": (Mark.REMOVED, 50),
        "/o": (Mark.MODIFIED, 5),
        "/o/new": (Mark.ADDED, 5),
        "/o/old": (Mark.REMOVED, 70),
    }
    assert layer1.removed_size == 1320 and layer1.size == 5
    merged = walk_tree(HostRoot(), chain, 2, merged=True)
    assert {n.path: (n.mark, n.layer) for n in merged.nodes} == {
        "/e": (Mark.ADDED, 2),
        "/f": (Mark.ADDED, 2),  # nothing at /f in layers 0..1: it was deleted
        "/o": (Mark.UNCHANGED, 1),
        "/o/new": (Mark.UNCHANGED, 1),
    }
    listing = list_tree(HostRoot(), chain, 1, "/o")
    assert [(n.name, n.mark) for n in listing.entries] == [
        ("new", Mark.ADDED),
        ("old", Mark.REMOVED),
    ]
    removed = list_tree(HostRoot(), chain, 1, "/d/s")
    assert [(n.name, n.mark, n.layer) for n in removed.entries] == [("b", Mark.REMOVED, 0)]


def test_symlinks_in_a_layer_are_never_followed(tmp_path: Path) -> None:
    chain = chain_of(tmp_path, [{"etc": ("link", "/etc"), "up": ("link", "../../..")}])
    walk = walk_tree(HostRoot(), chain, 0)
    assert {(n.path, n.file_type.value, n.symlink_target) for n in walk.nodes} == {
        ("/etc", "symlink", "/etc"),
        ("/up", "symlink", "../../.."),
    }
    for path in ("/etc", "/up", "/up/etc"):
        assert not list_tree(HostRoot(), chain, 0, path).exists
        assert not walk_tree(HostRoot(), chain, 0, path, merged=True).exists


def test_bounds_and_range(tmp_path: Path) -> None:
    chain = chain_of(tmp_path, [{f"many/f{i:04d}": b"x" for i in range(600)}])
    listing = list_tree(HostRoot(), chain, 0, "/many", max_entries=100)
    assert len(listing.entries) == 100 and listing.total == 600 and listing.truncated
    assert [n.name for n in listing.entries][:2] == ["f0000", "f0001"]
    walk = walk_tree(HostRoot(), chain, 0, max_entries=50)
    assert len(walk.nodes) == 50 and walk.truncated
    stopped = walk_tree(HostRoot(), chain, 0, progress=lambda n, where: False)
    assert stopped.truncated
    with pytest.raises(LayerOutOfRange, match="layer 1 is out of range: test has layers 0 to 0"):
        list_tree(HostRoot(), chain, 1)


def test_untrusted_names_are_escaped(tmp_path: Path) -> None:
    chain = chain_of(tmp_path, [{"bad\x1b[31mname\n": b"x", "ok": b"y"}])
    text = format_tree(walk_tree(HostRoot(), chain, 0), chain)
    assert "\x1b" not in text and "bad\\x1b[31mname\\n" in text


def test_image_from_a_fake_store(tmp_path: Path) -> None:
    fake = build_docker_root(tmp_path, [{"a": b"1"}, {"a": b"22", "b": DIR}])
    repos = tmp_path / "var/lib/docker/image/overlay2/repositories.json"
    repos.write_text(
        json.dumps({"Repositories": {"app": {"app:1": fake.image_id, "app:latest": fake.image_id}}})
    )
    for ref in ("app:1", "app", "docker.io/library/app:latest", fake.image_id,
                fake.image_id[7:19]):  # fmt: skip
        chain = image_chain(fake.root, ref)
        assert chain.image_id == fake.image_id, ref
        assert [layer.layer_id for layer in chain.layers] == fake.cache_ids
        assert [layer.instruction for layer in chain.layers] == ["Imported", "RUN l1"]
    chain = image_chain(fake.root, "app:1")
    eff = compute_efficiency(fake.root, chain)
    assert {w.path: (w.bytes, w.layers) for w in eff.wasted} == {"/a": (3, (0, 1))}
    with pytest.raises(ImageNotFound, match="no such image"):
        image_chain(fake.root, "other:1")
    with pytest.raises(ImageNotFound, match="no Docker overlay2 image store"):
        image_chain(HostRoot.at(tmp_path / "nowhere"), "app:1")
