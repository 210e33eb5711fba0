"""Resident ID numbers: GB 11643-1999 structure and the ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

from datetime import date

import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from gateway import regions
from gateway.idnumber import Gender, InvalidIdNumber, ResidentId, check_digit, parse_id_number

TODAY = date(2025, 6, 1)


def _prefix17(province: str, birth: date, rest: str) -> str:
    """Province (2) + 4 more address digits + YYYYMMDD + 3-digit sequence."""
    return f"{province}{rest[:4]}{birth:%Y%m%d}{rest[4:]}"


provinces = st.sampled_from(sorted(regions.province_prefixes()))
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
rests = st.text(alphabet="0123456789", min_size=7, max_size=7)


def test_standard_examples() -> None:
    """The two examples printed in GB 11643-1999 check out, including the X."""
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052418800101001") == "4"
    assert parse_id_number("11010519491231002X", today=TODAY).number == "11010519491231002X"


def test_parts() -> None:
    """A number splits into region, birth date, sequence, check and gender."""
    parsed = parse_id_number("610102198001011237", today=TODAY)
    assert parsed == ResidentId(
        region_code="610102", birth_date=date(1980, 1, 1), sequence="123", check="7"
    )
    assert parsed.gender is Gender.MALE
    assert str(parsed) == "610102198001011237"


def test_even_sequence_is_female() -> None:
    """An even sequence code is a woman's."""
    assert parse_id_number("610102198203042242", today=TODAY).gender is Gender.FEMALE


def test_lower_case_x_is_normalised() -> None:
    """A lower-case x check character is accepted and stored as the standard upper-case X."""
    assert parse_id_number("11010519491231002x", today=TODAY).number == "11010519491231002X"


def test_default_today_is_the_local_date() -> None:
    """Without ``today`` the local date bounds the birth date."""
    assert parse_id_number("610102198001011237").birth_date == date(1980, 1, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("61010219800101123", "must be 18 characters, found 17"),
        ("6101021980010112377", "must be 18 characters, found 19"),
        ("", "must be 18 characters, found 0"),
        ("61010A198001011237", "character 6 must be a digit, found 'A'"),
        ("６10102198001011237", "character 1 must be a digit"),
        ("61010219800101123Y", "character 18 must be a digit or X, found 'Y'"),
        (" 10102198001011237", "character 1 must be a digit, found ' '"),
        ("990102198001011237", "unknown province prefix 99"),
        ("610102198002301237", "birth date 19800230 is not a valid date"),
        ("610102000001011237", "birth date 00000101 is not a valid date"),
        ("610102202601011237", "birth date 2026-01-01 is in the future"),
        ("610102198001011235", "wrong check digit: expected 7, found 5"),
        ("11010519491231002" + "1", "wrong check digit: expected X, found 1"),
        ("610102198001011238", "wrong check digit: expected 7, found 8"),
    ],
)
def test_invalid_numbers_say_why(text: str, message: str) -> None:
    """Each kind of defect raises InvalidIdNumber (a ValueError) with a precise message."""
    with pytest.raises(ValueError, match="^" + message) as info:
        parse_id_number(text, today=TODAY)
    assert isinstance(info.value, InvalidIdNumber)


def test_messages_never_quote_the_number() -> None:
    """An error message does not contain the whole number it rejects."""
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number("610102198001011235", today=TODAY)
    assert "610102198001011235" not in str(info.value)


def test_taiwan_residence_permit_prefix() -> None:
    """Prefix 83 (Taiwan residents' residence permits) is accepted; other non-provinces are not."""
    first17 = "83000019900101001"
    assert parse_id_number(first17 + check_digit(first17), today=TODAY).region_code == "830000"
    with pytest.raises(InvalidIdNumber, match="prefix 84"):
        parse_id_number("84" + first17[2:] + check_digit("84" + first17[2:]), today=TODAY)


@pytest.mark.parametrize("bad", ["1234567890123456", "123456789012345678", "1234567890123456X"])
def test_check_digit_needs_17_digits(bad: str) -> None:
    """check_digit refuses anything but exactly 17 digits."""
    with pytest.raises(ValueError, match="17 digits"):
        check_digit(bad)


@given(provinces, births, rests)
def test_any_prefix_with_its_check_digit_parses(province: str, birth: date, rest: str) -> None:
    """Every 17-digit prefix with a known province and a real date, plus its check, parses."""
    first17 = _prefix17(province, birth, rest)
    parsed = parse_id_number(first17 + check_digit(first17), today=TODAY)
    assert parsed.birth_date == birth
    assert parsed.number[:17] == first17


@given(provinces, births, rests, st.integers(0, 17), st.integers(1, 9))
def test_single_digit_change_breaks_the_check(
    province: str, birth: date, rest: str, position: int, delta: int
) -> None:
    """Changing any one digit (the check included) makes the number invalid (MOD 11-2)."""
    first17 = _prefix17(province, birth, rest)
    number = first17 + check_digit(first17)
    old = number[position]
    new = str((int(old) + delta) % 10) if old != "X" else str(delta)
    mutated = number[:position] + new + number[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(mutated, today=TODAY)
    if position < 17:
        assert check_digit(mutated[:17]) != number[17]


def test_faker_numbers_parse() -> None:
    """Every number Faker's zh_CN ssn() makes is valid, with the gender Faker was asked for."""
    fake = Faker("zh_CN")
    fake.seed_instance(11643)
    for _ in range(300):
        assert parse_id_number(fake.ssn()).region_code[:2] in {*regions.province_prefixes(), "83"}
    for gender in ("F", "M"):
        assert parse_id_number(fake.ssn(gender=gender)).gender == gender  # type: ignore[call-arg]
