"""Case files: what each household declared, and the discrepancies planted in a fraction of them.

A declaration is computed from the truth (so an honest household declares exactly what the
departments hold); then, for a deterministic fraction of households, *one* discrepancy is planted
by changing the truth behind the declaration's back:

=========================  =====================  ==========================================
kind                       department that shows   what was done
=========================  =====================  ==========================================
undeclared_vehicle         vehicle                 a passenger car registered to a member
underdeclared_income       social_insurance        a wage contribution base not declared
underdeclared_deposits     bank                    a large time deposit not declared
undeclared_property        property                a second (commercial) property
deceased_member_listed     funeral                 a listed member died (户籍 status deceased)
unregistered_member        household_registration  a listed member unknown to 户籍 (valid ID)
=========================  =====================  ==========================================

``GET /_sim/households`` serves :func:`household_json`: field names match ``gateway.domain``
(``Household``: region_code, address, category, members; ``Member``: id_number, name, relation,
disability_grade, seriously_ill, declared_monthly_income_fen, declared_deposits_fen,
declared_vehicles, declared_properties) plus ``index``, ``household_number`` and ``discrepancies``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from adapters.records import (
    BankAccount,
    DeathRecord,
    InsuranceRecord,
    PropertyRecord,
    Record,
    RegistrationRecord,
    VehicleRecord,
)
from adapters.simulator._facts import PersonFacts, bank_account, car, dwelling, job
from adapters.simulator._regions import birth_date_for, make_id_number

if TYPE_CHECKING:
    from adapters.simulator.population import Household, Person

__all__ = ["KINDS", "DeclaredMember", "Discrepancy", "declare", "household_json", "plant"]

KINDS = (
    "undeclared_vehicle",
    "underdeclared_income",
    "underdeclared_deposits",
    "undeclared_property",
    "deceased_member_listed",
    "unregistered_member",
)


@dataclasses.dataclass(frozen=True, slots=True)
class DeclaredMember:
    """A member as the household declared them (the fields of ``gateway.domain.Member``)."""

    id_number: str
    name: str
    relation: str
    disability_grade: int
    seriously_ill: bool
    declared_monthly_income_fen: int
    declared_deposits_fen: int
    declared_vehicles: int
    declared_properties: int


@dataclasses.dataclass(frozen=True, slots=True)
class Discrepancy:
    """A planted difference between the case file and a department's records."""

    kind: str
    id_number: str
    department: str  # the SourceCategory value of the department whose answer shows it
    record_id: str  # the department record that shows it ("" when it is an absence)
    detail: str


def declare(persons: Sequence[Person]) -> list[DeclaredMember]:
    """An honest declaration: income, deposits, vehicles and properties as the records say."""
    return [_declared(p) for p in persons]


def _declared(p: Person) -> DeclaredMember:
    """One member's honest declaration."""
    income = sum(
        r.monthly_amount_fen
        for r in p.records
        if isinstance(r, InsuranceRecord) and r.status == "active"
    )
    return DeclaredMember(
        p.id_number,
        p.name,
        p.relation,
        p.disability_grade,
        p.seriously_ill,
        income,
        sum(r.balance_fen for r in p.records if isinstance(r, BankAccount)),
        sum(1 for r in p.records if isinstance(r, VehicleRecord) and r.status == "registered"),
        sum(1 for r in p.records if isinstance(r, PropertyRecord)),
    )


Planted = tuple[list["Person"], list[DeclaredMember], tuple[Discrepancy, ...]]


def plant(facts: PersonFacts, persons: list[Person], members: list[DeclaredMember]) -> Planted:
    """Plant one discrepancy of a kind drawn from ``facts.rng``; returns the changed household."""
    kind = facts.rng.choice(KINDS)
    if kind == "deceased_member_listed" and len(persons) == 1:
        kind = "undeclared_vehicle"
    if kind == "unregistered_member":
        phantom, found = _phantom(facts, persons)
        return persons, [*members, phantom], (found,)
    candidates = (
        [p for p in persons if p.relation != "self"]
        if kind.startswith("deceased")
        else [p for p in persons if (facts.reference - p.birth_date).days >= 18 * 365]
    )
    person = facts.rng.choice(candidates)
    changed, found = _CHANGES[kind](facts, person)
    return [changed if p is person else p for p in persons], members, (found,)


def _add(person: Person, record: Record) -> Person:
    """``person`` with one more record."""
    return dataclasses.replace(person, records=(*person.records, record))


def _vehicle(facts: PersonFacts, person: Person) -> tuple[Person, Discrepancy]:
    record = car(facts, person.id_number, small=False)
    detail = f"car {record.brand} {record.plate} registered, not declared"
    return _add(person, record), Discrepancy(
        "undeclared_vehicle", person.id_number, "vehicle", record.record_id, detail
    )


def _income(facts: PersonFacts, person: Person) -> tuple[Person, Discrepancy]:
    record = job(facts, person.id_number, facts.rng.randrange(400_000, 900_000, 1_000))
    detail = f"wage base {record.monthly_amount_fen} fen/month at {record.employer}, not declared"
    return _add(person, record), Discrepancy(
        "underdeclared_income", person.id_number, "social_insurance", record.record_id, detail
    )


def _deposits(facts: PersonFacts, person: Person) -> tuple[Person, Discrepancy]:
    record = bank_account(
        facts, person.id_number, "time", facts.rng.randrange(8_000_000, 30_000_000, 100)
    )
    detail = f"time deposit of {record.balance_fen} fen at {record.bank}, not declared"
    return _add(person, record), Discrepancy(
        "underdeclared_deposits", person.id_number, "bank", record.record_id, detail
    )


def _property(facts: PersonFacts, person: Person) -> tuple[Person, Discrepancy]:
    record = dataclasses.replace(dwelling(facts, person.id_number, 100), usage="commercial")
    detail = f"commercial property {record.certificate_number}, not declared"
    return _add(person, record), Discrepancy(
        "undeclared_property", person.id_number, "property", record.record_id, detail
    )


def _deceased(facts: PersonFacts, person: Person) -> tuple[Person, Discrepancy]:
    died = facts.days_ago(60, 500)
    record = DeathRecord(
        record_id=facts.record_id("SW"),
        subject_id=person.id_number,
        date_of_death=died,
        place=facts.rng.choice(("家中", "县人民医院", "市中心医院")),
        cremated=facts.rng.random() < 0.9,
    )
    records = tuple(
        dataclasses.replace(r, status="deceased") if isinstance(r, RegistrationRecord) else r
        for r in person.records
    )
    detail = f"died on {died.isoformat()}, still listed as a member"
    changed = dataclasses.replace(person, records=(*records, record))
    return changed, Discrepancy(
        "deceased_member_listed", person.id_number, "funeral", record.record_id, detail
    )


_CHANGES: dict[str, Callable[[PersonFacts, Person], tuple[Person, Discrepancy]]] = {
    "undeclared_vehicle": _vehicle,
    "underdeclared_income": _income,
    "underdeclared_deposits": _deposits,
    "undeclared_property": _property,
    "deceased_member_listed": _deceased,
}


def _phantom(facts: PersonFacts, persons: Sequence[Person]) -> tuple[DeclaredMember, Discrepancy]:
    """A child with a valid ID number of the household's region whom 户籍 does not know."""
    gender = facts.rng.choice("MF")
    born = birth_date_for(facts.rng, facts.rng.randrange(1, 17), facts.reference)
    id_number = make_id_number(facts.rng, facts.region, born, gender)
    given = facts.fake.first_name_male() if gender == "M" else facts.fake.first_name_female()
    name = persons[0].name[0] + str(given)
    member = DeclaredMember(id_number, name, "child", 0, False, 0, 0, 0, 0)
    detail = "listed member unknown to household registration"
    return member, Discrepancy(
        "unregistered_member", id_number, "household_registration", "", detail
    )


def household_json(household: Household) -> dict[str, Any]:
    """The case file as served by ``GET /_sim/households`` (see the module docstring)."""
    return {
        "index": household.index,
        "household_number": household.household_number,
        "region_code": household.region_code,
        "address": household.address,
        "category": household.category,
        "members": [dataclasses.asdict(m) for m in household.members],
        "discrepancies": [dataclasses.asdict(d) for d in household.discrepancies],
    }
