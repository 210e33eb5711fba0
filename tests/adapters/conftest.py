"""Fixtures for adapter tests: one department simulator per test module, over real loopback HTTP.

Tests that use ``sim`` run on the module's event loop (``pytestmark`` with ``loop_scope="module"``);
faults are switched off before every test, so a test that sets one cannot leak it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from adapters.simulator import Population, Simulator, build_population, run_simulator

SEED = 7
HOUSEHOLDS = 150


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim() -> AsyncIterator[Simulator]:
    """The department simulator on a free loopback port (seed 7, 150 households)."""
    async with run_simulator(host="127.0.0.1", port=0, seed=SEED, households=HOUSEHOLDS) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    """Switch every department's fault off after each test that used the simulator."""
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset_faults()


@pytest.fixture(scope="session")
def population() -> Population:
    """The same population the simulator serves (seed 7, 150 households), built in-process."""
    return build_population(SEED, HOUSEHOLDS)
