"""The ring's closed segments, out of memory in an unlinked temporary file: the same samples
back as when kept in memory, back-references intact across a spilled segment, the file's space
reused as segments go, memory kept (and counted) when the file cannot be had, and the file
never left on disk nor open after the ring."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import gc
import itertools
import os
import tempfile
from pathlib import Path

import pytest

from ctop_py.demo import raw_samples
from ctop_py.model import RawSample
from ctop_py.record import sample_json, samples_in
from ctop_py.ring import SampleRing, _unpacked, spill_home
from tests.test_ring import _idle_host

SAMPLES = raw_samples(200)


def _jsons(samples: tuple[RawSample, ...] | list[RawSample]) -> list[bytes]:
    return [sample_json(s) for s in samples]


def _filled(ring: SampleRing, samples: list[RawSample]) -> SampleRing:
    for sample in samples:
        ring.append(sample)
    return ring


def _fd_links() -> dict[int, str]:
    """This process's open fds and what each is (as the kernel names it)."""
    links = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the fd listdir itself used
            links[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    return links


def test_through_the_file_the_same_samples_as_in_memory(tmp_path: Path) -> None:
    given = list(SAMPLES)
    spilled = _filled(SampleRing(seconds=10**6, keyframe_every=15, spill_dir=str(tmp_path)), given)
    kept = _filled(SampleRing(seconds=10**6, keyframe_every=15, spill_dir=""), given)
    segments = list(spilled._segments)
    # Every closed segment is in the file, only the one filling is in memory.
    assert [s.spilled_at >= 0 for s in segments] == [True] * (len(segments) - 1) + [False]
    assert all(s.data == b"" for s in segments[:-1])
    assert spilled.spilled_bytes == sum(s.nbytes for s in segments[:-1]) > 0
    assert spilled.spill_failures == 0 and kept.spilled_bytes == 0
    assert all(s.spilled_at < 0 and s.data for s in list(kept._segments)[:-1])
    assert _jsons(spilled.samples()) == _jsons(kept.samples()) == _jsons(given)
    assert spilled.as_bytes() == kept.as_bytes()
    assert _jsons(samples_in(spilled.copy().as_bytes())) == _jsons(given)
    recording = tmp_path.parent / f"{tmp_path.name}.ctoprec"
    try:
        assert spilled.save(recording) == len(given)
        assert _jsons(samples_in(recording.read_bytes())) == _jsons(given)
    finally:
        recording.unlink(missing_ok=True)


def test_back_references_decode_across_a_spilled_segment(tmp_path: Path) -> None:
    """Idle containers are stored as references to the previous sample's groups: in a
    segment read back from the file they still decode to the very samples given."""
    containers = _idle_host(40)
    given = []
    for i, sample in enumerate(SAMPLES[:90]):
        mine = list(containers)
        if i % 4 == 0:
            mine[i % 40] = SAMPLES[i].containers[0]
        given.append(dataclasses.replace(sample, containers=tuple(mine)))
    ring = _filled(SampleRing(seconds=10**6, keyframe_every=30, spill_dir=str(tmp_path)), given)
    first = ring._segments[0]
    assert first.spilled_at >= 0
    references = [b for record in ring.records(first)[1:] for b in _unpacked(record)[2:] if not b]
    assert references  # some groups are "the same as the previous sample's"
    assert _jsons(ring.samples()) == _jsons(given)


def test_trimmed_segments_free_their_space_in_the_file(tmp_path: Path) -> None:
    ring = SampleRing(seconds=40, keyframe_every=7, spill_dir=str(tmp_path))
    spill_sizes = []
    for sample in SAMPLES:
        ring.append(sample)
        spill = ring._spill
        if spill is not None:
            size = os.fstat(spill.fd).st_size
            spill_sizes.append(size)
            # What is in the file is exactly the closed segments the ring still has, and the
            # file is never more than twice that.
            live = [s for s in ring._segments if s.spilled_at >= 0]
            assert ring.spilled_bytes == sum(s.nbytes for s in live)
            assert size <= 2 * ring.spilled_bytes
    assert len(ring) < len(SAMPLES)
    # Space given back as segments went: the file shrank (moved down and cut) along the way.
    assert any(later < earlier for earlier, later in itertools.pairwise(spill_sizes))
    assert _jsons(ring.samples()) == _jsons(SAMPLES[-len(ring) :])


@pytest.mark.parametrize("where", ["missing", "a-file"])
def test_a_directory_it_cannot_write_keeps_the_segments_in_memory(
    tmp_path: Path, where: str
) -> None:
    spill_dir = tmp_path / where
    if where == "a-file":
        spill_dir.write_text("not a directory")
    ring = _filled(SampleRing(seconds=10**6, keyframe_every=10, spill_dir=str(spill_dir)), SAMPLES)
    closed = len(ring._segments) - 1
    assert ring.spill_failures == closed > 0
    assert ring._spill is None and ring.spilled_bytes == 0
    assert all(s.spilled_at < 0 and s.data for s in list(ring._segments)[:-1])
    assert _jsons(ring.samples()) == _jsons(SAMPLES)


def test_a_failed_write_keeps_that_segment_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk (ENOSPC) on one segment's write: that one stays in memory, the next go to
    the file again, and every sample comes back."""
    ring = SampleRing(seconds=10**6, keyframe_every=10, spill_dir=str(tmp_path))
    pwrite = os.pwrite
    writes = [0]

    def full_once(fd: int, data: bytes, offset: int) -> int:
        writes[0] += 1
        if writes[0] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", full_once)
    _filled(ring, SAMPLES[:45])
    assert [s.spilled_at >= 0 for s in ring._segments] == [True, False, True, True, False]
    assert ring.spill_failures == 1
    assert _jsons(ring.samples()) == _jsons(SAMPLES[:45])


def test_a_failed_move_down_keeps_every_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's space given back (live segments moved to its start) fails halfway through
    a segment's write: that one and the ones after stay where they were; nothing is lost."""
    ring = SampleRing(seconds=40, keyframe_every=7, spill_dir=str(tmp_path))
    pwrite = os.pwrite
    moves = [0]

    def fails_on_a_move(fd: int, data: bytes, offset: int) -> int:
        spill = ring._spill
        if spill is not None and offset < spill.end:  # below the end: a move down
            moves[0] += 1
            if moves[0] == 2:
                pwrite(fd, bytes(data)[: len(data) // 2], offset)  # half, then the disk fails
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        return pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", fails_on_a_move)
    for i, sample in enumerate(SAMPLES):
        ring.append(sample)
        if ring.spill_failures:  # right after the failed move: every sample still there
            assert _jsons(ring.samples()) == _jsons(SAMPLES[i + 1 - len(ring) : i + 1])
            break
    assert moves[0] == 2 and ring.spill_failures == 1
    assert ring.spilled_bytes == sum(s.nbytes for s in ring._segments if s.spilled_at >= 0)
    for sample in SAMPLES[i + 1 :]:  # and it goes on
        ring.append(sample)
    assert _jsons(ring.samples()) == _jsons(SAMPLES[-len(ring) :])


def test_the_file_is_unlinked_cloexec_and_closed_with_the_ring(tmp_path: Path) -> None:
    before = _fd_links()
    ring = _filled(SampleRing(seconds=10**6, keyframe_every=10, spill_dir=str(tmp_path)), SAMPLES)
    spill = ring._spill
    assert spill is not None
    assert list(tmp_path.iterdir()) == []  # no name on disk, even while in use
    link = os.readlink(f"/proc/self/fd/{spill.fd}")
    assert link.startswith(str(tmp_path)) and link.endswith("(deleted)")
    assert fcntl.fcntl(spill.fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
    assert os.fstat(spill.fd).st_size == ring.spilled_bytes > 0
    copy = ring.copy()  # all in memory: outlives the file
    ring.clear()
    assert link not in _fd_links().values()
    assert _jsons(copy.samples()) == _jsons(SAMPLES)
    # Filled again, then dropped: the ring's file goes with it.
    _filled(ring, SAMPLES[:30])
    assert ring._spill is not None
    link = os.readlink(f"/proc/self/fd/{ring._spill.fd}")
    del ring, spill
    gc.collect()
    assert link not in _fd_links().values()
    assert set(_fd_links().values()) <= set(before.values()) | {"/proc/self/fd"}
    assert list(tmp_path.iterdir()) == []


def test_the_spill_file_goes_to_disk_unless_tmpdir_says_otherwise(tmp_path: Path) -> None:
    """$TMPDIR where set; else /var/tmp (on disk by convention), where it can be written;
    else Python's temporary directory."""
    var_tmp = tmp_path / "var-tmp"
    var_tmp.mkdir()
    assert spill_home({}, str(var_tmp)) == str(var_tmp)
    assert spill_home({"TMPDIR": "/somewhere"}, str(var_tmp)) == tempfile.gettempdir()
    assert spill_home({}, str(tmp_path / "none")) == tempfile.gettempdir()
    (tmp_path / "a-file").write_text("not a directory")
    assert spill_home({}, str(tmp_path / "a-file")) == tempfile.gettempdir()
    ring = _filled(SampleRing(seconds=10**6, keyframe_every=10), SAMPLES)
    assert ring.spill_dir == spill_home()
