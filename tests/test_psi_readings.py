"""PSI readings carried by the records of a container not open (model.CgroupStats.psi_read_ns,
psi_since_ns): derive's rates and diagnose's pressure from the readings' own times.

The oracle for diagnose is the same timeline recorded the way it was before readings were
carried (PSI only in the sample that read it): the same findings, the same sentences."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace

import pytest

from ctop_py.codec import decode, encode
from ctop_py.derive import derive
from ctop_py.diagnose import Finding, diagnose
from ctop_py.model import CgroupStats, RawSample
from tests.diagfixtures import CID, MiB, container, sample, stats

NS = 1_000_000_000


def timeline(
    total_at: Callable[[int], int],
    read_ticks: set[int],
    *,
    ticks: range = range(90, 111),
    open_ticks: frozenset[int] = frozenset(),
    high_at: Callable[[int], int] | None = None,
) -> tuple[list[RawSample], list[RawSample]]:
    """One container's samples (one a second) under a memory stall whose cumulative total
    (µs) at second t is total_at(t), read at `read_ticks` (and every tick while open), in the
    two forms: as recorded before (PSI only where read) and as the collector makes them now
    (the reading carried, kept while a read finds the same values)."""
    before, now = [], []
    reading: tuple[int, int, int | None] | None = None  # (total, read at, since) carried
    confirmed: int | None = None  # when the carried reading was last read
    for t in ticks:
        high = {"high": high_at(t)} if high_at else {}
        memory = stats(usage_ns=t, memory_high=64 * MiB, events=high)
        read = t in read_ticks or t in open_ticks or t == ticks[0]  # a collector's first tick
        total = total_at(t)
        psi = stats(psi={"memory": (total, total // 2)}).psi
        if read:
            if reading is None or reading[0] != total:
                reading = (total, t * NS, confirmed)
            confirmed = t * NS
        before.append(sample(t, container(replace(memory, psi=psi if read else {}))))
        if t in open_ticks:
            cg = replace(memory, psi=psi)
        else:
            assert reading is not None
            kept = stats(psi={"memory": (reading[0], reading[0] // 2)}).psi
            cg = replace(memory, psi=kept, psi_read_ns=reading[1], psi_since_ns=reading[2])
        now.append(sample(t, container(cg)))
    return before, now


def findings(samples: list[RawSample], since: int = 100) -> list[Finding]:
    """Diagnose the window from second `since` to the end."""
    return diagnose([s for s in samples if s.monotonic_ns >= since * NS])[CID]


READS = {t for t in range(80, 111) if t % 5 == 2}  # every 5 s: ..., 97, 102, 107


STALLS: dict[str, Callable[[int], int]] = {
    "stalls 30 % all along": lambda t: int(0.3 * t * 1e6),
    "stalls from second 103 on": lambda t: int(0.6 * max(0, t - 103) * 1e6),
    "stalled before the window only": lambda t: int(0.5 * min(t, 95) * 1e6),
    "kept since long before, then stalls": lambda t: 7 if t < 104 else 7 + 2_000_000,
}


@pytest.mark.parametrize("high", [False, True])
@pytest.mark.parametrize("name", list(STALLS))
def test_same_findings_as_readings_in_their_own_samples(name: str, high: bool) -> None:
    before, now = timeline(STALLS[name], READS, high_at=(lambda t: 40 * t) if high else None)
    expected = findings(before)
    assert findings(now) == expected
    stalled = name != "stalled before the window only"
    if high:  # memory.high's finding, with the pressure figure (and no memory-pressure)
        (f,) = expected
        assert f.kind == "memory-high" and f.evidence["memory_pressure_percent"] is not None
        assert (f.evidence["memory_pressure_percent"] > 0) == stalled
    else:
        assert ("memory-pressure" in {f.kind for f in expected}) == stalled


def test_a_reading_kept_from_long_before_the_window_does_not_dilute() -> None:
    """The reading at the window's start was made 600 s before it and kept (the same values
    every 5 s since): the stall of the next reading is over the 5 s since the kept one was
    last read, not over 605 s."""
    before, now = timeline(
        lambda t: 0 if t < 104 else int(0.3 * 5e6), READS, ticks=range(-500, 111)
    )
    assert now[-1].containers[0].cgroup is not None
    first = next(s for s in now if s.monotonic_ns == 100 * NS).containers[0].cgroup
    assert first is not None and first.psi_read_ns == -500 * NS  # kept since -500 s
    (f,) = findings(now)
    assert f.sentence.startswith("memory pressure 30 %") and f.sentence.endswith(" over 5 s")
    assert f.evidence["window_s"] == 5.0
    assert findings(before) == [f]


def test_a_reading_carried_through_the_window_is_no_stall() -> None:
    """Read before the window and found the same in it: 0 % (memory-high says so)."""
    before, now = timeline(lambda t: 123, READS, high_at=lambda t: 40 * t)
    (f,) = findings(now)
    assert f.kind == "memory-high" and f.evidence["memory_pressure_percent"] == 0.0
    assert "memory pressure 0 %" in f.sentence
    assert findings(before) == [f]


def test_opened_then_closed_in_the_window() -> None:
    """Open for seconds 100-104 (PSI every tick), closed after: the readings of the open
    ticks count once each, the carried one after them adds nothing."""
    opened = frozenset(range(100, 105))
    for total_at in (lambda t: int(0.4 * t * 1e6), lambda t: 5 if t < 106 else 5 + 10**6):
        before, now = timeline(total_at, READS, open_ticks=opened)
        assert findings(now) == findings(before)
        assert findings(now)[0].kind == "memory-pressure"


def test_a_new_reading_in_the_windows_last_tick_and_one_reading() -> None:
    """One reading in the window and nothing else known: no rate (as before), not 0 %
    (memory.high's finding tells the pressure figure: the window's first record carries the
    reading of 97, its last a new one, of 102, whose reading before it was before the window)."""
    before, now = timeline(lambda t: int(0.3 * t * 1e6), READS)
    assert findings(now[:13]) == findings(before[:13]) == []  # 100..102: one read, at 102
    before, now = timeline(lambda t: int(0.3 * t * 1e6), READS, high_at=lambda t: 40 * t)
    (f,) = findings(now[:13])
    assert f.kind == "memory-high" and f.evidence["memory_pressure_percent"] is None
    assert findings(before[:13]) == [f]


# ---- derive ------------------------------------------------------------------------------


def pair(prev: CgroupStats, cur: CgroupStats, seconds: float = 1.0) -> Mapping[str, float | None]:
    snap = derive(sample(100, container(prev)), sample(100 + seconds, container(cur)))
    rates = snap.containers[0].psi["memory"]
    return {"some": rates.some_percent, "full": rates.full_percent}


def carried(total: int, read_s: float, since_s: float | None) -> CgroupStats:
    return replace(
        stats(psi={"memory": (total, total // 2)}),
        psi_read_ns=int(read_s * NS),
        psi_since_ns=None if since_s is None else int(since_s * NS),
    )


def test_derive_a_carried_reading_is_no_rate_not_zero() -> None:
    a = carried(1000, 96, 91)
    assert pair(a, a) == {"some": None, "full": None}
    assert pair(a, replace(a, memory=replace(a.memory, current_bytes=2 * MiB))) == {
        "some": None,
        "full": None,
    }


def test_derive_a_new_reading_over_its_own_interval() -> None:
    """Read at 101 with 1.5 s more stall than the reading last seen at 96: 30 % (not 150 %
    over the 1 s between the samples, nor diluted over the time the one before was kept)."""
    kept = carried(1000, 10, 5)
    new = carried(1000 + 1_500_000, 101, 96)
    assert pair(kept, new) == {"some": pytest.approx(30.0), "full": pytest.approx(15.0)}
    # The previous record's reading is not the one just before: unknown.
    assert pair(carried(1000, 98, 93), new) == {"some": None, "full": None}


def test_derive_opening_and_closing_and_full_samples() -> None:
    full_a = stats(psi={"memory": (1000, 500)})
    full_b = stats(psi={"memory": (201_000, 100_500)})
    assert pair(full_a, full_b) == {"some": pytest.approx(20.0), "full": pytest.approx(10.0)}
    # opened: the carried reading's last read is unknown: "–" for one tick
    assert pair(carried(1000, 50, 45), full_b) == {"some": None, "full": None}
    # closed: the open tick's reading, carried
    assert pair(full_b, carried(201_000, 99, 98)) == {"some": None, "full": None}


def test_a_recording_made_before_decodes_as_readings_of_their_own_samples() -> None:
    """A recording written before readings were carried has no psi_read_ns / psi_since_ns:
    its PSI decodes as read in its own sample (None), as it was."""
    recorded = sample(5, container(stats(psi={"memory": (5_000, 2_000)})))
    data = json.loads(json.dumps(encode(recorded)))
    cgroup = data["containers"][0]["cgroup"]
    assert cgroup.pop("psi_read_ns") is None and cgroup.pop("psi_since_ns") is None
    assert decode(RawSample, data) == recorded
    carried_sample = sample(5, container(carried(5_000, 3, 1)))
    assert decode(RawSample, json.loads(json.dumps(encode(carried_sample)))) == carried_sample
