"""present.safe returns a printable ASCII string within its limit as it is, without looking
at it character by character: for every ASCII character (alone, inside a name, at the end),
strings at, under and over the limit, and non-ASCII ones, its result equals the
character-by-character escape of a copy of the same string."""

from __future__ import annotations

import pytest

from ctop_py.present import _escaped, safe

NAMES = [
    "",
    "web-1",
    "registry.example.com/team/app:1.2.3",
    "x" * 28,
    "x" * 29,
    "trailing space ",
    "naïve",
    "日本語",
    "a\u202eb",  # a bidi override
    "a\udc9fb",  # a surrogate-escaped byte
]
CASES = [
    *NAMES,
    *(f"name{chr(c)}" for c in range(128)),
    *(chr(c) for c in range(128)),
    *(f"{chr(c)}tail" for c in range(128)),
]


@pytest.mark.parametrize("limit", [None, 0, 5, 28])
def test_safe_equals_the_character_by_character_escape(limit: int | None) -> None:
    fast_hits = 0
    for text in CASES:
        copy = "".join(list(text))  # another object: an identity shortcut cannot pass
        assert safe(text, limit) == _escaped(copy, limit), (text, limit)
        fast_hits += safe(text, limit) is text
    assert fast_hits > 0  # the shortcut is taken somewhere


def test_what_the_shortcut_must_not_pass() -> None:
    assert safe("a\x1b[31mb") == "a\\x1b[31mb"
    assert safe("a\x7fb") == "a\\x7fb"
    assert safe("abcdef", 3) == "abc…"
    assert safe("tab\there") == "tab\\there"
