"""The sources' time is counted from the call's arrival: a slow accept comes out of it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.simulator import build_population
from adapters.simulator.casefiles import household_json
from adapters.testing import fake_adapters
from audit.keys import Ed25519Signer
from gateway.api import convert
from gateway.client import request_from_case
from gateway.pipeline import Pipeline

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ACCEPT_S = 0.3


class _SlowAcceptStore:
    """Accepts after ``ACCEPT_S`` (a commit waiting on the write lock); stores nothing."""

    async def accept(self, row: dict[str, Any], entry: bytes) -> int:
        await asyncio.sleep(ACCEPT_S)
        return 1

    async def complete(self, *args: Any) -> int:
        return 2


@pytest.mark.asyncio
async def test_a_slow_accept_shortens_the_time_the_sources_get() -> None:
    """With 1 s to go and 0.3 s spent accepting, each source is asked with at most 0.7 s."""
    population = build_population(7, 20)
    sources = [a for a in fake_adapters(population.all_records()) if a.name == "hukou"]
    pipe = Pipeline(
        store=_SlowAcceptStore(),  # type: ignore[arg-type]
        adapters=sources,
        signer=Ed25519Signer(Ed25519PrivateKey.generate()),
        salt=b"s" * 32,
        clock=lambda: NOW,
    )
    case = household_json(population.households[0])
    message = request_from_case(case, today=NOW.date(), request_id="deadline-1")
    request, violations = convert.request_from_proto(message, NOW.date(), "test")
    assert not violations
    await pipe.submit(request, timeout_s=1.0)
    (query,) = sources[0].calls
    assert 0.5 < query.timeout_s <= 1.0 - ACCEPT_S
