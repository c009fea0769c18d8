"""JSON forms keep exact strings; text forms escape what a terminal would interpret."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ctop_py.export.json import to_json
from ctop_py.layers import (
    MountStack,
    compute_changes,
    list_merged,
    provenance,
    read_stack,
)
from ctop_py.mounts import fsencode
from ctop_py.present.layerstack import (
    format_changes,
    format_listing,
    format_provenance,
    format_stack,
)
from tests.test_layers_support import WHITEOUT, FakeDocker, Layout, build_docker_root

EVIL = "/bin/sh -c echo \x1b[2J\u202e\x07\nRUN fake"
HISTORY = [
    {"created": "2024-01-01T00:00:00Z", "comment": "Imported from -"},
    {"created": "2024-01-02T00:00:00Z", "created_by": EVIL},
    {"created": "2024-01-03T00:00:00Z", "created_by": "/bin/sh -c dd if=/dev/zero of=/app/blob"},
]
IMAGE: list[Layout] = [
    {"bin/sh": b"x" * 2_000_000, "app/a": b"a"},
    {"x": b"evil"},
    {"app/blob": b"\0" * 102_400},
]
BAD_NAME = b"name\x1b[31m\xff"


def build(tmp_path: Path) -> tuple[FakeDocker, MountStack]:
    fake = build_docker_root(
        tmp_path, IMAGE, history=HISTORY, upper={"app/a": WHITEOUT, "new": b"12345"}
    )
    (fake.upper / os.fsdecode(BAD_NAME)).write_bytes(b"")
    return fake, read_stack(fake.root, fake.pid, None)


def test_format_stack_table(tmp_path: Path) -> None:
    fake, stack = build(tmp_path)
    changes = compute_changes(fake.root, stack)
    text = format_stack(stack, changes)
    lines = text.splitlines()
    assert lines[0].split() == ["merged", "/", "(what", "the", "container", "sees)"]
    assert lines[1].split()[:4] == ["upper", "container", "layer", "rw"]
    assert "5 B" in lines[1] and "+ 2 added, ~ 1 modified, - 1 deleted" in lines[1]
    assert lines[2].startswith("init") and "/.dockerenv, /dev/console, /dev/pts, …" in lines[2]
    assert lines[2].split()[1] == fake.mount_id[:12] + "-init"
    assert lines[3].split()[:4] == ["lower", "3", "RUN", "dd"]
    assert "100.0 KiB" in lines[3]
    assert lines[5].startswith("lower 1") and "Imported from -" in lines[5]
    assert lines[5].endswith("(base)") and "1.9 MiB" in lines[5]
    assert "mounts" in lines and any("/data" in line and "volume" in line for line in lines)


def test_text_escapes_untrusted_strings(tmp_path: Path) -> None:
    fake, stack = build(tmp_path)
    changes = compute_changes(fake.root, stack)
    text = "\n".join(
        [
            format_stack(stack, changes),
            format_changes(changes),
            format_provenance(provenance(fake.root, stack, "/x")),
            format_listing(list_merged(fake.root, stack, "/")),
        ]
    )
    for bad in ("\x1b", "\x07", "\u202e", "\udcff"):
        assert bad not in text
    assert "\\x1b[2J" in text  # visible instead
    assert "RUN echo \\x1b[2J" in text and "\\u202e" in text
    assert "name\\x1b[31m\\xff" in text
    # The history's newline must not start a new table row.
    assert not any(line.startswith("RUN fake") for line in text.splitlines())


def test_json_keeps_exact_strings(tmp_path: Path) -> None:
    fake, stack = build(tmp_path)
    data = json.loads(json.dumps(to_json(stack)))
    assert [layer["label"] for layer in data["layers"]] == [
        "upper",
        "init",
        "lower 3",
        "lower 2",
        "lower 1",
    ]
    lower2 = data["layers"][3]
    assert lower2["created_by"] == EVIL and lower2["instruction"].startswith("RUN echo \x1b[2J")
    assert lower2["chain_id"] == fake.chains[1] and lower2["size"] == 4
    assert data["container_id"] == fake.container_id and data["image_id"] == fake.image_id
    assert data["overlay"]["upperdir"].endswith("/diff")
    assert {m["target"]: m["kind"] for m in data["mounts"]}["/data"] == "volume"

    changes = json.loads(json.dumps(to_json(compute_changes(fake.root, stack))))
    paths = {c["path"]: (c["kind"], c["kind_code"]) for c in changes["changes"]}
    assert paths["/app/a"] == ("D", 2) and paths["/new"] == ("A", 1)
    assert paths["/app"] == ("C", 0)
    bad = next(p for p in paths if p.startswith("/name"))
    assert fsencode(bad) == b"/" + BAD_NAME  # round-trips to the exact bytes

    found = json.loads(json.dumps(to_json(provenance(fake.root, stack, "/app/a"))))
    assert found["exists"] is False and found["hits"][0]["state"] == "whiteout"
    listing = json.loads(json.dumps(to_json(list_merged(fake.root, stack, "/"))))
    assert b"/" + BAD_NAME in {b"/" + fsencode(e["name"]) for e in listing["entries"]}
