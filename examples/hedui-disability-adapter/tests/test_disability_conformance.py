"""The 残联 adapter passes hedui's adapter conformance suite against the department simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from hedui_disability import DisabilityAdapter

from adapters.base import Adapter, AdapterConfig, SourceQuery
from adapters.simulator import Simulator, run_simulator
from adapters.testing import AdapterConformance, make_query


@pytest_asyncio.fixture
async def department() -> AsyncIterator[Simulator]:
    """hedui's department simulator, which serves the 残联 API too."""
    async with run_simulator(port=0, seed=7, households=30) as sim:
        yield sim


class TestDisabilityAdapter(AdapterConformance):
    """Every rule of the adapter contract."""

    @pytest_asyncio.fixture
    async def adapter(self, department: Simulator) -> AsyncIterator[Adapter]:
        made = DisabilityAdapter(AdapterConfig(name="disability", base_url=department.base_url))
        yield made
        await made.aclose()

    @pytest.fixture
    def query(self, department: Simulator) -> SourceQuery:
        disabled = [
            p.id_number for h in department.population for p in h.persons if p.disability_grade
        ]
        return make_query(*disabled[:3])
