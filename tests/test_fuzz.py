"""Every parser of /proc, cgroup, mountinfo and runtime metadata, fuzzed: it returns a value or
raises a typed error naming the file, never another exception."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctop_py import cgroupfs, mounts, net, procfs, stacks
from ctop_py.host import HostError, HostRoot, Malformed
from ctop_py.layers import docker_meta
from ctop_py.record import RecordingError, read_recording
from ctop_py.runtimes import claim
from ctop_py.runtimes.docker import DockerDiskMeta

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that look like the real files: digits, keys, separators, and some garbage.
TOKENS = st.sampled_from(
    [b"0", b"1", b"42", b"-1", b"max", b"9223372036854771712", b" ", b"  ", b"\t", b"\n",
     b":", b"::", b"=", b"(", b")", b"some", b"full", b"avg10=", b"total=", b"rbytes=",
     b"Read", b"Write", b"Total", b"8:0", b"cpu", b"Uid:", b"NSpid:", b"btime", b"MemTotal:",
     b"kB", b"/docker/", b"\xff", b"\x00", b"lo:", b"eth0:", b"-", b"overlay", b"lowerdir=",
     b"upperdir=", b",", b"\\040", b"\\", b"nr_periods", b"usage_usec", b"inactive_file"]
)  # fmt: skip
PROCLIKE = st.one_of(st.binary(max_size=300), st.lists(TOKENS, max_size=60).map(b"".join))

BYTE_PARSERS: list[tuple[str, Callable[[bytes], Any]]] = [
    ("stat", lambda d: procfs.parse_stat(d, "/proc/1/stat")),
    ("status", lambda d: procfs.parse_status(d, "/proc/1/status")),
    ("cgroup", lambda d: procfs.parse_cgroup(d, "/proc/1/cgroup")),
    ("cmdline", procfs.parse_cmdline),
    ("net/dev", lambda d: procfs.parse_net_dev(d, "/proc/1/net/dev")),
    ("proc stat", procfs.parse_proc_stat_cpu),
    ("btime", procfs.parse_btime),
    ("meminfo", procfs.parse_meminfo_total),
    ("flat keyed", lambda d: cgroupfs.parse_flat_keyed(d, "cpu.stat")),
    ("int or max", lambda d: cgroupfs.parse_int_or_max(d, "pids.max")),
    ("cpu.max", lambda d: cgroupfs.parse_cpu_max(d, "cpu.max")),
    ("psi", lambda d: cgroupfs.parse_psi(d, "cpu.pressure")),
    ("io.stat", lambda d: cgroupfs.parse_io_stat(d, "io.stat")),
    ("blkio", lambda d: cgroupfs.parse_blkio_bytes(d, "blkio")),
    ("mountinfo", lambda d: mounts.parse_mountinfo(d, "/proc/1/mountinfo")),
    ("net dev (links)", lambda d: net.parse_net_dev(d, "/proc/1/net/dev")),
]


@pytest.mark.parametrize(("name", "parse"), BYTE_PARSERS, ids=[n for n, _ in BYTE_PARSERS])
@FUZZ
@given(data=PROCLIKE)
def test_byte_parsers_return_or_raise_typed(
    name: str, parse: Callable[[bytes], Any], data: bytes
) -> None:
    try:
        parse(data)
    except Malformed as exc:
        assert exc.path  # names the file
    except HostError:
        pass


@FUZZ
@given(text=st.text(max_size=200))
def test_ns_link_and_overlay_options(text: str) -> None:
    with contextlib.suppress(Malformed):
        procfs.parse_ns_link(text)
    with contextlib.suppress(Malformed):
        mounts.parse_overlay_options(tuple(text.split(",")))


@FUZZ
@given(path=st.text(alphabet=st.sampled_from("/abc-_.:0123456789defx\\"), max_size=120))
def test_claim_never_raises(path: str) -> None:
    claim(path)
    claim("/docker/" + "a" * 64 + path)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "rootfs",
                    "diff_ids",
                    "history",
                    "created_by",
                    "empty_layer",
                    "Config",
                    "State",
                    "Name",
                    "Image",
                    "Labels",
                    "Running",
                    "Pid",
                    "frames",
                    "threads",
                    "name",
                    "filename",
                    "line",
                    "thread_id",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@FUZZ
@given(doc=JSONISH)
def test_image_config_and_pyspy_json(doc: Any) -> None:
    docker_meta.parse_image_config("sha256:" + "0" * 64, doc)
    with contextlib.suppress(stacks.StackError):
        stacks.parse_dump_json(json.dumps(doc))


@FUZZ
@given(text=st.text(max_size=300))
def test_collapsed_stacks(text: str) -> None:
    with contextlib.suppress(stacks.StackError):
        stacks.parse_collapsed(text)


@settings(max_examples=100, deadline=None)
@given(doc=JSONISH, raw=st.binary(max_size=100))
def test_docker_config_on_disk(
    tmp_path_factory: pytest.TempPathFactory, doc: Any, raw: bytes
) -> None:
    root = tmp_path_factory.mktemp("dockerroot")
    cid = "a" * 64
    directory = root / "var/lib/docker/containers" / cid
    directory.mkdir(parents=True)
    (directory / "config.v2.json").write_text(json.dumps(doc))
    DockerDiskMeta(HostRoot.at(root)).get(cid)
    (directory / "config.v2.json").write_bytes(raw)
    DockerDiskMeta(HostRoot.at(root)).get(cid)


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200))
def test_recordings(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    path: Path = tmp_path_factory.mktemp("rec") / "f"
    for data in (raw, b"CTOPREC2\n" + raw):
        path.write_bytes(data)
        with contextlib.suppress(RecordingError):
            read_recording(path)
