"""``canonical_json`` writes exactly the bytes of the ``rfc8785`` reference for every value."""

from __future__ import annotations

import collections
import dataclasses
import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import canonical
from gateway import request_codec
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


class _Colour(enum.Enum):
    RED = "red"
    ONE = 1


class _Level(enum.IntEnum):
    HIGH = 3


class _Kind(enum.StrEnum):
    A = "a"


class _Str(str):
    pass


class _Int(int):
    pass


class _Dict(dict[str, Any]):
    pass


class _List(list[Any]):
    pass


_Pair = collections.namedtuple("_Pair", "x y")


@dataclasses.dataclass
class _Point:
    x: int


# Everything orjson writes differently from rfc8785, or writes where rfc8785 refuses, or refuses
# where rfc8785 writes: each must end with the reference's bytes or the reference's error.
_odd_leaves = (
    st.floats()  # incl. NaN and ±inf, which orjson writes as null
    | st.integers()  # unbounded: beyond ±(2**53 - 1) the reference refuses
    | st.sampled_from([_Colour.RED, _Colour.ONE, _Level.HIGH, _Kind.A, -0.0, 1e16, 1e21, 5e-324])
    | st.uuids()
    | st.builds(_Str, _text)
    | st.builds(_Int, st.integers(-(2**53) + 1, 2**53 - 1))
    | st.builds(_Pair, _ints, _text)
    | st.datetimes()
    | st.dates()
    | st.builds(_Point, _ints)
    | st.just(orjson.Fragment(b"1"))
    | st.text(st.characters(categories=("Cs",)), min_size=1, max_size=2)  # lone surrogates
)
_odd_keys = _keys | st.text(st.characters(min_codepoint=0x10000), min_size=1, max_size=3)


def _odd_dict(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    plain = st.dictionaries(_odd_keys, inner, max_size=4)
    return plain | plain.map(_Dict) | st.dictionaries(st.sampled_from([_Kind.A, _Str("k")]), inner)


_odd_values = st.recursive(
    _leaves | _odd_leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(_List)
        | st.tuples(inner, st.tuples(inner, inner))
        | _odd_dict(inner)
    ),
    max_leaves=20,
)


@settings(max_examples=2000, deadline=None)
@given(_odd_values)
def test_same_bytes_or_error_as_rfc8785_for_odd_values(value: Any) -> None:
    """Floats, NaN, huge ints, enums, UUIDs, subclasses, datetimes, dataclasses, fragments,
    astral keys and lone surrogates, nested anywhere: the reference's bytes or its error."""
    assert _ours(value) == _reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {"a": None, "b": float("nan")},  # NaN hides behind a null orjson also writes for None
        [None, float("inf"), -float("inf")],
        {"k": _Colour.RED},  # orjson writes a plain Enum's value; the reference refuses
        {"k": uuid.UUID(int=5)},
        [orjson.Fragment(b"[1]")],
        {"k": _Kind.A, "l": _Level.HIGH},
        {_Kind.A: 1},
        _Dict(a=1),
        {"a": _List([1, 2])},
        {"n": _Int(7), "s": _Str("x")},
        _Pair(1, "x"),
        ((1, (2, (3,))), [()]),
        {"t": datetime(2026, 1, 1, tzinfo=UTC), "d": date(2026, 1, 1)},
        _Point(1),
        [2**53 - 1, -(2**53) + 1],
        [2**53 - 1, 2**53],
        {"v": "\U0001f600", "w": "\ue000"},  # astral value (falls back), BMP private use
        {"\U0001f600": 1, "\uffff": 2, "\ue000": 3},  # astral key sorts by UTF-16 unit
        {"ok": "fine", "bad": "\udfff"},
        -0.0,
    ],
)
def test_odd_values_match_reference(value: Any) -> None:
    """Each case where orjson alone would differ from RFC 8785: the reference's bytes or error."""
    assert _ours(value) == _reference(value)


def test_one_implementation_for_gateway_and_audit() -> None:
    """The gateway re-exports the audit package's canonical JSON; there is no second copy."""
    assert request_codec.canonical_json is canonical.canonical_json


def test_fast_path_is_on() -> None:
    """This interpreter's gc.get_referents lists every item, so the orjson fast path is in use."""
    assert canonical._FAST
    assert canonical_json({"a": [1, "x"]}) == b'{"a":[1,"x"]}'
