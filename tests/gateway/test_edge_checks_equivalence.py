"""ID-number parsing and the control-character check answer exactly as their plain versions did.

``parse_id_number`` now tests the shape with one regular expression, sums the check digit over
ASCII codes and reads the birth date with ``date.fromisoformat``; ``_has_control`` skips printable
text. The ``_reference_*`` functions are the replaced code, kept as the specification.
"""

from __future__ import annotations

import sys
import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import regions
from gateway.idnumber import InvalidIdNumber, ResidentId, check_digit, parse_id_number
from gateway.validation import _CONTROL_CATEGORIES, _has_control

TODAY = date(2025, 6, 1)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_DIGITS = frozenset("0123456789")


def _reference_check_digit(first17: str) -> str:
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError(f"need exactly 17 digits, got {len(first17)} characters")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _reference_parse(text: str, today: date) -> ResidentId:
    number = text[:17] + "X" if len(text) == 18 and text[17] == "x" else text
    if len(number) != 18:
        raise InvalidIdNumber(f"must be 18 characters, found {len(number)}")
    for position, char in enumerate(number[:17], start=1):
        if char not in _DIGITS:
            raise InvalidIdNumber(f"character {position} must be a digit, found {char!r}")
    if number[17] not in _DIGITS and number[17] != "X":
        raise InvalidIdNumber(f"character 18 must be a digit or X, found {number[17]!r}")
    if number[:2] not in regions.province_prefixes() and number[:2] != "83":
        raise InvalidIdNumber(f"unknown province prefix {number[:2]}")
    digits = number[6:14]
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidIdNumber(f"birth date {digits} is not a valid date") from None
    if birth > today:
        raise InvalidIdNumber(f"birth date {birth.isoformat()} is in the future")
    expected = _reference_check_digit(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber(f"wrong check digit: expected {expected}, found {number[17]}")
    return ResidentId(
        region_code=number[:6], birth_date=birth, sequence=number[14:17], check=expected
    )


def _outcome(parse: object, text: str) -> object:
    try:
        return parse(text, TODAY)  # type: ignore[operator]
    except InvalidIdNumber as exc:
        return str(exc)


def _fast(text: str, today: date) -> ResidentId:
    return parse_id_number(text, today=today)


_provinces = st.sampled_from(sorted(regions.province_prefixes() | {"83", "99", "00"}))
_near_numbers = st.builds(
    lambda p, county, year, month, day, seq, check: (
        f"{p}{county}{year:04d}{month:02d}{day:02d}{seq}{check}"
    ),
    _provinces,
    st.text(alphabet="0123456789", min_size=4, max_size=4),
    st.integers(min_value=0, max_value=9999),
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=99),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
    st.sampled_from("0123456789Xx"),
)
_odd_texts = st.text(alphabet="0123456789Xx６٣a \n", min_size=0, max_size=20)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(_near_numbers, _odd_texts))
def test_parse_id_number_is_unchanged(text: str) -> None:
    """Same ResidentId, or the same InvalidIdNumber message, for any text."""
    assert _outcome(_fast, text) == _outcome(_reference_parse, text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_is_unchanged(first17: str) -> None:
    """ISO 7064 MOD 11-2 over any 17 digits, as the digit-by-digit sum gives it."""
    assert check_digit(first17) == _reference_check_digit(first17)


@pytest.mark.parametrize("bad", ["1101051949123100２", "1101051949123100", "11010519491231002X"])
def test_check_digit_still_refuses_non_digits(bad: str) -> None:
    """Full-width or other Unicode digits are not digits here, nor is a check character."""
    with pytest.raises(ValueError, match="need exactly 17 digits"):
        check_digit(bad)


def test_printable_text_has_no_control_character() -> None:
    """Every character of a control category is unprintable to Python, so the shortcut holds."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        control = unicodedata.category(char) in _CONTROL_CATEGORIES
        assert _has_control(char) is control, hex(code)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_has_control_matches_the_category_walk(text: str) -> None:
    """Any text: the shortcut agrees with looking at every character's category."""
    expected = any(unicodedata.category(c) in _CONTROL_CATEGORIES for c in text)
    assert _has_control(text) is expected
