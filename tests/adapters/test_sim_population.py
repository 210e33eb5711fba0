"""The synthetic population: deterministic, valid ID numbers, honest declarations, planted lies."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from adapters.records import BankAccount, InsuranceRecord, RegistrationRecord, VehicleRecord
from adapters.simulator import KINDS, Population, build_population, is_valid_id_number
from adapters.simulator._regions import PROVINCES, REGION_CODES, id_check_char
from adapters.simulator.casefiles import household_json
from gateway.domain import Household as DomainHousehold
from gateway.domain import Member as DomainMember


def _case_bytes(population: Population) -> bytes:
    return json.dumps([household_json(h) for h in population], ensure_ascii=False).encode()


def test_same_seed_gives_identical_case_files() -> None:
    """Two builds from one seed serialise to the same bytes."""
    assert _case_bytes(build_population(11, 80)) == _case_bytes(build_population(11, 80))


def test_other_seed_gives_other_people() -> None:
    """A different seed gives a different population."""
    assert _case_bytes(build_population(11, 20)) != _case_bytes(build_population(12, 20))


def test_household_does_not_depend_on_population_size() -> None:
    """Household i is the same whether 10 or 100 households are built."""
    assert build_population(3, 10).households[7] == build_population(3, 100).households[7]


def test_thousand_households_build_quickly() -> None:
    """1,000 households are generated in well under two seconds."""
    started = time.perf_counter()
    build_population(5, 1000)
    assert time.perf_counter() - started < 2.0


def test_check_character_matches_the_standard_example() -> None:
    """The GB 11643 example 11010519491231002X has check character X."""
    assert id_check_char("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")


def test_id_numbers_are_valid_and_match_registration(population: Population) -> None:
    """Every ID number passes the check digit and encodes the person's region, birth and gender."""
    for household in population:
        for person in household.persons:
            reg = next(r for r in person.records if isinstance(r, RegistrationRecord))
            assert is_valid_id_number(person.id_number)
            assert person.id_number[:6] == household.region_code == reg.region_code
            assert person.id_number[6:14] == reg.birth_date.strftime("%Y%m%d")
            assert int(person.id_number[16]) % 2 == (1 if reg.gender == "M" else 0)


def test_regions_are_real_county_codes(population: Population) -> None:
    """Households live in county-level GB/T 2260 codes of mainland provinces."""
    assert len(REGION_CODES) > 3000
    for household in population:
        assert household.region_code in REGION_CODES
        assert household.region_code[:2] in PROVINCES
        assert not household.region_code.endswith("00")
        assert household.address.startswith(PROVINCES[household.region_code[:2]][0])


def test_case_files_fit_the_gateway_domain(population: Population) -> None:
    """Case-file JSON builds gateway.domain Household and Member objects field for field."""
    for case in (household_json(h) for h in population):
        members = tuple(DomainMember(**m) for m in case["members"])
        DomainHousehold(
            region_code=case["region_code"], address=case["address"],
            category=case["category"], members=members,
        )  # fmt: skip


def test_honest_households_declare_what_departments_hold(population: Population) -> None:
    """Without a planted discrepancy, declarations equal the departments' records."""
    for household in (h for h in population if not h.discrepancies):
        for person, member in zip(household.persons, household.members, strict=True):
            income = sum(
                r.monthly_amount_fen for r in person.records if isinstance(r, InsuranceRecord)
            )
            deposits = sum(r.balance_fen for r in person.records if isinstance(r, BankAccount))
            cars = sum(1 for r in person.records if isinstance(r, VehicleRecord))
            assert (member.declared_monthly_income_fen, member.declared_deposits_fen) == (
                income,
                deposits,
            )
            assert member.declared_vehicles == cars


def test_every_kind_of_discrepancy_is_planted() -> None:
    """A population of 300 households has at least one discrepancy of each kind."""
    planted = {d.kind for h in build_population(7, 300) for d in h.discrepancies}
    assert planted == set(KINDS)


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_discrepancy_rate_is_respected(rate: float) -> None:
    """Rate 0 plants nothing; rate 1 plants one discrepancy in every household."""
    households = build_population(7, 40, discrepancy_rate=rate).households
    assert [len(h.discrepancies) for h in households] == [int(rate)] * 40


def test_unregistered_member_has_valid_id_but_no_records(population: Population) -> None:
    """A phantom member's ID passes the check digit yet no department knows them."""
    phantoms = [d for h in population for d in h.discrepancies if d.kind == "unregistered_member"]
    assert phantoms
    for found in phantoms:
        assert is_valid_id_number(found.id_number)
        assert population.person(found.id_number) is None


def test_deceased_member_is_dead_in_registration(population: Population) -> None:
    """A member planted as deceased has a death record and registration status 'deceased'."""
    dead = [d for h in population for d in h.discrepancies if d.kind == "deceased_member_listed"]
    assert dead
    for found in dead:
        records = population.records_of(found.id_number)
        assert {r.record_id for r in records} >= {found.record_id}
        reg = next(r for r in records if isinstance(r, RegistrationRecord))
        assert dataclasses.replace(reg, status="active") != reg
