"""``canonical_json`` writes exactly the bytes of the ``rfc8785`` reference for every value."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.request_codec import canonical_json

# every code point but lone surrogates (which no UTF-8 payload can carry): controls, U+007F,
# U+2028/2029, the BMP and the astral planes
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_ascii_controls = st.text(st.characters(max_codepoint=0x7F), max_size=8)
_keys = _text | _ascii_controls | st.sampled_from(["", "a", "é", "\ufb01", "\U0001f600", "\ue000"])
_ints = st.integers(-(2**53) + 1, 2**53 - 1) | st.sampled_from([0, -1, 2**53 - 1, -(2**53) + 1])
_leaves = st.none() | st.booleans() | _ints | _text | _ascii_controls
_values = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(_keys, inner, max_size=6)
    ),
    max_leaves=40,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return bytes(rfc8785.dumps(value))
    except Exception as exc:  # the reference refuses: so must we, with its error
        return type(exc)


def _ours(value: Any) -> bytes | type[Exception]:
    try:
        return canonical_json(value)
    except Exception as exc:
        return type(exc)


@settings(max_examples=3000, deadline=None)
@given(_values)
def test_same_bytes_as_rfc8785_for_plain_values(value: Any) -> None:
    """Nested dicts/lists of str (any plane, keys too), int, bool and None: identical bytes."""
    assert _ours(value) == _reference(value)


@settings(max_examples=500, deadline=None)
@given(
    st.recursive(
        _leaves | st.floats(allow_nan=False, allow_infinity=False),
        lambda i: st.lists(i, max_size=4) | st.dictionaries(_keys, i, max_size=4),
        max_leaves=20,
    )
)
def test_same_bytes_as_rfc8785_with_floats(value: Any) -> None:
    """Floats (which orjson formats differently) fall back to the reference."""
    assert _ours(value) == _reference(value)


@pytest.mark.parametrize(
    "value",
    [
        2**53,
        -(2**53),
        {"k": 2**53},
        [1.0],
        {"\U0001f600": 1, "\ue000": 2},
        {"\ud800": 1},
        "\udc00",
        {1: "non-string key"},
        float("nan"),
    ],
)
def test_edge_values_match_reference(value: Any) -> None:
    """Out-of-range ints, floats, astral keys, lone surrogates, odd keys: as the reference."""
    assert _ours(value) == _reference(value)


def test_control_characters_escaped_as_rfc8785() -> None:
    """Every C0 control, DEL, quote and backslash: the ECMAScript escapes RFC 8785 requires."""
    text = "".join(map(chr, range(0x80))) + "\u2028\u2029\ufeff"
    assert canonical_json({text: text}) == bytes(rfc8785.dumps({text: text}))
