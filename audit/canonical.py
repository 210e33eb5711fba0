"""Canonical JSON (RFC 8785): the one byte form of anything hashed or signed, fast for plain data.

``rfc8785`` is the reference; it is pure Python. For plain data (exact ``str``, ``int``,
``bool``, ``None``, ``list``, ``tuple`` and ``dict``), orjson with sorted keys writes the same
bytes for a fraction of the CPU, provided three things hold, each checked cheaply here:

* Every integer lies within ±(2**53 - 1) (§3.2.2.3): ``OPT_STRICT_INTEGER`` makes orjson refuse
  the rest, exactly the range ``rfc8785`` accepts.
* Every value has one of the exact types above (one walk over the containers): orjson writes
  floats in its own format and NaN as ``null``, serialises ``Enum`` members, ``UUID``s and its
  ``Fragment`` where ``rfc8785`` refuses them, and no orjson option refuses those.
  Subclasses of ``str``/``int``/``dict``/``list``, dataclasses and datetimes are refused by
  orjson itself (the ``PASSTHROUGH`` options with no ``default``), as are keys that are not exact
  ``str`` and lone surrogates.
* No character lies outside the Basic Multilingual Plane (no 4-byte UTF-8 sequence in the
  output): RFC 8785 sorts keys by UTF-16 code unit (§3.2.3), which orders such keys differently
  from orjson's code-point order. Within the BMP the two orders agree, and strings are escaped as
  ECMAScript ``JSON.stringify`` does (§3.2.2.2) by both.

Anything else goes to ``rfc8785``, which writes the bytes or raises its own error.
``tests/gateway/test_canonical_json.py`` checks the two agree byte for byte (hypothesis).
"""

from __future__ import annotations

import gc
from typing import Any

import rfc8785

try:
    import orjson
except ImportError:  # an auditor's install without orjson: rfc8785 alone, the same bytes
    orjson = None  # type: ignore[assignment]

__all__ = ["canonical_json"]

_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    if orjson is not None
    else 0
)
_JSON_TYPES = frozenset({str, int, bool, type(None), list, tuple, dict})
_ASTRAL_LEADS = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")  # UTF-8 lead bytes of U+10000…


def canonical_json(data: Any) -> bytes:
    """RFC 8785 canonical JSON of ``data``: orjson's bytes when they are provably the same."""
    if not _FAST:
        return bytes(rfc8785.dumps(data))
    try:
        out = orjson.dumps(data, option=_OPTIONS)
    except orjson.JSONEncodeError:  # unsupported type, huge int, lone surrogate, deep nesting
        return bytes(rfc8785.dumps(data))
    if _plain(data) and not _astral(out):
        return out
    return bytes(rfc8785.dumps(data))


def _plain(data: Any) -> bool:
    """Whether every value in ``data`` has one of the exact types orjson writes as RFC 8785 does.

    Level by level: ``gc.get_referents`` lists every item of the level's lists and tuples and
    every value of its dicts in one C call, so Python runs once per level, not once per value
    (half the CPU of a Python walk on a report). Scalars have no referents. Called only after
    orjson succeeded, so the structure is finite and at most 255 levels deep. Dict keys need no
    look: orjson refused any that is not an exact ``str``."""
    level = [data]
    while level:
        if not _JSON_TYPES.issuperset(map(type, level)):
            return False
        level = gc.get_referents(*level)
    return True


def _astral(out: bytes) -> bool:
    """Whether the UTF-8 ``out`` holds a character outside the BMP (``in`` is a memchr)."""
    return not out.isascii() and any(lead in out for lead in _ASTRAL_LEADS)


def _referents_are_items() -> bool:
    """Whether ``gc.get_referents`` gives exactly the items of a list and tuple and the values of
    a dict, scalars included, as CPython's ``tp_traverse`` does. The documentation promises only
    what may form a cycle, so :func:`_plain` relies on it only after this check."""
    values = [1.5, "s", 7, None, True, [], {}, ()]
    probes = (values, tuple(values), {str(i): v for i, v in enumerate(values)})
    expected = sorted(map(id, values))
    return all(sorted(map(id, gc.get_referents(p))) == expected for p in probes)


# else rfc8785 for everything; tests/gateway/test_canonical_json.py checks the fast path is on
_FAST = orjson is not None and _referents_are_items()
