"""End-to-end fixtures: the simulator over real HTTP, the gateway over real gRPC, on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from adapters.simulator import run_simulator
from gateway.app import Gateway
from gateway.client import Client
from gateway.config import load_settings
from gateway.logging import configure_logging
from gateway.server import RunningServer, running_server

configure_logging(json=True, level="WARNING")


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Any]:
    """The department simulator on a free loopback port (60 households, seed 7)."""
    async with run_simulator(host="127.0.0.1", port=0, seed=7, households=60) as running:
        yield running


@pytest_asyncio.fixture
async def gateway(db_url: str, sim: Any, tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway on the test database with the seven built-in adapters pointed at the simulator."""
    settings = load_settings(
        database_url=db_url, key_dir=tmp_path / "keys", sources_base_url=sim.base_url
    )
    gw = await Gateway.open(settings)
    yield gw
    await gw.close()


@pytest_asyncio.fixture
async def server(gateway: Gateway) -> AsyncIterator[RunningServer]:
    """The gateway's gRPC server on port 0."""
    async with running_server(gateway) as running:
        yield running


@pytest_asyncio.fixture
async def client(server: RunningServer) -> AsyncIterator[Client]:
    """A real grpc.aio client connected to the server."""
    async with Client(server.target, caller="e2e-test") as c:
        yield c


@pytest_asyncio.fixture
async def cases(sim: Any) -> list[dict[str, Any]]:
    """The simulator's case files (what households declared, and what was planted)."""
    async with httpx.AsyncClient(base_url=sim.base_url) as http:
        response = await http.get("/_sim/households", params={"offset": 0, "limit": 60})
        response.raise_for_status()
        data = response.json()
    return list(data["households"] if isinstance(data, dict) else data)
