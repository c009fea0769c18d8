"""Every `layers ... --json` record goes through the one encoder (ctop_py.export.json, with
the overrides of ctop_py.export.layers): every field of every layer record is in its JSON,
under its own name with its value, or where this file says (renamed, formatted) or why it is
left out. A field added to a layer record and forgotten in the JSON fails here."""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from ctop_py.export import layers as layers_json
from ctop_py.export.json import dumps
from ctop_py.layers import compute_changes, list_merged, provenance, read_stack, walk_layer
from ctop_py.layers.efficiency import compute_efficiency
from ctop_py.layers.image import chain_of_stack
from ctop_py.layers.listing import WalkEntry
from ctop_py.layers.tree import list_tree, walk_tree
from tests.test_layers_support import WHITEOUT, build_docker_root


def octal(mode: int) -> str:
    return f"{mode & 0o7777:04o}"


# record type -> field -> (JSON key, the field's value as the JSON holds it) or a reason.
Moved = tuple[str, Callable[[Any], Any]]
ELSEWHERE: dict[str, dict[str, Moved | str]] = {
    "Layer": {},
    "MountInfo": {
        "major": ("device", lambda v: str(v)),  # "major:minor", checked below
        "minor": "device (major:minor), checked below",
        "mount_point": ("target", lambda v: v),
    },
    "MountStack": {
        "merged_path": ("merged", lambda v: {"path": "/", "host_path": v}),
        "overlay": "overlay, checked below (other -> options)",
        "upper": "layers (every layer, upper first)",
        "init": "layers",
        "lowers": "layers",
    },
    "Change": {
        "kind": ("kind", lambda v: v.letter),
        "file_type": ("type", lambda v: v.value),
    },
    "Changes": {},
    "LayerHit": {
        "layer": ("layer", lambda v: v.label),  # with layer_path and instruction
        "file_type": ("type", lambda v: v.value),
        "mode": ("mode", octal),
    },
    "Provenance": {"file_type": ("type", lambda v: None if v is None else v.value)},
    "Entry": {"file_type": ("type", lambda v: v.value), "mode": ("mode", octal)},
    "Listing": {},
    "WalkEntry": {"entry": "its fields are the entry's own keys"},
    "Walk": {},
    "LayerChain": {
        "layers": "layers, checked below (index, size_bytes, cache_id)",
        "xattr_prefix": "how to read the layers, not a fact about them",
        "mounts": "the container's mounts: `layers NAME --json`",
    },
    "Node": {
        "file_type": ("type", lambda v: v.value),
        "size": ("size_bytes", lambda v: v),
        "mode": ("mode", octal),
        "name": "the last part of path",
        "has_children": "a tree widget's hint; the nodes under it follow",
    },
    "TreeWalk": {
        "size": ("size_bytes", lambda v: v),
        "removed_size": ("removed_bytes", lambda v: v),
    },
    "TreeListing": {"entries": "nodes"},
    "Efficiency": {},
}


def check(record: Any, data: Any, where: str) -> None:
    """`data` (decoded JSON) holds `record`: every field, recursively."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        assert isinstance(data, dict), where
        name = type(record).__name__
        moved = ELSEWHERE.get(name, {})
        if isinstance(record, WalkEntry):
            check(record.entry, data, where)
        for field in dataclasses.fields(record):
            value = getattr(record, field.name)
            rule = moved.get(field.name)
            if isinstance(rule, str):
                continue
            if rule is not None:
                key, shown = rule
                assert key in data, f"{where}.{field.name} is missing from the JSON as {key}"
                if name != "MountInfo":
                    assert data[key] == shown(value), f"{where}.{field.name}"
                continue
            assert field.name in data, f"{where}.{field.name} is missing from the JSON"
            check(value, data[field.name], f"{where}.{field.name}")
    elif isinstance(record, enum.Enum):
        assert data == record.value, where
    elif isinstance(record, Mapping):
        assert isinstance(data, dict) and set(data) == {str(k) for k in record}, where
    elif isinstance(record, tuple | list):
        assert isinstance(data, list) and len(data) == len(record), where
        for i, (value, item) in enumerate(zip(record, data, strict=True)):
            check(value, item, f"{where}[{i}]")
    else:
        assert data == record, where


def test_every_layer_record_is_covered() -> None:
    assert {t.__name__ for t in layers_json.OVERRIDES} == set(ELSEWHERE)


@pytest.fixture()
def fake(tmp_path: Path) -> Any:
    return build_docker_root(
        tmp_path,
        [{"bin/sh": b"x" * 300, "app/a": b"a", "app/b": b"bb"}, {"app/b": b"bbbb"}],
        upper={"app/a": WHITEOUT, "new": b"12345"},
    )


def test_every_field_of_the_layer_records_is_in_their_json(fake: Any) -> None:
    stack = read_stack(fake.root, fake.pid, None)
    data = json.loads(dumps(stack))
    check(stack, data, "stack")
    assert [layer["label"] for layer in data["layers"]] == [x.label for x in stack.layers]
    for layer, item in zip(stack.layers, data["layers"], strict=True):
        check(layer, item, f"layer {layer.label}")
    for mount, item in zip(stack.mounts, data["mounts"], strict=True):
        assert item["device"] == f"{mount.major}:{mount.minor}"
    assert stack.overlay is not None
    overlay = data["overlay"]
    assert overlay["options"] == list(stack.overlay.other)
    assert overlay["upperdir"] == stack.overlay.upperdir
    assert overlay["lowerdirs"] == list(stack.overlay.lowerdirs)

    changes = compute_changes(fake.root, stack)
    assert changes.changes
    item = json.loads(dumps(changes))
    check(changes, item, "changes")
    assert (item["added"], item["modified"], item["deleted"]) == (
        changes.added,
        changes.modified,
        changes.deleted,
    )
    assert [c["kind_code"] for c in item["changes"]] == [c.kind.value for c in changes.changes]

    for path in ("/app/a", "/app/b", "/new"):
        found = provenance(fake.root, stack, path)
        assert found.hits
        item = json.loads(dumps(found))
        check(found, item, f"provenance {path}")
        for hit, entry in zip(found.hits, item["hits"], strict=True):
            assert entry["layer_path"] == hit.layer.path
            assert entry["instruction"] == hit.layer.instruction

    listing = list_merged(fake.root, stack, "/app")
    check(listing, json.loads(dumps(listing)), "listing")
    walk = walk_layer(fake.root, stack, stack.lowers[-1], "/")
    assert walk.entries
    check(walk, json.loads(dumps(walk)), "walk")


def test_every_field_of_the_explorer_records_is_in_their_json(fake: Any) -> None:
    stack = read_stack(fake.root, fake.pid, None)
    chain = chain_of_stack(stack, "c")
    data = json.loads(dumps(chain))
    check(chain, data, "chain")
    for i, (layer, item) in enumerate(zip(chain.layers, data["layers"], strict=True)):
        assert item["index"] == i and item["cache_id"] == layer.layer_id
        assert item["size_bytes"] == layer.size and item["role"] == layer.role.value
        for key in ("label", "instruction", "created_by", "diff_id", "chain_id", "path"):
            assert item[key] == getattr(layer, key), key

    for merged in (False, True):
        tree = walk_tree(fake.root, chain, chain.top, merged=merged)
        assert tree.nodes
        item = json.loads(dumps(tree))
        check(tree, item, f"tree merged={merged}")
        assert item["counts"] == {m.value: n for m, n in tree.counts().items()}
        listing = list_tree(fake.root, chain, chain.top, "/app", merged=merged)
        item = json.loads(dumps(listing))
        check(listing, item, "tree listing")
        check(listing.entries, item["nodes"], "tree listing nodes")

    eff = compute_efficiency(fake.root, chain)
    item = json.loads(dumps(eff))
    check(eff, item, "efficiency")
    assert item["wasted_user_fraction"] == (
        eff.wasted_bytes / eff.user_size_bytes if eff.user_size_bytes else None
    )
