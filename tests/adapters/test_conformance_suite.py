"""adapters.testing.AdapterConformance: the shipped suite, run against the fake, every built-in
adapter (over the simulator's real HTTP) and a guarded adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from adapters.base import Adapter, AdapterConfig, SourceCategory, SourceQuery
from adapters.builtin import (
    BankAdapter,
    FuneralAdapter,
    HousingFundAdapter,
    HukouAdapter,
    PropertyAdapter,
    SocialInsuranceAdapter,
    VehicleAdapter,
)
from adapters.resilience import ResilientAdapter
from adapters.simulator import Population, Simulator, build_population, run_simulator
from adapters.testing import AdapterConformance, FakeAdapter, make_query

HOUSEHOLDS = 30
BUILTINS: dict[str, type[Any]] = {
    "hukou": HukouAdapter,
    "social_insurance": SocialInsuranceAdapter,
    "vehicle": VehicleAdapter,
    "property": PropertyAdapter,
    "funeral": FuneralAdapter,
    "housing_fund": HousingFundAdapter,
    "bank": BankAdapter,
}


@pytest.fixture(scope="module")
def small_population() -> Population:
    """The population a 30-household simulator serves (seed 7)."""
    return build_population(7, HOUSEHOLDS)


@pytest_asyncio.fixture
async def small_sim() -> AsyncIterator[Simulator]:
    """A small simulator on the test's own event loop."""
    async with run_simulator(port=0, seed=7, households=HOUSEHOLDS) as running:
        yield running


def ids_with(population: Population, category: SourceCategory) -> list[str]:
    """ID numbers of people some of whose records this category's department holds."""
    kinds = {
        SourceCategory.HOUSEHOLD_REGISTRATION: "registration",
        SourceCategory.SOCIAL_INSURANCE: "insurance",
        SourceCategory.VEHICLE: "vehicle",
        SourceCategory.PROPERTY: "property",
        SourceCategory.FUNERAL: "death",
        SourceCategory.HOUSING_FUND: "housing_fund",
        SourceCategory.BANK: "bank_account",
    }
    kind = kinds[category]
    return sorted({r.subject_id for r in population.all_records() if r.kind == kind})[:3]


class TestFakeAdapter(AdapterConformance):
    """The in-process fake meets the contract it stands in for."""

    @pytest.fixture
    def adapter(self, small_population: Population) -> Adapter:
        records = [r for r in small_population.all_records() if r.kind == "death"]
        return FakeAdapter("funeral", SourceCategory.FUNERAL, records, department="民政殡葬")

    @pytest.fixture
    def query(self, small_population: Population) -> SourceQuery:
        return make_query(*ids_with(small_population, SourceCategory.FUNERAL))


@pytest.mark.parametrize("name", sorted(BUILTINS))
class TestBuiltinAdapters(AdapterConformance):
    """Every built-in adapter meets the contract against the simulator."""

    @pytest_asyncio.fixture
    async def adapter(self, small_sim: Simulator, name: str) -> AsyncIterator[Adapter]:
        made = BUILTINS[name](AdapterConfig(name=name, base_url=small_sim.base_url))
        yield made
        await made.aclose()

    @pytest.fixture
    def query(self, small_population: Population, adapter: Adapter) -> SourceQuery:
        return make_query(*ids_with(small_population, adapter.category))


class TestGuardedAdapter(AdapterConformance):
    """An adapter behind the resilience layer is still an adapter."""

    @pytest_asyncio.fixture
    async def adapter(self, small_sim: Simulator) -> AsyncIterator[Adapter]:
        made = ResilientAdapter(
            VehicleAdapter(AdapterConfig(name="vehicle", base_url=small_sim.base_url))
        )
        yield made
        await made.aclose()

    @pytest.fixture
    def query(self, small_population: Population) -> SourceQuery:
        return make_query(*ids_with(small_population, SourceCategory.VEHICLE))
