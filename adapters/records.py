"""Typed records that data sources return: one frozen dataclass per kind of fact.

Money is always an integer number of fen (分, 1/100 yuan) so that arithmetic and JSON are exact.
Dates are ``datetime.date``; every record names the resident ID number it concerns
(``subject_id``) and the department's own record id (``record_id``) so a report can cite it.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, ClassVar

__all__ = [
    "RECORD_TYPES",
    "BankAccount",
    "DeathRecord",
    "DisabilityRecord",
    "HousingFundAccount",
    "InsuranceRecord",
    "PropertyRecord",
    "Record",
    "RegistrationRecord",
    "VehicleRecord",
    "record_from_dict",
    "record_to_dict",
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """Common part of every record: which person, which department record."""

    kind: ClassVar[str] = "record"
    record_id: str
    subject_id: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationRecord(Record):
    """A person as household registration (户籍) knows them."""

    kind: ClassVar[str] = "registration"
    name: str
    gender: str  # "M" | "F"
    birth_date: date
    household_number: str  # 户号
    relation_to_head: str
    region_code: str
    status: str  # "active" | "deceased" | "moved_out"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InsuranceRecord(Record):
    """A social-insurance contribution or benefit (社会保险)."""

    kind: ClassVar[str] = "insurance"
    scheme: str  # "employee_pension" | "resident_pension" | "unemployment" | "medical"
    role: str  # "contribution" (wage base, by employer) | "benefit" (paid to the person)
    monthly_amount_fen: int
    employer: str
    since: date
    status: str  # "active" | "suspended" | "ended"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VehicleRecord(Record):
    """A motor vehicle registered to the person (机动车辆)."""

    kind: ClassVar[str] = "vehicle"
    plate: str
    vehicle_type: str  # "car" | "motorcycle" | "truck" | "tricycle"
    brand: str
    registered_on: date
    purchase_price_fen: int
    status: str  # "registered" | "scrapped" | "transferred"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PropertyRecord(Record):
    """A registered dwelling or other real estate (房屋登记)."""

    kind: ClassVar[str] = "property"
    certificate_number: str
    address: str
    usage: str  # "residential" | "commercial" | "other"
    floor_area_dm2: int  # square decimetres (1 m² = 100 dm²), exact
    share_percent: int
    registered_on: date


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeathRecord(Record):
    """A death or cremation record (殡葬)."""

    kind: ClassVar[str] = "death"
    date_of_death: date
    place: str
    cremated: bool


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HousingFundAccount(Record):
    """A housing provident fund account (住房公积金)."""

    kind: ClassVar[str] = "housing_fund"
    employer: str
    deposit_base_fen: int  # monthly wage base the deposits are computed from
    monthly_deposit_fen: int
    balance_fen: int
    status: str  # "active" | "sealed" | "closed"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BankAccount(Record):
    """A deposit account at a bank (银行存款)."""

    kind: ClassVar[str] = "bank_account"
    bank: str
    account_type: str  # "demand" | "time" | "wealth_management"
    balance_fen: int
    balance_date: date


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DisabilityRecord(Record):
    """A disability certificate (残疾人证) held by the disabled persons' federation (残联)."""

    kind: ClassVar[str] = "disability"
    certificate_number: str  # 残疾人证号: the ID number, the type digit and the grade digit
    disability_type: str  # "visual" | "hearing" | "speech" | "physical" | "intellectual" | …
    grade: int  # 1 (most severe) … 4 (GB/T 26341-2010)
    issued_on: date
    status: str  # "valid" | "revoked"


RECORD_TYPES: dict[str, type[Record]] = {
    cls.kind: cls
    for cls in (
        RegistrationRecord,
        InsuranceRecord,
        VehicleRecord,
        PropertyRecord,
        DeathRecord,
        HousingFundAccount,
        BankAccount,
        DisabilityRecord,
    )
}


def record_to_dict(record: Record) -> dict[str, Any]:
    """Plain JSON-ready dict of a record, with ``kind`` first and dates as ISO strings."""
    out: dict[str, Any] = {"kind": record.kind}
    for name in _layout(type(record)).names:
        value = getattr(record, name)
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


def record_from_dict(data: dict[str, Any]) -> Record:
    """Inverse of :func:`record_to_dict`; raises ``ValueError`` naming the offending key."""
    kind = data.get("kind")
    cls = RECORD_TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown record kind {kind!r}")
    kwargs: dict[str, Any] = {}
    for name, is_date in _layout(cls).fields:
        if name not in data:
            raise ValueError(f"{kind} record: missing field {name!r}")
        value = data[name]
        kwargs[name] = date.fromisoformat(value) if is_date else value
    return cls(**kwargs)


@dataclasses.dataclass(frozen=True, slots=True)
class _Layout:
    """A record type's fields in order, and which of them are dates (read once per type)."""

    names: tuple[str, ...]
    fields: tuple[tuple[str, bool], ...]  # (name, is a date)


_LAYOUTS: dict[type[Record], _Layout] = {}


def _layout(cls: type[Record]) -> _Layout:
    """``dataclasses.fields`` of ``cls``, read once: reflecting per record cost about as much
    as building the record (``RegistrationRecord``: ``record_from_dict`` 4.7 → 3.2 µs,
    ``record_to_dict`` 2.7 → 1.8 µs of CPU, ``time.process_time`` loops)."""
    if (layout := _LAYOUTS.get(cls)) is None:
        fields = tuple((f.name, f.type in ("date", date)) for f in dataclasses.fields(cls))
        layout = _LAYOUTS[cls] = _Layout(tuple(name for name, _ in fields), fields)
    return layout
