"""Frozen dataclasses to plain JSON-able values and back, driven by their type hints.

The one encoder of ctop-py: the recorder stores RawSamples with it (cumulative counters, so
replay re-derives every rate exactly as it was seen live), and every `--json` goes through it
with per-type overrides (`ctop_py.export.json`). Enums are stored as their values, records
with a text form (`to_text`/`from_text`) as that text.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


Encode = Callable[[Any], Any]
# A per-type override: the value, and the encoder to use for what it holds.
Override = Callable[[Any, Encode], Any]


def encode(value: Any, overrides: Mapping[type, Override] | None = None) -> Any:
    """`value` as JSON-able data: a dataclass as a dict of its fields (in order), a mapping
    with str keys, a tuple or list as a list, an enum as its value. `overrides` (by exact
    type) replace that for the types they name, at any depth."""
    if value is None or isinstance(value, str | int | float):
        return value
    if not overrides:
        return _plain(value)
    return _overridden(overrides)(value)


def _overridden(overrides: Mapping[type, Override]) -> Encode:
    """encode() with `overrides`, as one function that is also the encoder the overrides are
    given for what they hold; each dataclass's field names looked up once per class (a
    snapshot's `--json` is 30,000 values)."""

    def enc(value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS or isinstance(value, str | int | float):
            return value
        override = overrides.get(kind)
        if override is not None:
            return override(value, enc)
        if isinstance(value, enum.Enum):
            return value.value
        names = _names(kind)
        if names is _TEXT:  # a record with a text form is stored as that text
            return value.to_text()
        if names is not None:
            return {name: enc(getattr(value, name)) for name in names}
        if isinstance(value, Mapping):
            return {str(k): enc(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [enc(v) for v in value]
        return value

    return enc


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...] | None] = {}
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_TEXT: tuple[str, ...] = ("<to_text>",)  # marks a class stored as its text form


def _names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names (_TEXT for one with a text form), None for another type."""
    names = _FIELDS.get(kind, ())
    if names == ():
        names = (
            tuple(f.name for f in dataclasses.fields(kind))
            if dataclasses.is_dataclass(kind) and not issubclass(kind, enum.Enum)
            else None
        )
        if names is not None and hasattr(kind, "to_text"):
            names = _TEXT
        _FIELDS[kind] = names
    return names


def _plain(value: Any) -> Any:
    """encode() without overrides, the recorder's hot path (every sample, every container):
    scalars first, each dataclass's field names looked up once per class. Same result."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _names(kind)
    if names is _TEXT:  # a record with a text form is stored as that text
        return value.to_text()
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def fields_of(
    value: Any, enc: Encode, omit: Sequence[str] = (), rename: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A dataclass's fields, encoded with `enc`: the building block of an override."""
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(value))
    if rename:
        return {rename.get(n, n): enc(getattr(value, n)) for n in names if n not in omit}
    if omit:
        return {n: enc(getattr(value, n)) for n in names if n not in omit}
    return {n: enc(getattr(value, n)) for n in names}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[T], data: Any) -> T:
    result: T = _decode(cls, data)
    return result


def _decode(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) == 1:
            return _decode(options[0], data)
        for option in options:  # int | float and the like: keep the stored type
            if isinstance(option, type) and isinstance(data, option):
                return data
        return data
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in data)
        return tuple(_decode(a, v) for a, v in zip(args, data, strict=True))
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        args = typing.get_args(tp)
        value_type = args[1] if args else Any
        return {k: _decode(value_type, v) for k, v in data.items()}
    if isinstance(data, str) and hasattr(tp, "from_text"):
        return tp.from_text(data)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = _hints(tp)
        kwargs = {
            f.name: _decode(hints[f.name], data[f.name])
            for f in dataclasses.fields(tp)
            if f.name in data
        }
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if tp is float and isinstance(data, int):
        return float(data)
    return data
