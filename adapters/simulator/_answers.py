"""The answer documents of the seven departments, one entry builder per department.

Each builder turns one subject's records (already of the department's kind and visible on the
as-of date) into that department's per-subject JSON entry; the shapes are listed in
:mod:`adapters.simulator.departments`. Codes are the national standards the departments use
(GB/T 4761 relations, GB/T 2261.1 gender, GA 24.4 vehicle classes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.records import (
    BankAccount,
    DeathRecord,
    HousingFundAccount,
    InsuranceRecord,
    PropertyRecord,
    RegistrationRecord,
    VehicleRecord,
)

__all__ = ["bank", "fund", "funeral", "hukou", "hundredths", "property_", "si", "vehicle"]

Json = dict[str, Any]

_RELATION = {
    "self": "02",
    "spouse": "10",
    "parent:M": "51",
    "parent:F": "52",
    "child:M": "20",
    "child:F": "30",
}
_HUKOU_STATUS = {"active": "0", "deceased": "1", "moved_out": "2"}
_SCHEME = {
    "employee_pension": "110",
    "resident_pension": "170",
    "unemployment": "210",
    "medical": "310",
}
_SI_STATUS = {"active": "1", "suspended": "2", "ended": "3"}
_VEHICLE_CLASS = {"car": "K33", "motorcycle": "M21", "tricycle": "M11", "truck": "H31"}
_VEHICLE_STATE = {"registered": "A", "transferred": "B", "scrapped": "E"}
_USAGE = {"residential": "住宅", "commercial": "商业", "other": "其他"}
_FUND_STATUS = {"active": "01", "sealed": "02", "closed": "03"}
_PRODUCT = {"demand": "活期", "time": "定期", "wealth_management": "理财"}


def hundredths(n: int) -> str:
    """An integer count of hundredths as a decimal string: ``123456`` fen → ``"1234.56"`` yuan."""
    sign = "-" if n < 0 else ""
    return f"{sign}{abs(n) // 100}.{abs(n) % 100:02d}"


def hukou(id_number: str, records: Sequence[RegistrationRecord]) -> Json:
    if not records:
        return {"id_number": id_number, "found": False}
    r = records[0]
    relation = _RELATION.get(r.relation_to_head) or _RELATION[f"{r.relation_to_head}:{r.gender}"]
    person = {
        "rkbh": r.record_id,
        "xm": r.name,
        "xbdm": "1" if r.gender == "M" else "2",
        "csrq": r.birth_date.isoformat(),
        "hh": r.household_number,
        "yhzgx": relation,
        "ssxq": r.region_code,
        "hkzt": _HUKOU_STATUS[r.status],
    }
    return {"id_number": id_number, "found": True, "person": person}


def si(id_number: str, records: Sequence[InsuranceRecord]) -> Json:
    items = [
        {
            "itemNo": r.record_id,
            "insuranceType": _SCHEME[r.scheme],
            "payKind": "JF" if r.role == "contribution" else "DY",
            "monthlyAmount": r.monthly_amount_fen / 100,
            "unitName": r.employer,
            "startDate": r.since.isoformat(),
            "status": _SI_STATUS[r.status],
        }
        for r in records
    ]
    return {"idCard": id_number, "insured": bool(items), "items": items}


def vehicle(id_number: str, records: Sequence[VehicleRecord]) -> Json:
    vehicles = [
        {
            "vin": r.record_id,
            "plateNo": r.plate,
            "vehicleClass": _VEHICLE_CLASS[r.vehicle_type],
            "brandModel": r.brand,
            "firstRegDate": r.registered_on.isoformat(),
            "invoicePriceFen": r.purchase_price_fen,
            "state": _VEHICLE_STATE[r.status],
        }
        for r in records
    ]
    return {"idNumber": id_number, "matched": bool(vehicles), "vehicles": vehicles}


def property_(id_number: str, records: Sequence[PropertyRecord]) -> Json:
    rights = [
        {
            "unitNo": r.record_id.split("/")[0],
            "holderSeq": int(r.record_id.split("/")[1]),
            "certNo": r.certificate_number,
            "location": r.address,
            "purpose": _USAGE[r.usage],
            "areaSqm": hundredths(r.floor_area_dm2),
            "sharePct": r.share_percent,
            "registerDate": r.registered_on.isoformat(),
        }
        for r in records
    ]
    return {"holderIdNo": id_number, "hasRecord": bool(rights), "rights": rights}


def funeral(id_number: str, records: Sequence[DeathRecord]) -> Json:
    if not records:
        return {"id_number": id_number, "deceased": False}
    r = records[0]
    death = {
        "cert_no": r.record_id,
        "death_date": r.date_of_death.isoformat(),
        "place": r.place,
        "cremation": "Y" if r.cremated else "N",
    }
    return {"id_number": id_number, "deceased": True, "death": death}


def fund(id_number: str, records: Sequence[HousingFundAccount]) -> Json:
    accounts = [
        {
            "grzh": r.record_id,
            "dwmc": r.employer,
            "jcjs": hundredths(r.deposit_base_fen),
            "yjce": hundredths(r.monthly_deposit_fen),
            "zhye": hundredths(r.balance_fen),
            "zhzt": _FUND_STATUS[r.status],
        }
        for r in records
    ]
    return {"zjhm": id_number, "cxjg": "1" if accounts else "0", "zhxx": accounts}


def bank(id_number: str, records: Sequence[BankAccount]) -> Json:
    accounts = [
        {
            "bankName": r.bank,
            "accountNo": r.record_id,
            "productType": _PRODUCT[r.account_type],
            "balance": hundredths(r.balance_fen),
            "currency": "CNY",
            "balanceDate": r.balance_date.isoformat(),
        }
        for r in records
    ]
    return {"idNo": id_number, "found": bool(accounts), "accounts": accounts}
