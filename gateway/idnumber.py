"""Resident ID numbers (公民身份号码) as defined by GB 11643-1999 (DESIGN.md, contract 5).

An ID number has 18 characters::

    6 digits   address code: the GB/T 2260 region where the number was first issued
    8 digits   birth date, YYYYMMDD
    3 digits   sequence code; odd for men, even for women
    1 char     check character, ISO 7064 MOD 11-2 over the first 17 digits ("X" stands for 10)

The standard writes the check character 10 as an upper-case Roman ``X``. Forms, card readers and
people often produce a lower-case ``x``; it is unambiguous, so :func:`parse_id_number` accepts it
and normalises to ``X``. Everything downstream (duplicate detection, source queries, reports)
then sees one spelling per person. Surrounding whitespace or full-width digits are *not*
accepted: the edge must not guess.

Only the province prefix of the address code is checked against GB/T 2260, not the whole code:
an ID number keeps the code of its issuing county for life, including counties merged or renamed
since, and our code table stops at the revision we ship. Prefix 83 is accepted as well: since 2018
it prefixes the residence-permit numbers of Taiwan residents (港澳台居民居住证), which are
issued in the same format (81 and 82 serve Hong Kong and Macao residents).

Error messages never quote the whole number: they end up in responses and logs.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import operator
import re
from datetime import date

from gateway import regions

__all__ = [
    "Gender",
    "InvalidIdNumber",
    "ResidentId",
    "check_digit",
    "parse_id_number",
]

# ISO 7064 MOD 11-2: weight of position i (1-based, left to right) is 2**(18 - i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for (weighted sum mod 11) = 0, 1, …, 10.
_CHECK_CHARS = "10X98765432"
# The sum over ASCII codes instead of digit values is too large by 48 ("0") times each weight.
_ASCII_EXCESS = ord("0") * sum(_WEIGHTS)
_DIGITS = frozenset("0123456789")
# The shape _check_shape demands, as one test for the common case of a well-formed number.
_WELL_FORMED = re.compile(r"[0-9]{17}[0-9X]")
# Residence permits of Taiwan residents: a prefix outside GB/T 2260 (see the module docstring).
_PERMIT_PREFIXES = frozenset({"83"})


class InvalidIdNumber(ValueError):
    """A string is not a valid GB 11643-1999 resident ID number; the message says why."""


class Gender(enum.StrEnum):
    """Gender as encoded by the parity of the sequence code."""

    MALE = "M"
    FEMALE = "F"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResidentId:
    """A checked resident ID number, split into its parts."""

    region_code: str
    birth_date: date
    sequence: str
    check: str

    @property
    def gender(self) -> Gender:
        """Odd sequence codes are assigned to men, even ones to women."""
        return Gender.MALE if int(self.sequence) % 2 else Gender.FEMALE

    @property
    def number(self) -> str:
        """The normalised 18-character number (upper-case ``X``)."""
        return f"{self.region_code}{self.birth_date:%Y%m%d}{self.sequence}{self.check}"

    def __str__(self) -> str:
        return self.number


def check_digit(first17: str) -> str:
    """The check character for the first 17 digits of an ID number (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError(f"need exactly 17 digits, got {len(first17)} characters")
    return _check_char(first17)


def _check_char(number: str) -> str:
    """The check character over the first 17 characters of ``number``, known to be ASCII digits.

    Weighted sum of the ASCII codes, less the excess: one C-level pass instead of 17 ``int()``s.
    """
    total = sum(map(operator.mul, number[:17].encode("ascii"), _WEIGHTS)) - _ASCII_EXCESS
    return _CHECK_CHARS[total % 11]


def parse_id_number(text: str, *, today: date | None = None) -> ResidentId:
    """Check ``text`` as an ID number and split it; raise :class:`InvalidIdNumber` saying why.

    ``today`` (default: the local date) bounds the birth date; pass it to keep callers pure.
    """
    number = text[:17] + "X" if len(text) == 18 and text[17] == "x" else text
    if not _WELL_FORMED.fullmatch(number):
        _check_shape(number)  # raises, saying which character is wrong
    if number[:2] not in _known_prefixes():
        raise InvalidIdNumber(f"unknown province prefix {number[:2]}")
    birth = _birth_date(number[6:14])
    if birth > (today or date.today()):
        raise InvalidIdNumber(f"birth date {birth.isoformat()} is in the future")
    expected = _check_char(number)
    if number[17] != expected:
        raise InvalidIdNumber(f"wrong check digit: expected {expected}, found {number[17]}")
    return ResidentId(
        region_code=number[:6], birth_date=birth, sequence=number[14:17], check=expected
    )


def _check_shape(number: str) -> None:
    """18 characters: 17 ASCII digits, then a digit or X."""
    if len(number) != 18:
        raise InvalidIdNumber(f"must be 18 characters, found {len(number)}")
    for position, char in enumerate(number[:17], start=1):
        if char not in _DIGITS:
            raise InvalidIdNumber(f"character {position} must be a digit, found {char!r}")
    if number[17] not in _DIGITS and number[17] != "X":
        raise InvalidIdNumber(f"character 18 must be a digit or X, found {number[17]!r}")


@functools.cache
def _known_prefixes() -> frozenset[str]:
    """What the first two digits may be: a provincial-level division (GB/T 2260) or a permit.

    Public reference data, combined once (never ID numbers: those are not cached anywhere).
    """
    return regions.province_prefixes() | _PERMIT_PREFIXES


def _birth_date(digits: str) -> date:
    """YYYYMMDD (eight ASCII digits) as a calendar date.

    ``fromisoformat`` reads the basic form YYYYMMDD (Python 3.11+) and rejects exactly what
    ``date(int(…), int(…), int(…))`` rejects, at a quarter of the cost.
    """
    try:
        return date.fromisoformat(digits)
    except ValueError:
        raise InvalidIdNumber(f"birth date {digits} is not a valid date") from None
