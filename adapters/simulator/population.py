"""A synthetic population of households receiving (or applying for) social assistance.

Deterministic: ``build_population(seed=7, households=1000)`` gives the same people, records and
case files on every machine and every day (all randomness comes from RNGs seeded with the seed
and the household index; dates count back from a fixed ``reference_date``, not from today).

Each :class:`Household` has

* ``persons`` — the truth: each :class:`Person` carries the :mod:`adapters.records` that the seven
  departments hold about them (a person with no ``RegistrationRecord`` is unknown to 户籍);
* ``members`` — the case file, what the family *declared* (:class:`DeclaredMember`, the same fields
  as ``gateway.domain.Member``), truthful except for the planted ``discrepancies``
  (see :mod:`adapters.simulator.casefiles`).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from datetime import date

from faker import Faker

from adapters.records import Record, RegistrationRecord
from adapters.simulator import casefiles
from adapters.simulator._disability import certificates
from adapters.simulator._facts import PersonFacts, dwelling, facts_for
from adapters.simulator._regions import REGION_CODES, address_for, birth_date_for, make_id_number
from adapters.simulator.casefiles import DeclaredMember, Discrepancy

__all__ = ["DEFAULT_REFERENCE_DATE", "Household", "Person", "Population", "build_population"]

DEFAULT_REFERENCE_DATE = date(2025, 6, 30)
_CATEGORIES = ("DIBAO", "TEKUN", "DIBAO_MARGINAL", "LOW_INCOME", "APPLICANT")
_CATEGORY_WEIGHTS = (40, 10, 15, 15, 20)
_P_JOB = {"DIBAO": 0.3, "TEKUN": 0.0, "DIBAO_MARGINAL": 0.5, "LOW_INCOME": 0.6, "APPLICANT": 0.5}


@dataclasses.dataclass(frozen=True, slots=True)
class Person:
    """One person and every department record about them."""

    id_number: str
    name: str
    relation: str  # to the applicant: "self" | "spouse" | "child" | "parent"
    gender: str
    birth_date: date
    disability_grade: int
    seriously_ill: bool
    records: tuple[Record, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Household:
    """The truth about a household, what it declared, and the discrepancies planted between them."""

    index: int
    household_number: str  # 户号
    region_code: str
    address: str
    category: str
    persons: tuple[Person, ...]
    members: tuple[DeclaredMember, ...]
    discrepancies: tuple[Discrepancy, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _Sketch:
    """Who a person is before their records are drawn."""

    relation: str
    gender: str
    age: int
    surname: str


class Population:
    """All households, with an index of persons by resident ID number."""

    def __init__(self, seed: int, reference_date: date, households: tuple[Household, ...]) -> None:
        self.seed = seed
        self.reference_date = reference_date
        self.households = households
        self._persons = {p.id_number: p for h in households for p in h.persons}
        if len(self._persons) != sum(len(h.persons) for h in households):
            raise ValueError(f"seed {seed}: two generated persons share an ID number")

    def __len__(self) -> int:
        return len(self.households)

    def __iter__(self) -> Iterator[Household]:
        return iter(self.households)

    def person(self, id_number: str) -> Person | None:
        """The person with this ID number, or None when no department knows them."""
        return self._persons.get(id_number)

    def all_records(self) -> list[Record]:
        """Every record of every person (e.g. to feed ``adapters.testing.fake_adapters``)."""
        return [r for h in self.households for p in h.persons for r in p.records]

    def records_of(self, id_number: str) -> tuple[Record, ...]:
        """Every department record about the person (empty when unknown)."""
        person = self._persons.get(id_number)
        return person.records if person else ()


def build_population(
    seed: int = 7,
    households: int = 200,
    *,
    reference_date: date = DEFAULT_REFERENCE_DATE,
    discrepancy_rate: float = 0.25,
    regions: tuple[str, ...] = (),
) -> Population:
    """Generate ``households`` households deterministically from ``seed``.

    ``regions`` restricts households to region codes starting with one of the given prefixes
    (e.g. ``("61", "64")`` for Shaanxi and Ningxia); empty means all of China.
    """
    fake = Faker("zh_CN")
    codes = _region_codes(regions)
    built = tuple(
        _household(fake, seed, i, reference_date, discrepancy_rate, codes)
        for i in range(households)
    )
    return Population(seed, reference_date, built)


def _region_codes(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """The county codes under ``prefixes`` (all when empty); ValueError when none match."""
    codes = tuple(c for c in REGION_CODES if not prefixes or c.startswith(prefixes))
    if not codes:
        raise ValueError(f"no region code starts with any of {prefixes}")
    return codes


def _household(
    fake: Faker, seed: int, index: int, reference: date, rate: float, codes: tuple[str, ...]
) -> Household:
    """Household ``index``: its own RNG stream, so it does not depend on the others."""
    fake.seed_instance(f"hedui-sim:{seed}:{index}")
    rng: random.Random = fake.random
    region = rng.choice(codes)
    category = rng.choices(_CATEGORIES, _CATEGORY_WEIGHTS)[0]
    number = f"{rng.randrange(10**9):09d}"
    facts = PersonFacts(rng, fake, region, reference)
    persons = [_person(facts, s, number, category) for s in _compose(rng, fake, category)]
    _add_dwelling(facts, persons)
    members = casefiles.declare(persons)
    found: tuple[Discrepancy, ...] = ()
    if rng.random() < rate:
        persons, members, found = casefiles.plant(facts, persons, members)
    return Household(
        index=index,
        household_number=number,
        region_code=region,
        address=address_for(rng, region),
        category=category,
        persons=tuple(persons),
        members=tuple(members),
        discrepancies=found,
    )


def _compose(rng: random.Random, fake: Faker, category: str) -> list[_Sketch]:
    """Relations, genders and ages: 特困 alone; others a couple with children and elders."""
    surname, other = str(fake.last_name()), str(fake.last_name())
    age = rng.randrange(60, 90) if category == "TEKUN" else rng.randrange(25, 70)
    head = _Sketch("self", rng.choice("MF"), age, surname)
    if category == "TEKUN":
        return [head]
    out = [head]
    if rng.random() < 0.7:
        spouse_age = max(20, head.age + rng.randrange(-5, 6))
        out.append(_Sketch("spouse", "F" if head.gender == "M" else "M", spouse_age, other))
    family = surname if head.gender == "M" or len(out) == 1 else other
    oldest = max(1, min(30, head.age - 20))
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        out.append(_Sketch("child", rng.choice("MF"), rng.randrange(0, oldest), family))
    if head.age < 60 and rng.random() < 0.25:
        gender = rng.choice("MF")
        name = surname if gender == "M" else other
        out.append(_Sketch("parent", gender, head.age + rng.randrange(22, 30), name))
    return out


def _person(facts: PersonFacts, sketch: _Sketch, household_number: str, category: str) -> Person:
    """A person with their registration and their income and asset records."""
    rng, fake = facts.rng, facts.fake
    given = fake.first_name_male() if sketch.gender == "M" else fake.first_name_female()
    born = birth_date_for(rng, sketch.age, facts.reference)
    id_number = make_id_number(rng, facts.region, born, sketch.gender)
    grade = rng.randrange(1, 5) if rng.random() < 0.1 else 0
    ill = rng.random() < 0.05
    registration = RegistrationRecord(
        record_id=facts.record_id("RK"),
        subject_id=id_number,
        name=sketch.surname + str(given),
        gender=sketch.gender,
        birth_date=born,
        household_number=household_number,
        relation_to_head=sketch.relation,
        region_code=facts.region,
        status="active",
    )
    able = grade not in (1, 2) and not ill
    records = facts_for(facts, id_number, sketch.age, able, _P_JOB[category])
    return Person(
        id_number,
        registration.name,
        sketch.relation,
        sketch.gender,
        born,
        grade,
        ill,
        (registration, *records, *certificates(id_number, grade, facts.reference)),
    )


def _add_dwelling(facts: PersonFacts, persons: list[Person]) -> None:
    """Most households own the flat they live in: the head alone, or half each with the spouse."""
    if facts.rng.random() >= 0.65:
        return
    owners = [p for p in persons if p.relation in ("self", "spouse")]
    if facts.rng.random() < 0.5:
        owners = owners[:1]
    deed = dwelling(facts, owners[0].id_number, 100 // len(owners))
    unit = deed.record_id.split("/")[0]
    for n, owner in enumerate(owners, start=1):
        share = dataclasses.replace(deed, record_id=f"{unit}/{n}", subject_id=owner.id_number)
        persons[persons.index(owner)] = dataclasses.replace(owner, records=(*owner.records, share))
