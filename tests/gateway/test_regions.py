"""Administrative division codes (GB/T 2260): the shipped table, names and tier jurisdictions."""

from __future__ import annotations

import pytest
from faker.providers.ssn.zh_CN import Provider as FakerSsn

from gateway import regions

# The 34 provincial-level divisions, written down independently of the data file.
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip


def test_provinces_match_the_standard() -> None:
    """The table has exactly the 34 provincial-level divisions, under their official names."""
    assert regions.province_prefixes() == frozenset(PROVINCES)
    for prefix, name in PROVINCES.items():
        assert regions.region_name(prefix + "0000") == name


def test_faker_area_codes_are_known() -> None:
    """Every area code Faker's ID-number generator uses is in the table (83: permits only)."""
    unknown = {code for code in FakerSsn.area_codes if not regions.is_region_code(code)}
    assert unknown == {"830000"}


@pytest.mark.parametrize(
    ("code", "known"),
    [
        ("610102", True),  # 西安市新城区
        ("110228", True),  # 密云县: retired in 2015 (now 110118), still on ID numbers
        ("110118", True),
        ("999999", False),
        ("61010", False),
        ("6101020", False),
        ("", False),
        ("6101O2", False),
    ],
)
def test_is_region_code(code: str, known: bool) -> None:
    """Known six-digit codes, current or retired, are region codes; nothing else is."""
    assert regions.is_region_code(code) is known


def test_retired_codes_are_not_current() -> None:
    """A code merged away keeps its name but is not current."""
    old = regions.lookup("110228")
    assert (old.name, old.current) == ("密云县", False)
    assert regions.lookup("610102").current


def test_names() -> None:
    """region_name gives the latest name; qualified_name joins the levels, skipping groupings."""
    assert regions.region_name("610102") == "新城区"
    assert regions.qualified_name("610102") == "陕西省西安市新城区"
    assert regions.qualified_name("110101") == "北京市东城区"
    assert regions.qualified_name("610000") == "陕西省"


def test_unknown_name_raises_key_error() -> None:
    """Looking up an unknown code raises KeyError naming it."""
    with pytest.raises(KeyError, match="999999"):
        regions.region_name("999999")


def test_province_of() -> None:
    """province_of gives the provincial-level code; bad input raises ValueError."""
    assert regions.province_of("610102") == "610000"
    assert regions.province_of("810000") == "810000"
    with pytest.raises(ValueError, match="unknown province prefix 99"):
        regions.province_of("990101")
    with pytest.raises(ValueError, match="six digits"):
        regions.province_of("6101")


@pytest.mark.parametrize(
    ("tier", "code", "contained"),
    [
        ("610000", "610102", True),
        ("610000", "619999", True),  # prefix logic: unknown counties inside are still inside
        ("610000", "620102", False),
        ("610100", "610102", True),
        ("610100", "610202", False),
        ("610102", "610102", True),
        ("610102", "610103", False),
        ("000000", "810000", True),  # the national tier
        ("610000", "61010", False),
        ("610000", "61010x", False),
        ("610000", "", False),
    ],
)
def test_jurisdiction_contains(tier: str, code: str, contained: bool) -> None:
    """A tier covers the codes that start with its code less the trailing 00 pairs."""
    assert regions.jurisdiction_contains(tier, code) is contained


def test_malformed_tier_code_raises() -> None:
    """A tier code that is not six digits is a configuration error."""
    with pytest.raises(ValueError, match="six digits"):
        regions.jurisdiction_contains("61", "610102")


def test_table_is_loaded_once() -> None:
    """The table is parsed once and then shared."""
    assert regions.is_region_code("610102")
    assert regions._table() is regions._table()
    assert regions._table.cache_info().currsize == 1
