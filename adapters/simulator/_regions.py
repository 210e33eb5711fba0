"""Regions and identity numbers for the synthetic population.

* Region codes are real GB/T 2260 county-level codes, taken from Faker's zh_CN ID-number provider
  (province- and prefecture-level codes, ending in ``00``, are left out; so are 71/81/82, which
  issue no mainland resident ID numbers).
* Resident ID numbers follow GB 11643-1999: six-digit region code, birth date ``YYYYMMDD``, a
  three-digit sequence whose last digit is odd for men and even for women, and a check character
  computed with ISO 7064 MOD 11-2. Faker's own ``ssn()`` counts ages from today's date, which would
  make the population change from day to day, so numbers are assembled here from a seeded RNG.
* Addresses are built from the region (Faker's zh_CN addresses do not match any region code).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from faker.providers.ssn.zh_CN import Provider as _SsnProvider

__all__ = [
    "PROVINCES",
    "REGION_CODES",
    "address_for",
    "birth_date_for",
    "id_check_char",
    "is_valid_id_number",
    "make_id_number",
    "plate_prefix",
]

#: Two-digit province prefix -> (name, one-character abbreviation used on number plates).
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "京"),
    "12": ("天津市", "津"),
    "13": ("河北省", "冀"),
    "14": ("山西省", "晋"),
    "15": ("内蒙古自治区", "蒙"),
    "21": ("辽宁省", "辽"),
    "22": ("吉林省", "吉"),
    "23": ("黑龙江省", "黑"),
    "31": ("上海市", "沪"),
    "32": ("江苏省", "苏"),
    "33": ("浙江省", "浙"),
    "34": ("安徽省", "皖"),
    "35": ("福建省", "闽"),
    "36": ("江西省", "赣"),
    "37": ("山东省", "鲁"),
    "41": ("河南省", "豫"),
    "42": ("湖北省", "鄂"),
    "43": ("湖南省", "湘"),
    "44": ("广东省", "粤"),
    "45": ("广西壮族自治区", "桂"),
    "46": ("海南省", "琼"),
    "50": ("重庆市", "渝"),
    "51": ("四川省", "川"),
    "52": ("贵州省", "贵"),
    "53": ("云南省", "云"),
    "54": ("西藏自治区", "藏"),
    "61": ("陕西省", "陕"),
    "62": ("甘肃省", "甘"),
    "63": ("青海省", "青"),
    "64": ("宁夏回族自治区", "宁"),
    "65": ("新疆维吾尔自治区", "新"),
}

#: County-level GB/T 2260 codes of the mainland provinces, in Faker's (stable) order.
REGION_CODES: tuple[str, ...] = tuple(
    code for code in _SsnProvider.area_codes if code[:2] in PROVINCES and not code.endswith("00")
)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643 §7.2
_CHECK = "10X98765432"  # check character for sum % 11 == 0, 1, 2, ...

_STREET_WORDS = ("建设", "人民", "解放", "胜利", "和平", "幸福", "光明", "文化", "新华", "东风")
_STREET_KINDS = ("路", "街", "大道", "巷")


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid_id_number(id_number: str) -> bool:
    """True when ``id_number`` has 17 digits, a correct check character and a real birth date."""
    if len(id_number) != 18 or not id_number[:17].isdigit():
        return False
    try:
        date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return False
    return id_check_char(id_number[:17]) == id_number[17]


def make_id_number(rng: random.Random, region_code: str, birth_date: date, gender: str) -> str:
    """A GB 11643 number for a person born in ``region_code`` on ``birth_date`` (gender M/F)."""
    order = rng.randrange(0, 50) * 10 + rng.randrange(0, 5) * 2 + (1 if gender == "M" else 0)
    first17 = f"{region_code}{birth_date:%Y%m%d}{order:03d}"
    return first17 + id_check_char(first17)


def birth_date_for(rng: random.Random, age: int, reference: date) -> date:
    """A birth date at which a person is ``age`` full years old on ``reference``."""
    return reference - timedelta(days=age * 365 + rng.randrange(0, 360))


def plate_prefix(region_code: str) -> str:
    """The province character of number plates issued in ``region_code``."""
    return PROVINCES[region_code[:2]][1]


def address_for(rng: random.Random, region_code: str) -> str:
    """A plausible street address inside ``region_code``'s province, naming the county code."""
    province = PROVINCES[region_code[:2]][0]
    street = rng.choice(_STREET_WORDS) + rng.choice(_STREET_KINDS)
    building, unit, room = rng.randrange(1, 40), rng.randrange(1, 6), rng.randrange(101, 1800)
    number = rng.randrange(1, 300)
    return f"{province}（{region_code}）{street}{number}号{building}栋{unit}单元{room}室"
