"""Administrative division codes (行政区划代码, GB/T 2260) and tier jurisdictions (DESIGN.md §5).

A code has three pairs of digits: province, prefecture, county. ``610000`` is 陕西省, ``610100``
西安市, ``610102`` 新城区. A pair of ``00`` means "the whole of the level above", so a tier's
jurisdiction is its code with the trailing ``00`` pairs removed, taken as a prefix: the provincial
tier ``610000`` covers every ``61xxxx``; the national tier is written ``000000`` and covers all.

The table (``gateway/data/regions.tsv``, provenance in ``gateway/data/README.md``) holds every code
of every published revision from 1980 to 2019-04, with the revisions it first and last appeared in.
Retired codes stay known: ID numbers and old records keep them for life. It is read once, lazily.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

__all__ = [
    "Region",
    "is_region_code",
    "jurisdiction_contains",
    "jurisdiction_prefix",
    "lookup",
    "province_of",
    "province_prefixes",
    "qualified_name",
    "region_name",
]

_DIGITS = frozenset("0123456789")
# Beside this module, not importlib.resources.files("gateway"): a ``tests/gateway`` directory on
# sys.path can make ``gateway`` resolve as a namespace package whose first path is the tests'.
_DATA_FILE = Path(__file__).with_name("data") / "regions.tsv"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """One code of the table, with its latest name and the revisions (YYYYMM) it appeared in."""

    code: str
    name: str
    first_revision: str
    last_revision: str

    @property
    def current(self) -> bool:
        """Whether the code is in the latest revision we ship (not merged or renamed away)."""
        return self.last_revision == _latest_revision()


def is_region_code(code: str) -> bool:
    """Whether ``code`` is six digits and a known GB/T 2260 code (current or retired)."""
    return code in _table()


def lookup(code: str) -> Region:
    """The table entry for ``code``; ``KeyError`` if the code is unknown."""
    try:
        return _table()[code]
    except KeyError:
        raise KeyError(f"unknown region code {code!r}") from None


def region_name(code: str) -> str:
    """The name of ``code`` at its latest revision, e.g. ``新城区`` for ``610102``."""
    return lookup(code).name


def qualified_name(code: str) -> str:
    """Province, prefecture and county names joined, e.g. ``陕西省西安市新城区``."""
    parts = [code[:2] + "0000", code[:4] + "00", code]
    names = [_table()[part].name for part in dict.fromkeys(parts) if part in _table()]
    return "".join(name for name in names if name not in _PLACEHOLDER_NAMES)


def province_of(code: str) -> str:
    """The code of the provincial-level division containing ``code``, e.g. ``610000``."""
    _require_six_digits(code)
    province = code[:2] + "0000"
    if province not in _table():
        raise ValueError(f"unknown province prefix {code[:2]} in region code {code}")
    return province


def province_prefixes() -> frozenset[str]:
    """The two-digit prefixes of all provincial-level divisions (34 of them)."""
    return _province_prefixes()


def jurisdiction_contains(tier_code: str, code: str) -> bool:
    """Whether the tier whose code is ``tier_code`` has ``code`` in its jurisdiction.

    Pure prefix logic: neither code needs to be in the table (a tier may serve a county created
    after our table was made). A malformed ``tier_code`` is a configuration error and raises
    ``ValueError``; a malformed ``code`` is simply not contained.
    """
    _require_six_digits(tier_code)
    if len(code) != 6 or not set(code) <= _DIGITS:
        return False
    return code.startswith(jurisdiction_prefix(tier_code))


def jurisdiction_prefix(tier_code: str) -> str:
    """``610000`` → ``61``, ``610100`` → ``6101``, ``610102`` → ``610102``, ``000000`` → ``""``."""
    prefix = tier_code
    while prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def _require_six_digits(code: str) -> None:
    if len(code) != 6 or not set(code) <= _DIGITS:
        raise ValueError(f"a region code is six digits, got {code!r}")


# Names GB/T 2260 gives to grouping rows rather than places (市辖区, 县 and 省直辖… entries).
_PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@functools.cache
def _table() -> dict[str, Region]:
    """Parse ``data/regions.tsv`` (comment lines start with ``#``; one header row)."""
    text = _DATA_FILE.read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    header, *records = rows
    if header != ["code", "name", "first", "last"]:
        raise RuntimeError(f"regions.tsv: unexpected header {header}")
    return {
        code: Region(code=code, name=name, first_revision=first, last_revision=last)
        for code, name, first, last in records
    }


@functools.cache
def _latest_revision() -> str:
    return max(region.last_revision for region in _table().values())


@functools.cache
def _province_prefixes() -> frozenset[str]:
    return frozenset(code[:2] for code in _table() if code.endswith("0000"))
