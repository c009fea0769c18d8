"""What every `--json` prints is the standard library's `json.dumps(data, indent=2)` to the
byte, though ctop_py/export/indented.py writes it: compared on generated data (every JSON
type, non-ASCII and control characters, NaN and the infinities, tuples, non-str keys,
subclasses) and on the snapshots of the recording of real containers that ships with
ctop-py, and the errors of what json cannot write are json's."""

from __future__ import annotations

import enum
import importlib.resources
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctop_py.export.indented import dumps_indented
from ctop_py.export.json import snapshot_to_dict
from ctop_py.record import read_recording
from ctop_py.sources import snapshot_at


class Level(enum.IntEnum):
    LOW = 1


class Kind(enum.StrEnum):
    A = "a\u00e9"


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from([Level.LOW, Kind.A, -0.0, math.inf, -math.inf, "\x00\x1f\u2028\ud800"])
)
keys = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(keys, inner, max_size=6)
    ),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_the_text_of_json_dumps_indent_2(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2)


def test_real_snapshots_print_as_json_dumps_would() -> None:
    path = importlib.resources.files("ctop_py").joinpath("data", "demo.rec")
    with importlib.resources.as_file(path) as file:
        samples = read_recording(str(file)).samples
    assert len(samples) > 2
    for at in (samples[1].time, samples[len(samples) // 2].time, None):
        data = snapshot_to_dict(snapshot_at(samples, at))
        assert data["containers"]
        assert dumps_indented(data) == json.dumps(data, indent=2)


@pytest.mark.parametrize(
    "value",
    [object(), {"a": [1, {2}]}, {(1, 2): "tuple key"}, [b"bytes"]],
    ids=["object", "set-inside", "tuple-key", "bytes"],
)
def test_what_json_refuses_raises_its_error(value: Any) -> None:
    with pytest.raises(TypeError) as expected:
        json.dumps(value, indent=2)
    with pytest.raises(TypeError) as got:
        dumps_indented(value)
    assert str(got.value) == str(expected.value)
