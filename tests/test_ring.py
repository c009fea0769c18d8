"""The live app's ring of recent samples: bounded in time and bytes, decodable, savable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctop_py.demo import raw_samples
from ctop_py.model import ContainerRaw
from ctop_py.record import (
    RecordingError,
    encode_record,
    read_recording,
    sample_json,
    samples_in,
)
from ctop_py.ring import MAX_BYTES, WINDOW_S, SampleRing

SAMPLES = raw_samples(400)


def test_keeps_the_window_and_decodes_to_the_same_samples() -> None:
    ring = SampleRing(seconds=120, keyframe_every=30)
    for s in SAMPLES:
        ring.append(s)
    kept = ring.samples()
    assert len(kept) == len(ring)
    # At least the window, at most the window plus one segment.
    assert 120 <= kept[-1].time - kept[0].time < 120 + 30
    assert [sample_json(s) for s in kept] == [sample_json(s) for s in SAMPLES[-len(kept) :]]


def test_bounded_in_bytes() -> None:
    keyframe = len(encode_record(sample_json(SAMPLES[-1]), b""))
    bound = 20 * keyframe
    ring = SampleRing(seconds=10**6, max_bytes=bound, keyframe_every=10)
    for s in SAMPLES:
        ring.append(s)
        # The bound, plus at most the segment being filled past it.
        assert ring.nbytes <= bound + 2 * keyframe
    assert len(ring) < len(SAMPLES)
    assert len(ring.samples()) == len(ring)
    assert [sample_json(s) for s in ring.samples()] == [
        sample_json(s) for s in SAMPLES[-len(ring) :]
    ]


def test_defaults_are_what_the_readme_says() -> None:
    assert WINDOW_S == 15 * 60
    assert MAX_BYTES == 8 << 20
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "last 15 minutes" in readme and "at most 8 MiB" in readme


def test_save_is_a_recording(tmp_path: Path) -> None:
    ring = SampleRing(seconds=60, keyframe_every=20)
    for s in SAMPLES[:100]:
        ring.append(s)
    path = tmp_path / "flight.ctoprec"
    assert ring.save(path) == len(ring)
    recording = read_recording(path)
    assert not recording.truncated
    assert [sample_json(s) for s in recording.samples] == [sample_json(s) for s in ring.samples()]
    with pytest.raises(RecordingError, match="exists"):
        ring.save(path)


def test_encoder_reuses_unchanged_parts_and_writes_what_sample_json_writes() -> None:
    """The ring encodes only what changed since the previous sample (parts kept by identity,
    labels by value); its bytes must be exactly the recorder's, whatever was reused."""
    import dataclasses

    from ctop_py.ring import SampleEncoder

    encoder = SampleEncoder()
    first, second = SAMPLES[10], SAMPLES[11]
    # The second sample with the first one's cgroup objects and copied (equal, not identical)
    # labels: what an idle container looks like tick to tick.
    kept = dataclasses.replace(
        second,
        containers=tuple(
            dataclasses.replace(c, cgroup=f.cgroup, labels=dict(f.labels))
            for c, f in zip(second.containers, first.containers, strict=True)
        ),
    )
    relabelled = dataclasses.replace(
        kept,
        containers=tuple(
            dataclasses.replace(c, labels={**c.labels, "new": "label \u00e9\x00"})
            for c in kept.containers
        ),
    )
    for sample in (first, first, kept, relabelled, second, *SAMPLES[12:40]):
        assert encoder.encode(sample) == sample_json(sample)
    assert any(c.cgroup is not None for c in first.containers)
    assert any(c.labels for c in first.containers)


def test_containers_coming_going_and_moving_decode_to_the_same_samples() -> None:
    """Each sample is compressed against the previous one's containers, found by position or
    by id: whatever came, went or moved between two samples (at the end, in the middle, all
    of them, none left), the ring gives back exactly the samples it was given."""
    import dataclasses
    import random

    rng = random.Random(16)
    many = raw_samples(60)
    pool = [c for s in many[:3] for c in s.containers]
    given = []
    for i, sample in enumerate(many):
        base = list(sample.containers) * 3  # more than one group of them
        shape = i % 8
        if shape == 1:
            base = base[:-2]  # gone from the end
        elif shape == 2:
            base = [*base, rng.choice(pool)]  # new at the end
        elif shape == 3:
            base.insert(len(base) // 2, rng.choice(pool))  # new in the middle
        elif shape == 4:
            rng.shuffle(base)
        elif shape == 5:
            base = []
        elif shape == 6:
            base = base[: rng.randrange(1, len(base))]
        given.append(dataclasses.replace(sample, containers=tuple(base)))
    for keyframe_every in (1, 3, 60):
        ring = SampleRing(seconds=10**6, keyframe_every=keyframe_every)
        for sample in given:
            ring.append(sample)
        assert [sample_json(s) for s in ring.samples()] == [sample_json(s) for s in given]
        recording = samples_in(ring.as_bytes())  # what `W` writes
        assert [sample_json(s) for s in recording] == [sample_json(s) for s in given]


def _idle_host(count: int) -> list[ContainerRaw]:
    """`count` distinct containers (ids rewritten from the demo's), each one record object."""
    import dataclasses

    base = [c for s in SAMPLES[:5] for c in s.containers]
    return [
        dataclasses.replace(base[i % len(base)], id=f"{i:05d}-{base[i % len(base)].id}")
        for i in range(count)
    ]


def _stored(ring: SampleRing) -> tuple[int, list[bytes]]:
    """The last record's containers as stored: the mask of those stored (bit i: the i-th
    container's JSON is in a group; the others are the previous sample's) and the groups."""
    from ctop_py.ring import _unpacked

    blobs = _unpacked(ring._segments[-1].records[-1])
    return int.from_bytes(blobs[2], "little"), blobs[3:]


def test_unchanged_containers_are_not_stored_and_decode_to_the_same_samples() -> None:
    """Idle containers (the very same records tick to tick, or equal ones) are neither encoded
    nor compressed again: a sample stores only the containers whose JSON changed, grouped and
    each compressed against its own previous JSON; every sample still decodes to
    sample_json, and saves as the recording of the same samples."""
    import dataclasses
    import zlib

    containers = _idle_host(60)
    first = dataclasses.replace(SAMPLES[20], containers=tuple(containers))
    ring = SampleRing(seconds=10**6, keyframe_every=60)
    given = [first]
    ring.append(first)
    idle = dataclasses.replace(first, time=first.time + 1, monotonic_ns=first.monotonic_ns + 1)
    given.append(idle)
    ring.append(idle)
    assert _stored(ring) == (0, [])  # nothing changed: nothing stored
    # One container changes (a new record): it alone is stored, against its previous JSON.
    changed = list(containers)
    at = 37
    assert ring._chain.containers is not None
    old_json = ring._chain.containers[at]  # the JSON handed to the compressor last time
    changed[at] = dataclasses.replace(changed[at], state="paused", pids=(4242,))
    moved = dataclasses.replace(idle, time=idle.time + 1, containers=tuple(changed))
    given.append(moved)
    ring.append(moved)
    mask, groups = _stored(ring)
    assert mask == 1 << at and len(groups) == 1
    inflate = zlib.decompressobj(-15, old_json)
    new_json = inflate.decompress(groups[0]) + inflate.flush()
    assert b'"state":"paused"' in new_json and b'"pids":[4242]' in new_json
    assert new_json.startswith(old_json[:80]) and new_json in sample_json(moved)
    # Equal JSON from new (equal, not identical) records is not stored either.
    copies = tuple(dataclasses.replace(c) for c in changed)
    again = dataclasses.replace(moved, time=moved.time + 1, containers=copies)
    given.append(again)
    ring.append(again)
    assert _stored(ring) == (0, [])
    # Every container changes: all stored, in as many groups as their bytes make.
    busy = dataclasses.replace(
        again,
        time=again.time + 1,
        containers=tuple(dataclasses.replace(c, pids=(*c.pids, 1)) for c in copies),
    )
    given.append(busy)
    ring.append(busy)
    mask, groups = _stored(ring)
    assert mask == (1 << 60) - 1 and len(groups) >= 3
    assert [sample_json(s) for s in ring.samples()] == [sample_json(s) for s in given]
    assert [sample_json(s) for s in samples_in(ring.as_bytes())] == [sample_json(s) for s in given]


def test_idle_containers_coming_and_going_decode_to_the_same_samples() -> None:
    """Containers that came, went or moved among idle ones: the groups they shifted are
    compressed against the old positions (or stored as references where nothing moved)."""
    import dataclasses
    import random

    rng = random.Random(16)
    pool = _idle_host(60)
    present = pool[:40]
    given = []
    for i in range(80):
        shape = i % 6
        if shape == 1 and len(present) > 3:
            present.pop(rng.randrange(len(present)))  # gone
        elif shape == 2:
            present.insert(rng.randrange(len(present) + 1), rng.choice(pool))  # new
        elif shape == 3 and len(present) > 2:
            present.pop()  # gone from the end
        elif shape == 4:
            present.append(rng.choice(pool))  # new at the end
        sample = SAMPLES[i]
        given.append(dataclasses.replace(sample, containers=tuple(present)))
    for keyframe_every in (1, 7, 60):
        ring = SampleRing(seconds=10**6, keyframe_every=keyframe_every)
        for sample in given:
            ring.append(sample)
        assert [sample_json(s) for s in ring.samples()] == [sample_json(s) for s in given]


def test_trims_never_cut_a_reference_from_what_it_refers_to() -> None:
    """References point at the previous sample of the same segment only, and segments go
    whole: trimmed by time or by bytes, mostly-idle samples still decode and save exactly."""
    import dataclasses

    containers = _idle_host(40)
    given = []
    for i, sample in enumerate(SAMPLES[:300]):
        mine = list(containers)
        if i % 5 == 0:  # now and then one container moves
            mine[i % 40] = SAMPLES[i].containers[0]
        given.append(dataclasses.replace(sample, containers=tuple(mine)))
    by_time = SampleRing(seconds=50, keyframe_every=7)
    keyframe = len(encode_record(sample_json(given[0]), b""))
    by_bytes = SampleRing(seconds=10**6, max_bytes=3 * keyframe, keyframe_every=7)
    for sample in given:
        by_time.append(sample)
        by_bytes.append(sample)
    for ring in (by_time, by_bytes):
        assert 0 < len(ring) < len(given)
        want = [sample_json(s) for s in given[-len(ring) :]]
        assert [sample_json(s) for s in ring.samples()] == want
        assert [sample_json(s) for s in samples_in(ring.copy().as_bytes())] == want


def test_a_new_record_of_an_idle_containers_parts_reuses_their_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A container idle for a while (its record reused whole) then given a new record made of
    the same parts (as the collector does around a limits read): those parts' JSON is kept
    with the record's, so only what is new is encoded; the bytes stay sample_json's."""
    import dataclasses

    from ctop_py import ring
    from ctop_py.ring import SampleEncoder

    containers = [
        dataclasses.replace(c, labels={"com.example.app": c.name}) for c in _idle_host(12)
    ]
    sample = SAMPLES[30]
    idle = [dataclasses.replace(sample, containers=tuple(containers))]
    idle.append(dataclasses.replace(idle[0], time=sample.time + 1))
    renewed = dataclasses.replace(
        sample,
        time=sample.time + 2,
        # Labels are built anew each tick from the Engine's list: equal, not the same.
        containers=tuple(
            dataclasses.replace(c, state="paused", labels=dict(c.labels)) for c in containers
        ),
    )
    encode = ring._json  # what writes a part's JSON (calls itself for what it holds)
    calls: list[object] = []

    def counting(value: object) -> str:
        calls.append(value)
        return encode(value)

    monkeypatch.setattr(ring, "_json", counting)
    fresh = SampleEncoder()
    assert fresh.encode(renewed) == sample_json(renewed)
    needed = len(calls)
    assert needed > 0  # its parts are encoded when not kept
    encoder = SampleEncoder()
    for s in idle:
        assert encoder.encode(s) == sample_json(s)
    want = sample_json(renewed)
    calls.clear()
    assert encoder.encode(renewed) == want
    assert calls == [renewed.time]  # the containers' parts were all kept, only time is new


def test_the_ring_writes_every_kind_of_value_as_json_dumps_does() -> None:
    """The ring writes a part's JSON itself (no json.dumps of a `_plain` copy); whatever the
    value, the text must be json.dumps's of the recorder's plain form: floats that are not
    finite or need every digit, bools (not ints), enums, non-str keys, nested records."""
    import json
    import math

    from ctop_py.codec import _plain
    from ctop_py.model import Lifecycle, MemoryCounters, Psi, PsiLine, Sharing
    from ctop_py.ring import _json

    values: list[object] = [
        0.1, -0.0, 1e300, 5e-324, math.nan, math.inf, -math.inf, 2**70, -3, True, False, None,
        "é\x00\n\"\\\u2028", Sharing.HOST, (1, "a", 2.5, None), [True, {"k": 1}],
        {"s": 1, "t": "x", "u": 2.5, "v": None, "w": False}, {1: "int key", False: "bool"},
        {None: 1, 2.5: 2}, {"nested": {"deeper": [1, 2]}}, {"enum": Sharing.JOINED}, {},
        MemoryCounters(1, None, 3, None, {"anon": 4}, {"oom_kill": 0}),
        {"cpu": Psi(PsiLine(0.1, math.nan, 0.0, 12), None)},
        Lifecycle(restart_count=2, oom_killed=True, started_at=1.5),
    ]  # fmt: skip
    for value in values:
        want = json.dumps(_plain(value), separators=(",", ":"), check_circular=False)
        assert _json(value) == want, value


def test_a_closed_segment_is_its_records_end_to_end_and_copies_stay_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A segment, once the next one starts, keeps its records as one bytes object: the very
    records the chain packed, in order; a copy taken while a segment filled still decodes
    what the ring held then, after that segment is closed."""
    from ctop_py.ring import _Chain

    packed: list[bytes] = []
    pack = _Chain.pack

    def recording_pack(chain: _Chain, rest: bytes, containers: list[bytes]) -> bytes:
        packed.append(pack(chain, rest, containers))
        return packed[-1]

    monkeypatch.setattr(_Chain, "pack", recording_pack)
    ring = SampleRing(seconds=10**6, keyframe_every=10)
    for sample in SAMPLES[:25]:
        ring.append(sample)
    early = ring.copy()  # 5 records in the segment being filled
    for sample in SAMPLES[25:40]:
        ring.append(sample)
    segments = list(ring._segments)
    assert [len(s) for s in segments] == [10, 10, 10, 10]
    spill = ring._spill
    assert spill is not None
    for i, segment in enumerate(segments[:-1]):
        assert segment.pending == [] and segment.data == b""  # in the spill file, end to end
        written = os.pread(spill.fd, segment.nbytes, segment.spilled_at)
        assert written == b"".join(packed[10 * i : 10 * i + 10])
        assert ring.records(segment) == packed[10 * i : 10 * i + 10]
    assert [r for s in segments for r in ring.records(s)] == packed
    assert [sample_json(s) for s in early.samples()] == [sample_json(s) for s in SAMPLES[:25]]
    assert [sample_json(s) for s in ring.samples()] == [sample_json(s) for s in SAMPLES[:40]]
    assert [sample_json(s) for s in samples_in(ring.as_bytes())] == [
        sample_json(s) for s in SAMPLES[:40]
    ]


def test_the_saved_ring_is_byte_for_byte_the_recording_of_the_same_samples() -> None:
    """What `W` writes from the ring (which stores only the containers that changed) is byte
    for byte the recording file the same samples make without the ring: each sample's
    `sample_json`, compressed against the previous one's, at the save level. On a host of
    idle containers where a few change, come or go each tick, as on a live one."""
    import dataclasses
    import random

    from ctop_py.record import MAGIC
    from ctop_py.ring import SAVE_LEVEL

    rng = random.Random(4)
    pool = _idle_host(50)
    present = list(pool[:40])
    given = []
    for i in range(150):
        for _ in range(rng.randrange(4)):  # a few containers have a new record
            at = rng.randrange(len(present))
            present[at] = dataclasses.replace(present[at], pids=(i, *present[at].pids))
        if i % 17 == 5:
            present.pop(rng.randrange(len(present)))
        if i % 23 == 7:
            present.insert(rng.randrange(len(present) + 1), rng.choice(pool))
        given.append(dataclasses.replace(SAMPLES[i], containers=tuple(present)))
    ring = SampleRing(seconds=10**6, keyframe_every=40)
    for sample in given:
        ring.append(sample)
    want = [MAGIC]
    previous = b""
    for sample in given:
        data = sample_json(sample)
        want.append(encode_record(data, previous, SAVE_LEVEL))
        previous = data
    assert ring.as_bytes() == b"".join(want)
