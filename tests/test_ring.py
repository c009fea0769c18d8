"""The live app's ring of recent samples: bounded in time and bytes, decodable, savable."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctop_py.demo import raw_samples
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
